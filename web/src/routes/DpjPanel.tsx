// The report to the DPJ: the ones recorded on the case, and recording one
// (DPJ reporters; the API says who else may and refuses the others).
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { listContacts, recordContact } from "../client/sdk.gen";
import { unwrap } from "../lib/api";
import { useDates } from "./PoliceFeed";
import { ProblemView } from "./Problem";

export function DpjPanel({ caseId }: { caseId: string }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const dates = useDates();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const contacts = useQuery({
    queryKey: ["case", caseId, "contacts"],
    queryFn: () => unwrap(listContacts({ path: { case_id: caseId }, query: { limit: 100 } })),
  });
  const reports = (contacts.data?.items ?? []).filter((c) => c.kind === "dpj_report");

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const retained = String(form.get("retained") ?? "");
    setBusy(true);
    setError(null);
    try {
      await unwrap(
        recordContact({
          path: { case_id: caseId },
          headers: { "Idempotency-Key": crypto.randomUUID() },
          body: {
            kind: "dpj_report",
            // The person's local time, sent with its offset (as UTC).
            occurred_at: new Date(String(form.get("occurred_at"))).toISOString(),
            region: String(form.get("region") ?? "").trim(),
            reference: String(form.get("reference") ?? "").trim(),
            retained: retained === "yes" ? true : retained === "no" ? false : null,
          },
        }),
      );
      formElement.reset();
      await queryClient.invalidateQueries({ queryKey: ["case", caseId] });
    } catch (problem) {
      setError(problem);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="dpj">
      <h2 id="dpj">{t("policeDesk.dpj.panel")}</h2>
      <h3>{t("policeDesk.dpj.reports")}</h3>
      {contacts.isError && <ProblemView error={contacts.error} onRetry={() => void contacts.refetch()} />}
      {contacts.data && reports.length === 0 && <p>{t("policeDesk.dpj.noReport")}</p>}
      {reports.length > 0 && (
        <ul className="reports">
          {reports.map((r) => (
            <li key={r.id}>
              {t("policeDesk.dpj.line", {
                date: dates.format(new Date(r.occurred_at)),
                region: String(r.details.region ?? ""),
                reference: String(r.details.reference ?? ""),
              })}
              {typeof r.details.retained === "boolean" &&
                ` — ${t("policeDesk.dpj.retained")} : ${r.details.retained ? t("policeDesk.dpj.yes") : t("policeDesk.dpj.no")}`}
            </li>
          ))}
        </ul>
      )}
      {error !== null && <ProblemView error={error} />}
      <form onSubmit={(e) => void submit(e)}>
        <label htmlFor="dpj-when">{t("policeDesk.dpj.occurredAt")}</label>
        <input id="dpj-when" name="occurred_at" type="datetime-local" required />
        <label htmlFor="dpj-region">{t("policeDesk.dpj.region")}</label>
        <input id="dpj-region" name="region" required maxLength={100} autoComplete="off" />
        <label htmlFor="dpj-reference">{t("policeDesk.dpj.reference")}</label>
        <input id="dpj-reference" name="reference" required maxLength={64} autoComplete="off" />
        <label htmlFor="dpj-retained">{t("policeDesk.dpj.retained")}</label>
        <select id="dpj-retained" name="retained" defaultValue="">
          <option value="">{t("policeDesk.dpj.retainedUnknown")}</option>
          <option value="yes">{t("policeDesk.dpj.yes")}</option>
          <option value="no">{t("policeDesk.dpj.no")}</option>
        </select>
        <button type="submit" disabled={busy}>
          {t("policeDesk.dpj.submit")}
        </button>
      </form>
    </section>
  );
}
