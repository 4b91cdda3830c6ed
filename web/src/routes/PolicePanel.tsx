// Police liaisons: the force's acknowledgement of a handed-off case, once,
// with its own file number when one is open; then the police side of the
// devices' custody (taken over, returned, kept as evidence) and the police
// outcome (the DCPP's decision, the awareness meeting, the close).
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { acknowledge, listDevices, recordCustodyEvent, recordPoliceOutcome } from "../client/sdk.gen";
import type { CaseOut, CustodyEventCreate, DeviceOut, PoliceOutcomeUpdate } from "../client/types.gen";
import { unwrap } from "../lib/api";
import { ProblemView } from "./Problem";

export function PolicePanel({ theCase }: { theCase: CaseOut }) {
  const { t, i18n } = useTranslation();
  const queryClient = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const dates = new Intl.DateTimeFormat(i18n.language === "en" ? "en-CA" : "fr-CA", { dateStyle: "medium", timeStyle: "short" });

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const number = String(new FormData(event.currentTarget).get("file_number") ?? "").trim();
    setError(null);
    try {
      await unwrap(acknowledge({ path: { case_id: theCase.id }, body: { police_file_number: number || null } }));
      await queryClient.invalidateQueries({ queryKey: ["case", theCase.id] });
    } catch (problem) {
      setError(problem);
    }
  }

  return (
    <>
      <section aria-labelledby="police">
        <h2 id="police">{t("police.title")}</h2>
        {theCase.handed_off_at && (
          <p>
            {t("police.handedOff")} <time dateTime={theCase.handed_off_at}>{dates.format(new Date(theCase.handed_off_at))}</time>
          </p>
        )}
        {error !== null && <ProblemView error={error} />}
        {theCase.police_acknowledged_at ? (
          <p role="status">
            {t("police.acknowledged")}{" "}
            <time dateTime={theCase.police_acknowledged_at}>{dates.format(new Date(theCase.police_acknowledged_at))}</time>
            {theCase.police_file_number && ` — ${t("police.fileNumber")} ${theCase.police_file_number}`}
          </p>
        ) : (
          <form onSubmit={(e) => void submit(e)}>
            <label htmlFor="file-number">{t("police.fileNumberLabel")}</label>
            <input id="file-number" name="file_number" maxLength={64} autoComplete="off" />
            <button type="submit">{t("police.acknowledge")}</button>
          </form>
        )}
      </section>
      <PoliceDevices caseId={theCase.id} />
      <PoliceOutcome theCase={theCase} />
    </>
  );
}

type PoliceStep = Extract<CustodyEventCreate["kind"], "transferred_to_police" | "returned_to_owner" | "retained_as_evidence">;
const POLICE_STEPS: PoliceStep[] = ["transferred_to_police", "returned_to_owner", "retained_as_evidence"];
// The ends of a chain of custody: nothing follows them.
const FINAL = new Set<string>(["returned_to_owner", "retained_as_evidence"]);

function CustodyStep({ device }: { device: DeviceOut }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [kind, setKind] = useState<PoliceStep>(
    device.custody === "transferred_to_police" ? "returned_to_owner" : "transferred_to_police",
  );
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const id = `custody-${device.id}`;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? "").trim() || null;
    setBusy(true);
    setError(null);
    try {
      await unwrap(
        recordCustodyEvent({
          path: { device_id: device.id },
          headers: { "Idempotency-Key": crypto.randomUUID() },
          body: { kind, officer_name: text("officer_name"), badge_number: text("badge_number"), note: text("note") },
        }),
      );
      await queryClient.invalidateQueries({ queryKey: ["case", device.case_id] });
    } catch (problem) {
      setError(problem);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="take" onSubmit={(e) => void submit(e)} aria-label={t("policeDesk.devices.record", { label: device.label })}>
      {error !== null && <ProblemView error={error} />}
      <label htmlFor={`${id}-kind`}>{t("policeDesk.devices.step")}</label>
      <select id={`${id}-kind`} value={kind} onChange={(e) => setKind(e.target.value as PoliceStep)}>
        {POLICE_STEPS.map((k) => (
          <option key={k} value={k}>
            {t(`policeDesk.devices.kind.${k}`)}
          </option>
        ))}
      </select>
      {kind === "transferred_to_police" && (
        <>
          <label htmlFor={`${id}-officer`}>{t("policeDesk.devices.officer")}</label>
          <input id={`${id}-officer`} name="officer_name" required maxLength={200} autoComplete="off" />
          <label htmlFor={`${id}-badge`}>{t("policeDesk.devices.badge")}</label>
          <input id={`${id}-badge`} name="badge_number" required maxLength={64} autoComplete="off" />
        </>
      )}
      <label htmlFor={`${id}-note`}>{t("policeDesk.devices.note")}</label>
      <input id={`${id}-note`} name="note" maxLength={500} autoComplete="off" />
      <button type="submit" disabled={busy}>
        {t("policeDesk.devices.submit")}
      </button>
    </form>
  );
}

function PoliceDevices({ caseId }: { caseId: string }) {
  const { t, i18n } = useTranslation();
  const dates = new Intl.DateTimeFormat(i18n.language === "en" ? "en-CA" : "fr-CA", { dateStyle: "medium", timeStyle: "short" });
  const devices = useQuery({
    queryKey: ["case", caseId, "devices"],
    queryFn: () => unwrap(listDevices({ path: { case_id: caseId }, query: { limit: 100 } })),
  });
  return (
    <section aria-labelledby="police-devices">
      <h2 id="police-devices">{t("policeDesk.devices.title")}</h2>
      {devices.isError && <ProblemView error={devices.error} onRetry={() => void devices.refetch()} />}
      {devices.data && devices.data.items.length === 0 && <p>{t("policeDesk.devices.none")}</p>}
      {devices.data && devices.data.items.length > 0 && (
        <ul className="devices">
          {devices.data.items.map((d) => (
            <li key={d.id}>
              <h3>
                {d.label} — {t(`policeDesk.devices.device.${d.kind}`)}
              </h3>
              <p>
                {t("policeDesk.devices.custody")} : <strong>{t(`policeDesk.devices.kind.${d.custody}`)}</strong>
                {d.in_school_custody && ` (${t("policeDesk.devices.inSchool")})`}
              </p>
              <ol className="custody">
                {d.events.map((e) => (
                  <li key={e.id}>
                    <time dateTime={e.occurred_at}>{dates.format(new Date(e.occurred_at))}</time> —{" "}
                    {t(`policeDesk.devices.kind.${e.kind}`)}
                    {e.officer_name && ` — ${e.officer_name}`}
                    {e.badge_number && ` (${e.badge_number})`}
                  </li>
                ))}
              </ol>
              {FINAL.has(d.custody) ? <p>{t("policeDesk.devices.final")}</p> : <CustodyStep device={d} />}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function PoliceOutcome({ theCase }: { theCase: CaseOut }) {
  const { t, i18n } = useTranslation();
  const queryClient = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const dates = new Intl.DateTimeFormat(i18n.language === "en" ? "en-CA" : "fr-CA", { dateStyle: "medium", timeStyle: "short" });
  const days = new Intl.DateTimeFormat(i18n.language === "en" ? "en-CA" : "fr-CA", { dateStyle: "long", timeZone: "UTC" });

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? "").trim() || null;
    const decision = text("dcpp_decision");
    const body: PoliceOutcomeUpdate = {
      police_file_number: text("police_file_number"),
      dcpp_decision: decision === "impulsive" || decision === "malicious" ? decision : null,
      dcpp_decided_on: text("dcpp_decided_on"),
      awareness_meeting_on: text("awareness_meeting_on"),
      close_police_part: form.get("close_police_part") === "on",
    };
    setError(null);
    setSaved(false);
    try {
      await unwrap(recordPoliceOutcome({ path: { case_id: theCase.id }, body }));
      await queryClient.invalidateQueries({ queryKey: ["case", theCase.id] });
      setSaved(true);
    } catch (problem) {
      setError(problem);
    }
  }

  const day = (value: string | null | undefined) => (value ? days.format(new Date(`${value}T00:00:00Z`)) : null);
  return (
    <section aria-labelledby="police-outcome">
      <h2 id="police-outcome">{t("policeDesk.outcome.title")}</h2>
      {error !== null && <ProblemView error={error} />}
      <dl className="outcome">
        {theCase.police_file_number && (
          <>
            <dt>{t("policeDesk.outcome.fileNumber")}</dt>
            <dd>{theCase.police_file_number}</dd>
          </>
        )}
        {theCase.dcpp_decision && (
          <>
            <dt>{t("policeDesk.outcome.decision")}</dt>
            <dd>
              {t(`policeDesk.outcome.${theCase.dcpp_decision}`)}
              {theCase.dcpp_decided_on && ` — ${day(theCase.dcpp_decided_on)}`}
            </dd>
          </>
        )}
        {theCase.awareness_meeting_on && (
          <>
            <dt>{t("policeDesk.outcome.meetingOn")}</dt>
            <dd>{day(theCase.awareness_meeting_on)}</dd>
          </>
        )}
      </dl>
      {saved && <p role="status">{t("policeDesk.outcome.saved")}</p>}
      {theCase.police_closed_at ? (
        <p>
          {t("policeDesk.outcome.closed")}{" "}
          <time dateTime={theCase.police_closed_at}>{dates.format(new Date(theCase.police_closed_at))}</time>
        </p>
      ) : (
        <form onSubmit={(e) => void submit(e)}>
          {!theCase.police_file_number && (
            <>
              <label htmlFor="outcome-file">{t("policeDesk.outcome.fileNumber")}</label>
              <input id="outcome-file" name="police_file_number" maxLength={64} autoComplete="off" />
            </>
          )}
          <label htmlFor="outcome-decision">{t("policeDesk.outcome.decision")}</label>
          <select id="outcome-decision" name="dcpp_decision" defaultValue={theCase.dcpp_decision ?? ""}>
            <option value="">{t("policeDesk.outcome.decisionNone")}</option>
            <option value="impulsive">{t("policeDesk.outcome.impulsive")}</option>
            <option value="malicious">{t("policeDesk.outcome.malicious")}</option>
          </select>
          <label htmlFor="outcome-decided">{t("policeDesk.outcome.decidedOn")}</label>
          <input id="outcome-decided" name="dcpp_decided_on" type="date" defaultValue={theCase.dcpp_decided_on ?? ""} />
          <label htmlFor="outcome-meeting">{t("policeDesk.outcome.meetingOn")}</label>
          <input id="outcome-meeting" name="awareness_meeting_on" type="date" defaultValue={theCase.awareness_meeting_on ?? ""} />
          <label className="inline">
            <input name="close_police_part" type="checkbox" />
            {t("policeDesk.outcome.close")}
          </label>
          <button type="submit">{t("policeDesk.outcome.submit")}</button>
        </form>
      )}
    </section>
  );
}
