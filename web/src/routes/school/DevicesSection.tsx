// Devices confiscated on a case and each one's chain of custody; school
// users record a device and its next custody steps (storage, transfer to
// police). No picture of a device or its content is ever asked for.
import { queryOptions, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, Fragment, useState } from "react";
import { useTranslation } from "react-i18next";
import { confiscateDevice, listDevices, recordCustodyEvent } from "../../client/sdk.gen";
import type { DeviceKind, DeviceOut, ParticipantOut, RecordCustodyEventData } from "../../client/types.gen";
import { unwrap } from "../../lib/api";
import { ProblemView } from "../Problem";
import { CustodyTimeline, type Recorder } from "./CustodyTimeline";
import { currentPeople, idempotent, instant, optional } from "./shared";

/** The case's devices, each with its chain (one call for all). */
export const devicesQuery = (caseId: string) =>
  queryOptions({
    queryKey: ["case", caseId, "devices"],
    queryFn: () => unwrap(listDevices({ path: { case_id: caseId }, query: { limit: 100 } })),
  });

const KINDS: DeviceKind[] = ["phone", "tablet", "laptop", "other"];
// The steps a school user records; police record the return and the retention.
const SCHOOL_STEPS = ["stored", "transferred_to_police"] as const;

function RecordDevice({ caseId, people }: { caseId: string; people: ParticipantOut[] }) {
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
        confiscateDevice({
          path: { case_id: caseId },
          headers: idempotent(),
          body: {
            kind: form.get("kind") as DeviceKind,
            description: String(form.get("description") ?? ""),
            owner_participant_id: String(form.get("owner") ?? ""),
            // Unchecked boxes are sent as they are: the API says why it refuses them.
            switched_off_confirmed: (form.get("switched_off") === "on") as true,
            content_not_viewed: (form.get("not_viewed") === "on") as true,
            seal_number: optional(form.get("seal")),
            storage_location: optional(form.get("storage")),
          },
        }),
      );
      formElement.reset();
      await queryClient.invalidateQueries({ queryKey: ["case", caseId] });
    } catch (problem) {
      setError(problem);
    }
  }

  if (people.length === 0) return <p>{t("school.devices.needOwner")}</p>;
  return (
    <details className="add">
      <summary>{t("school.devices.add")}</summary>
      <p className="media-note" id="device-media">
        {t("school.noMedia")}
      </p>
      {error !== null && <ProblemView error={error} />}
      <form onSubmit={(e) => void submit(e)} aria-describedby="device-media">
        <label htmlFor="d-kind">{t("school.devices.kind")}</label>
        <select id="d-kind" name="kind" required>
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {t(`school.devices.kinds.${k}`)}
            </option>
          ))}
        </select>
        <label htmlFor="d-description">{t("school.devices.description")}</label>
        <input id="d-description" name="description" required maxLength={300} autoComplete="off" />
        <label htmlFor="d-owner">{t("school.devices.owner")}</label>
        <select id="d-owner" name="owner" required>
          {people.map((p) => (
            <option key={p.id} value={p.id}>
              {p.label}
              {p.name ? ` — ${p.name}` : ""}
            </option>
          ))}
        </select>
        <label htmlFor="d-seal">
          {t("school.devices.seal")} ({t("school.optional")})
        </label>
        <input id="d-seal" name="seal" maxLength={64} autoComplete="off" />
        <label htmlFor="d-storage">
          {t("school.devices.storage")} ({t("school.optional")})
        </label>
        <input id="d-storage" name="storage" maxLength={200} autoComplete="off" />
        <label className="inline">
          <input type="checkbox" name="switched_off" required /> {t("school.devices.switchedOff")}
        </label>
        <label className="inline">
          <input type="checkbox" name="not_viewed" required /> {t("school.devices.notViewed")}
        </label>
        <button type="submit">{t("school.devices.submit")}</button>
      </form>
    </details>
  );
}

function RecordCustody({ caseId, device }: { caseId: string; device: DeviceOut }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const [kind, setKind] = useState<(typeof SCHOOL_STEPS)[number]>("stored");
  const id = `c-${device.id}`;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const body: RecordCustodyEventData["body"] = {
      kind,
      occurred_at: instant(form.get("occurred_at")),
      note: optional(form.get("note")),
      ...(kind === "stored"
        ? { seal_number: optional(form.get("seal")), storage_location: optional(form.get("storage")) }
        : { officer_name: optional(form.get("officer")), badge_number: optional(form.get("badge")) }),
    };
    setError(null);
    try {
      await unwrap(recordCustodyEvent({ path: { device_id: device.id }, headers: idempotent(), body }));
      formElement.reset();
      await queryClient.invalidateQueries({ queryKey: ["case", caseId] });
    } catch (problem) {
      setError(problem);
    }
  }

  return (
    <details className="add">
      <summary>{t("school.custody.add", { label: device.label })}</summary>
      {error !== null && <ProblemView error={error} />}
      <form onSubmit={(e) => void submit(e)}>
        <label htmlFor={`${id}-kind`}>{t("school.custody.kind")}</label>
        <select
          id={`${id}-kind`}
          name="kind"
          value={kind}
          onChange={(e) => setKind(e.target.value as (typeof SCHOOL_STEPS)[number])}
        >
          {SCHOOL_STEPS.map((k) => (
            <option key={k} value={k}>
              {t(`school.custody.kinds.${k}`)}
            </option>
          ))}
        </select>
        <label htmlFor={`${id}-at`}>{t("school.whenNow")}</label>
        <input id={`${id}-at`} name="occurred_at" type="datetime-local" />
        {/* Keyed: a step's fields never keep what was typed for the other. */}
        {kind === "stored" ? (
          <Fragment key="stored">
            <label htmlFor={`${id}-seal`}>{t("school.devices.seal")}</label>
            <input id={`${id}-seal`} name="seal" maxLength={64} autoComplete="off" />
            <label htmlFor={`${id}-storage`}>{t("school.devices.storage")}</label>
            <input id={`${id}-storage`} name="storage" maxLength={200} autoComplete="off" />
          </Fragment>
        ) : (
          <Fragment key="transfer">
            <label htmlFor={`${id}-officer`}>{t("school.custody.officerLabel")}</label>
            <input id={`${id}-officer`} name="officer" maxLength={200} autoComplete="off" />
            <label htmlFor={`${id}-badge`}>{t("school.custody.badgeLabel")}</label>
            <input id={`${id}-badge`} name="badge" maxLength={64} autoComplete="off" />
          </Fragment>
        )}
        <label htmlFor={`${id}-note`}>
          {t("school.custody.note")} ({t("school.optional")})
        </label>
        <input id={`${id}-note`} name="note" maxLength={500} autoComplete="off" />
        <p className="help">{t("school.custody.policeSteps")}</p>
        <button type="submit">{t("school.custody.submit")}</button>
      </form>
    </details>
  );
}

export function DevicesSection({
  caseId,
  people,
  canRecord,
  recorderOf,
}: {
  caseId: string;
  people: ParticipantOut[];
  canRecord: boolean;
  recorderOf: (userId: string) => Recorder | null;
}) {
  const { t } = useTranslation();
  const devices = useQuery(devicesQuery(caseId));
  const labelOf = new Map(people.map((p) => [p.id, p.label]));
  return (
    <section aria-labelledby="devices">
      <h2 id="devices">{t("school.devices.title")}</h2>
      {devices.isError && <ProblemView error={devices.error} onRetry={() => void devices.refetch()} />}
      {devices.data && devices.data.items.length === 0 && <p>{t("school.devices.none")}</p>}
      {devices.data && devices.data.items.length > 0 && (
        <ul className="school-devices">
          {devices.data.items.map((d) => (
            <li key={d.id}>
              <h3>
                {t("school.devices.device", {
                  label: d.label,
                  kind: t(`school.devices.kinds.${d.kind}`),
                  owner: labelOf.get(d.owner_participant_id) ?? "?",
                })}
              </h3>
              <p>
                {d.description} —{" "}
                <strong className={d.in_school_custody ? "in-school" : "out-of-school"}>
                  {d.in_school_custody ? t("school.devices.inSchool") : t("school.devices.outOfSchool")}
                </strong>
              </p>
              <CustodyTimeline label={d.label} events={d.events} recorderOf={recorderOf} />
              {canRecord && d.in_school_custody && <RecordCustody caseId={caseId} device={d} />}
            </li>
          ))}
        </ul>
      )}
      {canRecord && <RecordDevice caseId={caseId} people={currentPeople(people)} />}
    </section>
  );
}
