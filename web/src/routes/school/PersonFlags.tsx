// A person's flags on the case page (malicious intent suspected, refused to
// take part), and, for the school users who handle the case, the form that
// records one with its reason. Shown as P1, P2... with the reason in words.
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { flagParticipant } from "../../client/sdk.gen";
import type { ParticipantFlagKind, ParticipantOut } from "../../client/types.gen";
import { unwrap } from "../../lib/api";
import { ProblemView } from "../Problem";
import { currentPeople, idempotent } from "./shared";

const KINDS: ParticipantFlagKind[] = ["malicious_intent", "refused"];

/** The flags recorded on one person, under their line in the people list. */
export function PersonFlagList({ person }: { person: ParticipantOut }) {
  const { t } = useTranslation();
  const flags = person.flags ?? [];
  if (flags.length === 0) return null;
  return (
    <ul className="person-flags" aria-label={t("personFlags.listLabel", { label: person.label })}>
      {flags.map((f) => (
        <li key={`${f.kind}-${f.created_at}`}>
          <strong>{t(`personFlags.kinds.${f.kind}`)}</strong>
          {f.reason ? ` — ${f.reason}` : ""}
        </li>
      ))}
    </ul>
  );
}

/** The form that records a flag on a person. */
export function FlagPerson({ caseId, people }: { caseId: string; people: ParticipantOut[] }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const current = currentPeople(people);
  if (current.length === 0) return null;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    setError(null);
    try {
      await unwrap(
        flagParticipant({
          path: { case_id: caseId, participant_id: String(form.get("participant")) },
          headers: idempotent(),
          body: { kind: form.get("kind") as ParticipantFlagKind, reason: String(form.get("reason") ?? "") },
        }),
      );
      formElement.reset();
      await queryClient.invalidateQueries({ queryKey: ["case", caseId] });
    } catch (problem) {
      setError(problem);
    }
  }

  return (
    <details className="add">
      <summary>{t("personFlags.title")}</summary>
      <p className="help">{t("personFlags.help")}</p>
      {error !== null && <ProblemView error={error} />}
      <form onSubmit={(e) => void submit(e)}>
        <label htmlFor="pf-participant">{t("personFlags.person")}</label>
        <select id="pf-participant" name="participant" required>
          {current.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name ? `${p.label} — ${p.name}` : p.label}
            </option>
          ))}
        </select>
        <label htmlFor="pf-kind">{t("personFlags.kind")}</label>
        <select id="pf-kind" name="kind" required>
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {t(`personFlags.kinds.${k}`)}
            </option>
          ))}
        </select>
        <label htmlFor="pf-reason">{t("personFlags.reason")}</label>
        <textarea id="pf-reason" name="reason" required maxLength={500} rows={3} />
        <button type="submit">{t("personFlags.submit")}</button>
      </form>
    </details>
  );
}
