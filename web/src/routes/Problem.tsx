// A refusal shown in the person's language, from the problem document
// (its detail and the rules it names); never a stack trace, never blank.
import { useTranslation } from "react-i18next";
import { ApiProblem } from "../lib/api";

export function problemText(error: unknown, t: (key: string, options?: Record<string, unknown>) => string): string {
  if (error instanceof ApiProblem) {
    if (error.problem) return error.problem.detail;
    if (error.status === 0) return t("problem.network");
    return t("problem.unknown", { status: error.status });
  }
  return t("problem.unknown", { status: "?" });
}

export function ProblemView({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useTranslation();
  const problem = error instanceof ApiProblem ? error.problem : null;
  const fieldErrors = problem?.errors ?? [];
  return (
    <div className="problem" role="alert">
      <h2>{problem?.title ?? t("problem.title")}</h2>
      <p>{problemText(error, t)}</p>
      {fieldErrors.length > 0 && (
        <ul>
          {fieldErrors.map((e, i) => (
            <li key={i}>
              <code>{e.field}</code> : {e.detail}
            </li>
          ))}
        </ul>
      )}
      {onRetry && (
        <button type="button" onClick={onRetry}>
          {t("problem.retry")}
        </button>
      )}
    </div>
  );
}
