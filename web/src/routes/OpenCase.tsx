// Opening a case. A refusal (no architect attestation, no agreement in force
// for the school's police force...) is shown in words from the problem.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { openCase } from "../client/sdk.gen";
import type { Channel, IncidentPlace, ReporterType } from "../client/types.gen";
import { unwrap } from "../lib/api";
import { sessionQuery } from "../lib/session";
import { ProblemView } from "./Problem";

const REPORTERS: ReporterType[] = ["student", "parent", "staff", "other"];
const CHANNELS: Channel[] = ["in_person", "phone", "email", "online_form", "other"];
const PLACES: IncidentPlace[] = ["school", "outside_school", "online_only"];

export function OpenCase() {
  const { t } = useTranslation();
  const session = useQuery(sessionQuery);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const schools = session.data?.me.scope.schools ?? [];

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const opened = await unwrap(
        openCase({
          body: {
            school_id: String(form.get("school")),
            reporter_type: form.get("reporter") as ReporterType,
            channel: form.get("channel") as Channel,
            place: form.get("place") as IncidentPlace,
            summary: String(form.get("summary")),
          },
        }),
      );
      await queryClient.invalidateQueries({ queryKey: ["cases"] });
      await navigate({ to: "/cases/$caseId", params: { caseId: opened.id } });
    } catch (problem) {
      setError(problem);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="narrow">
      <h1>{t("open.title")}</h1>
      {error !== null && <ProblemView error={error} />}
      <form onSubmit={(e) => void submit(e)}>
        <label htmlFor="school">{t("open.school")}</label>
        <select id="school" name="school" required>
          {schools.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
        <label htmlFor="reporter">{t("open.reporter")}</label>
        <select id="reporter" name="reporter" required>
          {REPORTERS.map((r) => (
            <option key={r} value={r}>
              {t(`open.reporterType.${r}`)}
            </option>
          ))}
        </select>
        <label htmlFor="channel">{t("open.channel")}</label>
        <select id="channel" name="channel" required>
          {CHANNELS.map((c) => (
            <option key={c} value={c}>
              {t(`open.channels.${c}`)}
            </option>
          ))}
        </select>
        <label htmlFor="place">{t("open.place")}</label>
        <select id="place" name="place" required>
          {PLACES.map((p) => (
            <option key={p} value={p}>
              {t(`open.places.${p}`)}
            </option>
          ))}
        </select>
        <label htmlFor="summary">{t("open.summary")}</label>
        <textarea id="summary" name="summary" required maxLength={500} rows={4} aria-describedby="summary-help media-note" />
        <p id="summary-help" className="help">
          {t("open.summaryHelp")}
        </p>
        <p id="media-note" className="media-note">
          {t("case.media")}
        </p>
        <button type="submit" disabled={busy}>
          {t("open.submit")}
        </button>
      </form>
    </section>
  );
}
