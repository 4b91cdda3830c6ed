// The privacy officer's screen: the retention dry run, the legal holds on
// the board's cases, the confidentiality-incident register (Quebec's Law 25)
// and the access review of the audit log. References and ids, never case
// contents: the API gives no more.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import {
  accessReview,
  createIncident,
  listBoardHolds,
  listEvents,
  listIncidents,
  readRetentionRule,
  retentionPreview,
} from "../client/sdk.gen";
import type { AccessReview, Finding, IncidentCreate, RiskLevel } from "../client/types.gen";
import { unwrap } from "../lib/api";
import { Pager, useCursor } from "../lib/paging";
import { localToUtc } from "../lib/oversight";
import { AuditEvents, TableWrap, useInstants } from "./AuditEvents";
import { ProblemView } from "./Problem";

const RISKS: RiskLevel[] = ["not_assessed", "low", "serious"];

function useDates() {
  const { i18n } = useTranslation();
  const format = new Intl.DateTimeFormat(i18n.language === "en" ? "en-CA" : "fr-CA", { dateStyle: "medium" });
  // A date alone (YYYY-MM-DD) is a calendar day, not an instant in UTC.
  return (value: string) => format.format(new Date(value.length === 10 ? `${value}T12:00:00` : value));
}

function Retention() {
  const { t } = useTranslation();
  const date = useDates();
  const pages = useCursor();
  const rule = useQuery({ queryKey: ["privacy", "retention-rule"], queryFn: () => unwrap(readRetentionRule()) });
  const preview = useQuery({
    queryKey: ["privacy", "retention", pages.cursor],
    queryFn: () => unwrap(retentionPreview({ query: { cursor: pages.cursor, limit: 25 } })),
  });
  return (
    <section aria-labelledby="retention">
      <h2 id="retention">{t("oversight.retention.title")}</h2>
      {rule.isError && <ProblemView error={rule.error} />}
      {rule.data && (
        <p>
          {t("oversight.retention.rule", { count: rule.data.years_after_closure })}{" "}
          {rule.data.is_default
            ? t("oversight.retention.default")
            : rule.data.schedule_reference && t("oversight.retention.schedule", { reference: rule.data.schedule_reference })}
        </p>
      )}
      <p className="help">{t("oversight.retention.intro")}</p>
      {preview.isPending && <p aria-live="polite">{t("loading")}</p>}
      {preview.isError && <ProblemView error={preview.error} onRetry={() => void preview.refetch()} />}
      {preview.data && preview.data.items.length === 0 && <p>{t("oversight.retention.none")}</p>}
      {preview.data && preview.data.items.length > 0 && (
        <TableWrap label={t("oversight.retention.caption", { at: date(preview.data.as_of) })}>
          <table className="retention">
            <caption>{t("oversight.retention.caption", { at: date(preview.data.as_of) })}</caption>
            <thead>
              <tr>
                <th scope="col">{t("oversight.reference")}</th>
                <th scope="col">{t("oversight.retention.closed")}</th>
                <th scope="col">{t("oversight.retention.due")}</th>
                <th scope="col">{t("oversight.retention.decision")}</th>
                <th scope="col">{t("oversight.retention.records")}</th>
              </tr>
            </thead>
            <tbody>
              {preview.data.items.map((d) => (
                <tr key={d.case_id}>
                  <th scope="row">{d.reference}</th>
                  <td>{date(d.closed_at)}</td>
                  <td>{date(d.destroy_after)}</td>
                  <td>
                    <strong>{t(`oversight.retention.action.${d.action}`)}</strong>
                    {d.why && <> — {t(`oversight.retention.why.${d.why}`)}</>}
                    {d.holds.length > 0 && (
                      <>
                        <br />
                        {t("oversight.retention.holds", { count: d.holds.length })}
                      </>
                    )}
                  </td>
                  <td>
                    {Object.entries(d.counts)
                      .filter(([, n]) => n > 0)
                      .map(([kind, n]) => `${t(`oversight.retention.kind.${kind}`, { defaultValue: kind })} : ${n}`)
                      .join(", ") || "—"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      <Pager label={t("oversight.retention.title")} pages={pages} nextCursor={preview.data?.next_cursor} more={t("oversight.more")} />
    </section>
  );
}

function Holds() {
  const { t } = useTranslation();
  const date = useDates();
  const [active, setActive] = useState<"" | "true" | "false">("");
  const pages = useCursor();
  const holds = useQuery({
    queryKey: ["privacy", "holds", active, pages.cursor],
    queryFn: () =>
      unwrap(listBoardHolds({ query: { cursor: pages.cursor, limit: 25, ...(active ? { active: active === "true" } : {}) } })),
  });
  return (
    <section aria-labelledby="holds">
      <h2 id="holds">{t("oversight.holds.title")}</h2>
      <p className="help">{t("oversight.holds.intro")}</p>
      <div className="filters">
        <label htmlFor="holds-active">{t("oversight.holds.show")}</label>
        <select
          id="holds-active"
          value={active}
          onChange={(e) => {
            setActive(e.target.value as typeof active);
            pages.first();
          }}
        >
          <option value="">{t("oversight.holds.all")}</option>
          <option value="true">{t("oversight.holds.activeOnly")}</option>
          <option value="false">{t("oversight.holds.liftedOnly")}</option>
        </select>
      </div>
      {holds.isError && <ProblemView error={holds.error} onRetry={() => void holds.refetch()} />}
      {holds.data && holds.data.items.length === 0 && <p>{t("oversight.holds.none")}</p>}
      {holds.data && holds.data.items.length > 0 && (
        <TableWrap label={t("oversight.holds.caption")}>
          <table className="holds">
            <caption>{t("oversight.holds.caption")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("oversight.reference")}</th>
                <th scope="col">{t("oversight.holds.placed")}</th>
                <th scope="col">{t("oversight.holds.state")}</th>
              </tr>
            </thead>
            <tbody>
              {holds.data.items.map((h) => (
                <tr key={h.id}>
                  <th scope="row">{h.case_reference}</th>
                  <td>
                    {t("oversight.holds.by", { role: t(`oversight.role.${h.placed_by_role}`, { defaultValue: h.placed_by_role }), at: date(h.placed_at) })}
                  </td>
                  <td>
                    {h.active
                      ? t("oversight.holds.inForce")
                      : t("oversight.holds.lifted", {
                          role: t(`oversight.role.${h.lifted_by_role ?? ""}`, { defaultValue: h.lifted_by_role ?? "" }),
                          at: h.lifted_at ? date(h.lifted_at) : "",
                        })}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      <Pager label={t("oversight.holds.title")} pages={pages} nextCursor={holds.data?.next_cursor} more={t("oversight.more")} />
    </section>
  );
}

type FromFinding = { entryIds: number[] } | null;

function RecordIncident({
  open,
  onOpen,
  from,
  onDone,
}: {
  open: boolean;
  onOpen: (open: boolean) => void;
  from: FromFinding;
  onDone: () => void;
}) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const [recorded, setRecorded] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (open && from) first.current?.focus();
  }, [open, from]);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    const people = text("people_concerned");
    const body: IncidentCreate = {
      information_involved: text("information_involved"),
      circumstances: text("circumstances"),
      occurred_from: text("occurred_from"),
      discovered_on: text("discovered_on"),
      people_concerned: people === "" ? null : Number(people),
      risk_level: text("risk_level") as RiskLevel,
      ...(text("occurred_until") ? { occurred_until: text("occurred_until") } : {}),
      ...(text("risk_assessment") ? { risk_assessment: text("risk_assessment") } : {}),
      ...(text("measures_taken") ? { measures_taken: text("measures_taken") } : {}),
      ...(from ? { audit_entry_ids: from.entryIds } : {}),
    };
    setBusy(true);
    setError(null);
    setRecorded(null);
    try {
      const incident = await unwrap(
        createIncident({ headers: { "Idempotency-Key": crypto.randomUUID() }, body }),
      );
      setRecorded(incident.reference);
      formElement.reset();
      onDone();
      await queryClient.invalidateQueries({ queryKey: ["privacy", "incidents"] });
    } catch (problem) {
      setError(problem);
    } finally {
      setBusy(false);
    }
  }

  return (
    <details className="add" open={open} onToggle={(e) => onOpen(e.currentTarget.open)}>
      <summary>{t("oversight.incidents.add")}</summary>
      <p className="help">{t("oversight.incidents.noNames")}</p>
      {from && <p>{t("oversight.incidents.entries", { count: from.entryIds.length })}</p>}
      <form onSubmit={(e) => void submit(e)}>
        <label htmlFor="inc-info">{t("oversight.incidents.information")}</label>
        <textarea ref={first} id="inc-info" name="information_involved" required maxLength={4000} rows={3} />
        <label htmlFor="inc-circ">{t("oversight.incidents.circumstances")}</label>
        <textarea id="inc-circ" name="circumstances" required maxLength={4000} rows={3} />
        <label htmlFor="inc-from">{t("oversight.incidents.occurredFrom")}</label>
        <input id="inc-from" name="occurred_from" type="date" required />
        <label htmlFor="inc-until">{t("oversight.incidents.occurredUntil")}</label>
        <input id="inc-until" name="occurred_until" type="date" />
        <label htmlFor="inc-found">{t("oversight.incidents.discoveredOn")}</label>
        <input id="inc-found" name="discovered_on" type="date" required />
        <label htmlFor="inc-people">{t("oversight.incidents.people")}</label>
        <input id="inc-people" name="people_concerned" type="number" min={0} max={10000000} inputMode="numeric" />
        <label htmlFor="inc-risk">{t("oversight.incidents.risk")}</label>
        <select id="inc-risk" name="risk_level" defaultValue="not_assessed">
          {RISKS.map((r) => (
            <option key={r} value={r}>
              {t(`oversight.incidents.riskLevel.${r}`)}
            </option>
          ))}
        </select>
        <label htmlFor="inc-assess">{t("oversight.incidents.assessment")}</label>
        <textarea id="inc-assess" name="risk_assessment" maxLength={4000} rows={2} />
        <label htmlFor="inc-measures">{t("oversight.incidents.measures")}</label>
        <textarea id="inc-measures" name="measures_taken" maxLength={4000} rows={2} />
        <button type="submit" disabled={busy}>
          {t("oversight.incidents.submit")}
        </button>
      </form>
      {error !== null && <ProblemView error={error} />}
      <div role="status">{recorded && <p className="done">{t("oversight.incidents.recorded", { reference: recorded })}</p>}</div>
    </details>
  );
}

function Incidents({ from, onDone }: { from: FromFinding; onDone: () => void }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  // A finding to record: the form opens (and its first field takes the focus).
  useEffect(() => {
    if (from) setOpen(true);
  }, [from]);
  const date = useDates();
  const pages = useCursor();
  const register = useQuery({
    queryKey: ["privacy", "incidents", pages.cursor],
    queryFn: () => unwrap(listIncidents({ query: { cursor: pages.cursor, limit: 25 } })),
  });
  return (
    <section aria-labelledby="incidents">
      <h2 id="incidents">{t("oversight.incidents.title")}</h2>
      <p className="help">{t("oversight.incidents.intro")}</p>
      <RecordIncident open={open} onOpen={setOpen} from={from} onDone={onDone} />
      {register.isError && <ProblemView error={register.error} onRetry={() => void register.refetch()} />}
      {register.data && register.data.items.length === 0 && <p>{t("oversight.incidents.none")}</p>}
      {register.data && register.data.items.length > 0 && (
        <TableWrap label={t("oversight.incidents.caption")}>
          <table className="incidents">
            <caption>{t("oversight.incidents.caption")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("oversight.reference")}</th>
                <th scope="col">{t("oversight.incidents.discoveredOn")}</th>
                <th scope="col">{t("oversight.incidents.risk")}</th>
                <th scope="col">{t("oversight.incidents.people")}</th>
                <th scope="col">{t("oversight.incidents.notified")}</th>
              </tr>
            </thead>
            <tbody>
              {register.data.items.map((i) => (
                <tr key={i.id}>
                  <th scope="row">{i.reference}</th>
                  <td>{date(i.discovered_on)}</td>
                  <td>{t(`oversight.incidents.riskLevel.${i.risk_level}`)}</td>
                  <td>{i.people_concerned ?? t("oversight.incidents.unknown")}</td>
                  <td>
                    {t("oversight.incidents.commission")} :{" "}
                    {i.commission_notified_on ? date(i.commission_notified_on) : t("oversight.incidents.not")}
                    <br />
                    {t("oversight.incidents.peopleNotified")} :{" "}
                    {i.people_notified_on ? date(i.people_notified_on) : t("oversight.incidents.not")}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      <Pager label={t("oversight.incidents.title")} pages={pages} nextCursor={register.data?.next_cursor} more={t("oversight.more")} />
    </section>
  );
}

/** A finding's entries, read with the API's own link to them (`events_url`). */
function FindingEntries({ finding }: { finding: Finding }) {
  const { t } = useTranslation();
  const query = Object.fromEntries(new URL(finding.events_url, window.location.origin).searchParams);
  const entries = useQuery({
    queryKey: ["privacy", "finding", finding.events_url],
    queryFn: () => unwrap(listEvents({ query: { ...query, limit: 100 } })),
  });
  if (entries.isError) return <ProblemView error={entries.error} />;
  if (!entries.data) return <p aria-live="polite">{t("loading")}</p>;
  return <AuditEvents items={entries.data.items} caption={t("oversight.review.caption")} caseLinks={false} />;
}

function FindingItem({ finding: f, onRecord }: { finding: Finding; onRecord: (entryIds: number[]) => void }) {
  const { t } = useTranslation();
  const instant = useInstants();
  const [shown, setShown] = useState(false);
  return (
    <li>
      <strong>{t(`oversight.review.kind.${f.kind}`, { count: f.count })}</strong>{" "}
      {t("oversight.review.by", {
        role: f.actor_role ? t(`oversight.role.${f.actor_role}`, { defaultValue: f.actor_role }) : f.actor_kind,
      })}{" "}
      <code className="id">{f.actor_id}</code>
      <br />
      {t("oversight.review.between", { first: instant(f.first_at), last: instant(f.last_at) })}
      <br />
      {t("oversight.review.entries", { count: f.audit_entry_ids.length })}{" "}
      <span className="ids">{f.audit_entry_ids.slice(0, 20).join(", ")}</span>
      {(f.truncated || f.audit_entry_ids.length > 20) && " …"}
      <div className="row">
        <button type="button" className="secondary" aria-expanded={shown} onClick={() => setShown(!shown)}>
          {t("oversight.review.show")}
        </button>
        <button type="button" className="secondary" onClick={() => onRecord(f.audit_entry_ids)}>
          {t("oversight.review.record")}
        </button>
      </div>
      {shown && <FindingEntries finding={f} />}
    </li>
  );
}

function Review({ onRecord }: { onRecord: (entryIds: number[]) => void }) {
  const { t } = useTranslation();
  const instant = useInstants();
  const [result, setResult] = useState<AccessReview | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const since = localToUtc(String(form.get("since") ?? ""));
    const until = localToUtc(String(form.get("until") ?? ""));
    setBusy(true);
    setError(null);
    try {
      setResult(await unwrap(accessReview({ query: { ...(since ? { since } : {}), ...(until ? { until } : {}) } })));
    } catch (problem) {
      setError(problem);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="review">
      <h2 id="review">{t("oversight.review.title")}</h2>
      <p className="help">{t("oversight.review.intro")}</p>
      <form className="search" onSubmit={(e) => void submit(e)}>
        <div>
          <label htmlFor="rv-since">{t("oversight.events.since")}</label>
          <input id="rv-since" name="since" type="datetime-local" />
        </div>
        <div>
          <label htmlFor="rv-until">{t("oversight.events.until")}</label>
          <input id="rv-until" name="until" type="datetime-local" />
        </div>
        <div>
          <button type="submit" disabled={busy}>
            {t("oversight.review.run")}
          </button>
        </div>
      </form>
      {error !== null && <ProblemView error={error} />}
      <div role="status">
        {result && (
          <>
            <p>
              {t("oversight.review.period", { since: instant(result.since), until: instant(result.until), count: result.entries_examined })}
              {result.truncated && <> {t("oversight.review.truncated")}</>}
            </p>
            <p className="help">
              {t("oversight.review.thresholds", {
                denied: result.thresholds.denied,
                cases: result.thresholds.distinct_cases,
                minutes: result.thresholds.window_minutes,
                opens: result.thresholds.school_hours[0],
                closes: result.thresholds.school_hours[1],
              })}
            </p>
            {result.findings.length === 0 ? (
              <p>{t("oversight.review.none")}</p>
            ) : (
              <ul className="findings">
                {result.findings.map((f) => (
                  <FindingItem key={`${f.kind}-${f.actor_id}-${f.first_at}`} finding={f} onRecord={onRecord} />
                ))}
              </ul>
            )}
          </>
        )}
      </div>
    </section>
  );
}

export function PrivacyPage() {
  const { t } = useTranslation();
  const [from, setFrom] = useState<FromFinding>(null);
  return (
    <section className="oversight">
      <h1>{t("oversight.privacy.title")}</h1>
      <p className="help">{t("oversight.privacy.intro")}</p>
      <Retention />
      <Holds />
      <Incidents from={from} onDone={() => setFrom(null)} />
      <Review onRecord={(entryIds) => setFrom({ entryIds })} />
    </section>
  );
}
