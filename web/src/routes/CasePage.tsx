import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "@tanstack/react-router";
import { useTranslation } from "react-i18next";
import { listParticipants, listTeam, nextSteps, readCase } from "../client/sdk.gen";
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
import { CONTACT_KINDS, type ContactKind, ContactsSection, contactsQuery } from "./school/ContactsSection";
import type { Recorder } from "./school/CustodyTimeline";
import { DevicesSection, devicesQuery } from "./school/DevicesSection";
import { HandOffStatus } from "./school/HandOffStatus";
import { NotesSection, notesQuery } from "./school/NotesSection";
import { FlagPerson, PersonFlagList } from "./school/PersonFlags";
import { TeamSection } from "./school/TeamSection";

export function CasePage() {
  const { t } = useTranslation();
  const { caseId } = useParams({ strict: false }) as { caseId: string };
  const path = { case_id: caseId };
  const session = useQuery(sessionQuery);
  const role = session.data?.me.role;
  const school = role === "school_staff" || role === "school_lead";
  const lead = role === "school_lead";
  // Handling a case needs the architect attestation; without it, staff read.
  const handles = school && session.data?.me.may_handle_cases === true;
  // Police read the devices in their panel, the DPJ the contacts in theirs
  // (the same answers, asked for here with the case); the school in its sections.
  const readsDevices = school || role === "police_liaison";
  const readsContacts = school || role === "dpj_reporter";
  const theCase = useQuery({ queryKey: ["case", caseId], queryFn: () => unwrap(readCase({ path })) });
  const steps = useQuery({ queryKey: ["case", caseId, "next-steps"], queryFn: () => unwrap(nextSteps({ path })) });
  const participants = useQuery({
    queryKey: ["case", caseId, "participants"],
    queryFn: () => unwrap(listParticipants({ path, query: { limit: 100 } })),
  });
  // Only the school reads the team and the notes (police and the DPJ get 403): not asked for them.
  const team = useQuery({
    queryKey: ["case", caseId, "team"],
    queryFn: () => unwrap(listTeam({ path, query: { limit: 100 } })),
    enabled: school,
  });
  // Asked for at once with the case, not once it is shown; each only of the
  // roles that read it (the sections read the same answers).
  useQuery({ ...devicesQuery(caseId), enabled: readsDevices });
  useQuery({ ...contactsQuery(caseId), enabled: readsContacts });
  useQuery({ ...notesQuery(caseId), enabled: school });
  const me = session.data?.me;
  const recorderOf = (userId: string): Recorder | null => {
    const member = team.data?.items.find((m) => m.user_id === userId);
    if (member) return { name: member.full_name, role: t(`school.team.roles.${member.role}`, { defaultValue: member.role }) };
    if (me && me.id === userId) return { name: me.full_name ?? t("school.custody.you"), role: null };
    return null;
  };

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
  const open = c.status !== "closed";
  const people = participants.data?.items ?? [];
  // The contacts school users record: every kind with the attestation;
  // without it, the report to the DPJ only (everyone's duty).
  const contactKinds: ContactKind[] = !open ? [] : handles ? CONTACT_KINDS : ["dpj_report"];
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
        {school && <p className="help">{t("school.closure")}</p>}
      </section>
      {school && <HandOffStatus theCase={c} />}
      <section aria-labelledby="people">
        <h2 id="people">{t("case.participants")}</h2>
        {participants.isError && <ProblemView error={participants.error} />}
        {participants.data && participants.data.items.length === 0 && <p>{t("case.noParticipants")}</p>}
        {participants.data && participants.data.items.length > 0 && (
          <ul className="people">
            {participants.data.items.map((p) => (
              <li key={p.id}>
                <strong>{p.label}</strong> {p.name ? `— ${p.name}` : <em>({t("case.nameHidden")})</em>}
                <PersonFlagList person={p} />
              </li>
            ))}
          </ul>
        )}
        {school && steps.data?.status !== "closed" && <AddParticipant caseId={caseId} />}
        {/* New findings (a flag on a person) only while the school investigates. */}
        {handles && !c.handed_off_at && ["reported", "evaluating", "gathering"].includes(c.status) && (
          <FlagPerson caseId={caseId} people={people} />
        )}
        {school && (
          <p>
            <Link to="/cases/$caseId/grid" params={{ caseId }} className="button-link">
              {t("grid.link")}
            </Link>
          </p>
        )}
      </section>
      {school && <TeamSection caseId={caseId} schoolId={c.school_id} team={team.data?.items} error={team.error} isLead={lead} />}
      {school && <DevicesSection caseId={caseId} people={people} canRecord={handles && open} recorderOf={recorderOf} />}
      {school && <ContactsSection caseId={caseId} people={people} kinds={contactKinds} recorderOf={recorderOf} />}
      {school && <NotesSection caseId={caseId} canAdd={handles} recorderOf={recorderOf} />}
      {school && !handles && <p className="help">{t("school.readOnly")}</p>}
      <p className="media-note">{t("case.media")}</p>
    </article>
  );
}
