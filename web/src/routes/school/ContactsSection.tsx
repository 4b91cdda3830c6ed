// The case's contacts (parents, police, DPJ report, media, take-down) and,
// for the roles that record them, the form. The protocol's rules (parents
// only for a minor, the report's fields...) are the API's: a refusal comes
// back as a problem document, shown in words.
import { queryOptions, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { listContacts, recordContact } from "../../client/sdk.gen";
import type { ParticipantOut, RecordContactData } from "../../client/types.gen";
import { unwrap } from "../../lib/api";
import { ProblemView } from "../Problem";
import { type Recorder } from "./CustodyTimeline";
import { currentPeople, idempotent, instant, optional } from "./shared";

type Body = RecordContactData["body"];
export type ContactKind = Body["kind"];
type Kind = ContactKind;
export const CONTACT_KINDS: Kind[] = [
  "parent_notification",
  "parent_notification_exemption",
  "police_contact",
  "dpj_report",
  "media_inquiry",
  "takedown_referral",
];
export const contactsQuery = (caseId: string) =>
  queryOptions({
    queryKey: ["case", caseId, "contacts"],
    queryFn: () => unwrap(listContacts({ path: { case_id: caseId }, query: { limit: 100 } })),
  });

// The details' values that are codes, read in words.
const CODED: Record<string, string> = {
  guardian_relationship: "guardians",
  method: "methods",
  reason: "reasons",
  service: "services",
};
const DETAIL_LABELS: Record<string, string> = {
  guardian_relationship: "guardian",
  method: "method",
  reason: "reason",
  justification: "justification",
  officer_name: "officer",
  note: "note",
  region: "region",
  reference: "reference",
  retained: "retained",
  outlet: "outlet",
  service: "service",
};

function bodyOf(kind: Kind, form: FormData): Body {
  const text = (name: string) => String(form.get(name) ?? "");
  const at = instant(form.get("occurred_at")) as string;
  switch (kind) {
    case "parent_notification":
      return {
        kind,
        participant_id: text("participant"),
        guardian_relationship: text("guardian") as "mother",
        method: text("method") as "phone",
        occurred_at: at,
      };
    case "parent_notification_exemption":
      return {
        kind,
        participant_id: text("participant"),
        reason: text("reason") as "other",
        justification: text("justification"),
        occurred_at: instant(form.get("occurred_at")),
      };
    case "police_contact":
      return { kind, officer_name: text("officer"), method: text("method") as "phone", occurred_at: at, note: optional(form.get("note")) };
    case "dpj_report": {
      const retained = text("retained");
      return {
        kind,
        occurred_at: at,
        region: text("region"),
        reference: text("reference"),
        retained: retained === "yes" ? true : retained === "no" ? false : null,
      };
    }
    case "media_inquiry":
      return {
        kind,
        occurred_at: at,
        outlet: optional(form.get("outlet")),
        referred_to_communications: (form.get("referred") === "on") as true,
      };
    case "takedown_referral":
      return { kind, occurred_at: at, service: text("service") as "cybertip", participant_id: optional(form.get("participant")) };
  }
}

function Choice({ id, name, label, values, group }: { id: string; name: string; label: string; values: string[]; group: string }) {
  const { t } = useTranslation();
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <select id={id} name={name} required>
        {values.map((v) => (
          <option key={v} value={v}>
            {t(`school.contacts.${group}.${v}`)}
          </option>
        ))}
      </select>
    </>
  );
}

function RecordContact({ caseId, people, kinds }: { caseId: string; people: ParticipantOut[]; kinds: Kind[] }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const [kind, setKind] = useState<Kind>(kinds[0]);
  const minors = people.filter((p) => p.is_minor);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    setError(null);
    try {
      await unwrap(
        recordContact({ path: { case_id: caseId }, headers: idempotent(), body: bodyOf(kind, new FormData(formElement)) }),
      );
      formElement.reset();
      await queryClient.invalidateQueries({ queryKey: ["case", caseId] });
    } catch (problem) {
      setError(problem);
    }
  }

  const forParents = kind === "parent_notification" || kind === "parent_notification_exemption";
  return (
    <details className="add">
      <summary>{t("school.contacts.add")}</summary>
      {error !== null && <ProblemView error={error} />}
      <form onSubmit={(e) => void submit(e)}>
        <label htmlFor="ct-kind">{t("school.contacts.kind")}</label>
        <select id="ct-kind" name="kind" value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
          {kinds.map((k) => (
            <option key={k} value={k}>
              {t(`school.contacts.kinds.${k}`)}
            </option>
          ))}
        </select>
        {forParents && (
          <>
            <label htmlFor="ct-participant">{t("school.contacts.participant")}</label>
            <select id="ct-participant" name="participant" required aria-describedby="ct-minor">
              {people.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.label}
                  {p.name ? ` — ${p.name}` : ""}
                </option>
              ))}
            </select>
            <p className="help" id="ct-minor">
              {minors.length === 0 ? t("school.contacts.needParticipant") : t("school.contacts.minorOnly")}
            </p>
          </>
        )}
        {kind === "parent_notification" && (
          <>
            <Choice id="ct-guardian" name="guardian" label={t("school.contacts.guardian")} group="guardians" values={["mother", "father", "guardian", "other"]} />
            <Choice id="ct-method" name="method" label={t("school.contacts.method")} group="methods" values={["phone", "in_person", "email", "letter", "other"]} />
          </>
        )}
        {kind === "parent_notification_exemption" && (
          <>
            <Choice id="ct-reason" name="reason" label={t("school.contacts.reason")} group="reasons" values={["student_14_plus_refuses", "risk_to_child", "other"]} />
            <label htmlFor="ct-justification">{t("school.contacts.justification")}</label>
            <textarea id="ct-justification" name="justification" required maxLength={500} rows={3} />
          </>
        )}
        {kind === "police_contact" && (
          <>
            <label htmlFor="ct-officer">{t("school.contacts.officer")}</label>
            <input id="ct-officer" name="officer" required maxLength={200} autoComplete="off" />
            <Choice id="ct-method" name="method" label={t("school.contacts.method")} group="methods" values={["phone", "in_person", "email", "other"]} />
            <label htmlFor="ct-note">
              {t("school.contacts.note")} ({t("school.optional")})
            </label>
            <input id="ct-note" name="note" maxLength={500} autoComplete="off" />
          </>
        )}
        {kind === "dpj_report" && (
          <>
            <label htmlFor="ct-region">{t("school.contacts.region")}</label>
            <input id="ct-region" name="region" required maxLength={100} autoComplete="off" />
            <label htmlFor="ct-reference">{t("school.contacts.reference")}</label>
            <input id="ct-reference" name="reference" required maxLength={64} autoComplete="off" />
            <Choice id="ct-retained" name="retained" label={t("school.contacts.retained")} group="retainedValues" values={["unknown", "yes", "no"]} />
          </>
        )}
        {kind === "media_inquiry" && (
          <>
            <label htmlFor="ct-outlet">
              {t("school.contacts.outlet")} ({t("school.optional")})
            </label>
            <input id="ct-outlet" name="outlet" maxLength={200} autoComplete="off" />
            <label className="inline">
              <input type="checkbox" name="referred" required /> {t("school.contacts.referred")}
            </label>
          </>
        )}
        {kind === "takedown_referral" && (
          <>
            <Choice id="ct-service" name="service" label={t("school.contacts.service")} group="services" values={["cybertip", "aidezmoisvp", "take_it_down"]} />
            <label htmlFor="ct-participant">{t("school.contacts.participantOptional")}</label>
            <select id="ct-participant" name="participant">
              <option value="">{t("school.contacts.none_")}</option>
              {people.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.label}
                  {p.name ? ` — ${p.name}` : ""}
                </option>
              ))}
            </select>
          </>
        )}
        <label htmlFor="ct-at">{kind === "parent_notification_exemption" ? t("school.whenNow") : t("school.when")}</label>
        <input id="ct-at" name="occurred_at" type="datetime-local" required={kind !== "parent_notification_exemption"} />
        <button type="submit">{t("school.contacts.submit")}</button>
      </form>
    </details>
  );
}

export function ContactsSection({
  caseId,
  people,
  kinds,
  recorderOf,
}: {
  caseId: string;
  people: ParticipantOut[];
  /** The kinds the caller's role records (none: the list only). */
  kinds: Kind[];
  recorderOf: (userId: string) => Recorder | null;
}) {
  const { t, i18n } = useTranslation();
  const dates = new Intl.DateTimeFormat(i18n.language === "en" ? "en-CA" : "fr-CA", { dateStyle: "medium", timeStyle: "short" });
  const contacts = useQuery(contactsQuery(caseId));
  const labelOf = new Map(people.map((p) => [p.id, p.label]));

  function value(key: string, raw: unknown): string {
    if (typeof raw === "boolean") return raw ? t("school.contacts.retainedValues.yes") : t("school.contacts.retainedValues.no");
    if (CODED[key]) return t(`school.contacts.${CODED[key]}.${String(raw)}`);
    return String(raw);
  }

  return (
    <section aria-labelledby="contacts">
      <h2 id="contacts">{t("school.contacts.title")}</h2>
      {contacts.isError && <ProblemView error={contacts.error} onRetry={() => void contacts.refetch()} />}
      {contacts.data && contacts.data.items.length === 0 && <p>{t("school.contacts.none")}</p>}
      {contacts.data && contacts.data.items.length > 0 && (
        <ul className="contacts">
          {contacts.data.items.map((c) => {
            const who = recorderOf(c.recorded_by);
            const shown = Object.entries(c.details).filter(([key, raw]) => DETAIL_LABELS[key] && raw !== null && raw !== "");
            return (
              <li key={c.id}>
                <strong>{t(`school.contacts.kinds.${c.kind}`, { defaultValue: c.kind })}</strong>
                {c.participant_id && ` — ${labelOf.get(c.participant_id) ?? "?"}`} —{" "}
                <time dateTime={c.occurred_at}>{dates.format(new Date(c.occurred_at))}</time>
                {who && ` — ${t("school.notes.by", { who: who.name })}`}
                {shown.length > 0 && (
                  <dl className="details">
                    {shown.map(([key, raw]) => (
                      <div key={key}>
                        <dt>{t(`school.contacts.${DETAIL_LABELS[key]}`)}</dt>
                        <dd>{value(key, raw)}</dd>
                      </div>
                    ))}
                  </dl>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {kinds.length > 0 && <RecordContact caseId={caseId} people={currentPeople(people)} kinds={kinds} />}
    </section>
  );
}
