// Recording a person involved: shown as P1, P2... everywhere; the name only
// on the case page of the roles that may read it.
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { addParticipant } from "../client/sdk.gen";
import type { ParticipantRole } from "../client/types.gen";
import { unwrap } from "../lib/api";
import { ProblemView } from "./Problem";

const ROLES: ParticipantRole[] = ["depicted", "author", "distributor", "recipient", "witness", "reporter"];

export function AddParticipant({ caseId }: { caseId: string }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [error, setError] = useState<unknown>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    setError(null);
    try {
      await unwrap(
        addParticipant({
          path: { case_id: caseId },
          body: {
            role: form.get("role") as ParticipantRole,
            is_minor: form.get("minor") === "on",
            name: String(form.get("name")),
            grade: String(form.get("grade") || "") || null,
          },
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
      <summary>{t("people.add")}</summary>
      {error !== null && <ProblemView error={error} />}
      <form onSubmit={(e) => void submit(e)}>
        <label htmlFor="p-role">{t("people.role")}</label>
        <select id="p-role" name="role" required>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {t(`people.roles.${r}`)}
            </option>
          ))}
        </select>
        <label htmlFor="p-name">{t("people.name")}</label>
        <input id="p-name" name="name" required maxLength={200} autoComplete="off" />
        <label htmlFor="p-grade">{t("people.grade")}</label>
        <input id="p-grade" name="grade" maxLength={20} autoComplete="off" />
        <label className="inline">
          <input type="checkbox" name="minor" defaultChecked /> {t("people.minor")}
        </label>
        <button type="submit">{t("people.submit")}</button>
      </form>
    </details>
  );
}
