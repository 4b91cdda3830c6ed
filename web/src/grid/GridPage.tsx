// The evaluation grid of a case, completed with one person: drawn from the
// current template, submitted as is; the flags it raised are shown after.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "@tanstack/react-router";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { currentTemplate, listParticipants, submitGrid } from "../client/sdk.gen";
import type { GridSubmissionOut } from "../client/types.gen";
import { unwrap } from "../lib/api";
import { ProblemView } from "../routes/Problem";
import { GridForm } from "./GridForm";
import { gridModel } from "./model";

export function GridPage() {
  const { t, i18n } = useTranslation();
  const { caseId } = useParams({ strict: false }) as { caseId: string };
  const queryClient = useQueryClient();
  const template = useQuery({ queryKey: ["grid-template", "current"], queryFn: () => unwrap(currentTemplate()) });
  const people = useQuery({
    queryKey: ["case", caseId, "participants"],
    queryFn: () => unwrap(listParticipants({ path: { case_id: caseId }, query: { limit: 100 } })),
  });
  const [participant, setParticipant] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<GridSubmissionOut | null>(null);

  if (template.isError) return <ProblemView error={template.error} onRetry={() => void template.refetch()} />;
  if (!template.data || !people.data) return <p aria-live="polite">{t("loading")}</p>;
  const model = gridModel(template.data, i18n.language);
  const current = people.data.items.filter((p) => !p.superseded);

  async function submit(answers: Record<string, Record<string, unknown>>) {
    setError(null);
    try {
      const body = { participant_id: participant || current[0].id, template_version: model.version, answers };
      setDone(await unwrap(submitGrid({ path: { case_id: caseId }, body })));
      await queryClient.invalidateQueries({ queryKey: ["case", caseId] });
      window.scrollTo(0, 0);
    } catch (problem) {
      setError(problem);
      window.scrollTo(0, 0);
    }
  }

  return (
    <section>
      <p>
        <Link to="/cases/$caseId" params={{ caseId }}>
          {t("case.back")}
        </Link>
      </p>
      <h1>{model.title}</h1>
      <p>{model.description}</p>
      {error !== null && <ProblemView error={error} />}
      {done && (
        <div className="done" role="status">
          <p>{t("grid.submitted")}</p>
          <ul className="flags">
            {done.flags_raised.length === 0 && <li>{t("cases.noFlags")}</li>}
            {done.flags_raised.map((f) => (
              <li key={f}>{t(`flag.${f}`)}</li>
            ))}
          </ul>
          <p className="help">{t("grid.correction")}</p>
        </div>
      )}
      {current.length === 0 ? (
        <p>{t("grid.noParticipant")}</p>
      ) : (
        <GridForm model={model} onSubmit={(answers) => void submit(answers)}>
          <label htmlFor="grid-participant">{t("grid.participant")}</label>
          <select id="grid-participant" value={participant || current[0].id} onChange={(e) => setParticipant(e.target.value)}>
            {current.map((p) => (
              <option key={p.id} value={p.id}>
                {p.label}
              </option>
            ))}
          </select>
        </GridForm>
      )}
    </section>
  );
}
