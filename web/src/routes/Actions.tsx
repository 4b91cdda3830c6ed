// The case's transitions: each one that is open now can be taken here; each
// refused one says the rules that refuse it, in the person's words.
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { takeTransition } from "../client/sdk.gen";
import type { TakeTransitionData, TransitionOption } from "../client/types.gen";
import { unwrap } from "../lib/api";
import { ProblemView } from "./Problem";

type Body = TakeTransitionData["body"];

function bodyOf(option: TransitionOption, form: FormData): Body {
  switch (option.action) {
    case "hand_off":
      return { action: "hand_off", police_officer: String(form.get("police_officer") ?? "") };
    case "reopen":
      return { action: "reopen", reason: String(form.get("reason") ?? "") };
    default:
      return { action: option.action } as Body;
  }
}

function Take({ caseId, option, onError }: { caseId: string; option: TransitionOption; onError: (e: unknown) => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [busy, setBusy] = useState(false);
  const id = `take-${option.action}`;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    onError(null);
    try {
      await unwrap(
        takeTransition({
          path: { case_id: caseId },
          // A retry of a lost answer is not taken twice.
          headers: { "Idempotency-Key": crypto.randomUUID() },
          body: bodyOf(option, new FormData(event.currentTarget)),
        }),
      );
      await queryClient.invalidateQueries({ queryKey: ["case", caseId] });
      await queryClient.invalidateQueries({ queryKey: ["cases"] });
    } catch (problem) {
      onError(problem);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="take" onSubmit={(e) => void submit(e)}>
      {option.action === "hand_off" && (
        <>
          <label htmlFor={`${id}-officer`}>{t("case.officer")}</label>
          <input id={`${id}-officer`} name="police_officer" required maxLength={200} autoComplete="off" />
        </>
      )}
      {option.action === "reopen" && (
        <>
          <label htmlFor={`${id}-reason`}>{t("case.reason")}</label>
          <input id={`${id}-reason`} name="reason" required maxLength={500} autoComplete="off" />
        </>
      )}
      <button type="submit" disabled={busy}>
        {t(`action.${option.action}`)}
      </button>
    </form>
  );
}

export function Actions({ caseId, options }: { caseId: string; options: TransitionOption[] }) {
  const { t } = useTranslation();
  const [error, setError] = useState<unknown>(null);
  return (
    <>
      {error !== null && <ProblemView error={error} />}
      <ul className="actions">
        {options.map((tr) => (
          <li key={tr.action} className={tr.allowed ? "allowed" : "refused"}>
            {tr.allowed ? (
              <Take caseId={caseId} option={tr} onError={setError} />
            ) : (
              <>
                <strong>{t(`action.${tr.action}`)}</strong> ({t(`status.${tr.to_status}`)}) —{" "}
                {t("case.refused", { why: tr.blockers.map((b) => b.detail).join(" ") })}
              </>
            )}
          </li>
        ))}
      </ul>
    </>
  );
}
