import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "@tanstack/react-router";
import { useTranslation } from "react-i18next";
import { listParticipants, nextSteps, readCase } from "../client/sdk.gen";
import { unwrap } from "../lib/api";
import { Actions } from "./Actions";
import { AddParticipant } from "./AddParticipant";
import { DpjPanel } from "./DpjPanel";
import { HOLD_ROLES, LegalHolds } from "./LegalHolds";
import { PolicePanel } from "./PolicePanel";
import { ProblemView } from "./Problem";
import { landing } from "../lib/landing";
import { sessionQuery } from "../lib/session";
import { StatusMachine } from "./StatusMachine";

export function CasePage() {
  const { t } = useTranslation();
  const { caseId } = useParams({ strict: false }) as { caseId: string };
  const path = { case_id: caseId };
  const session = useQuery(sessionQuery);
  const role = session.data?.me.role;
  const school = role === "school_staff" || role === "school_lead";
  const theCase = useQuery({ queryKey: ["case", caseId], queryFn: () => unwrap(readCase({ path })) });
  const steps = useQuery({ queryKey: ["case", caseId, "next-steps"], queryFn: () => unwrap(nextSteps({ path })) });
  const people = useQuery({
    queryKey: ["case", caseId, "participants"],
    queryFn: () => unwrap(listParticipants({ path, query: { limit: 100 } })),
  });

  if (theCase.isError) {
    return (
      <section>
        <p>
          <Link to={landing(role)}>{t("case.back")}</Link>
        </p>
        <ProblemView error={theCase.error} onRetry={() => void theCase.refetch()} />
      </section>
    );
  }
  if (!theCase.data) return <p aria-live="polite">{t("loading")}</p>;
  const c = theCase.data;
  return (
    <article className="case">
      <p>
        <Link to={landing(role)}>{t("case.back")}</Link>
      </p>
      <h1>{t("case.title", { reference: c.reference })}</h1>
      <section aria-labelledby="machine">
        <h2 id="machine">{t("case.machine")}</h2>
        <StatusMachine status={c.status} />
      </section>
      {role === "police_liaison" && <PolicePanel theCase={c} />}
      {role === "dpj_reporter" && <DpjPanel caseId={caseId} />}
      {role && HOLD_ROLES.includes(role) && <LegalHolds caseId={caseId} role={role} />}
      <section aria-labelledby="flags">
        <h2 id="flags">{t("case.flags")}</h2>
        {c.flags.length === 0 ? (
          <p>{t("cases.noFlags")}</p>
        ) : (
          <ul className="flags">
            {c.flags.map((f) => (
              <li key={f}>{t(`flag.${f}`)}</li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="steps">
        <h2 id="steps">{t("case.steps")}</h2>
        {steps.isError && <ProblemView error={steps.error} />}
        {steps.data && (
          <ol className="checklist">
            {steps.data.steps.map((s) => (
              <li key={`${s.code}-${s.subject ?? ""}`} className={s.done ? "done" : "todo"}>
                <span className="tick">{s.done ? "✔" : "○"}</span> {s.detail}{" "}
                <span className="visually-hidden">({s.done ? t("case.done") : t("case.todo")})</span>
              </li>
            ))}
          </ol>
        )}
      </section>
      <section aria-labelledby="actions">
        <h2 id="actions">{t("case.actions")}</h2>
        {steps.data && <Actions caseId={caseId} options={steps.data.transitions} />}
      </section>
      <section aria-labelledby="people">
        <h2 id="people">{t("case.participants")}</h2>
        {people.isError && <ProblemView error={people.error} />}
        {people.data && people.data.items.length === 0 && <p>{t("case.noParticipants")}</p>}
        {people.data && people.data.items.length > 0 && (
          <ul className="people">
            {people.data.items.map((p) => (
              <li key={p.id}>
                <strong>{p.label}</strong> {p.name ? `— ${p.name}` : <em>({t("case.nameHidden")})</em>}
              </li>
            ))}
          </ul>
        )}
        {school && steps.data?.status !== "closed" && <AddParticipant caseId={caseId} />}
        {school && (
          <p>
            <Link to="/cases/$caseId/grid" params={{ caseId }} className="button-link">
              {t("grid.link")}
            </Link>
          </p>
        )}
      </section>
      <p className="media-note">{t("case.media")}</p>
    </article>
  );
}
