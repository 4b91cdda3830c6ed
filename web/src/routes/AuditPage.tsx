// The auditor's screen: the audit log's verification said plainly, the
// search of its entries, and the way to one case's access log.
import { useQuery } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { issueCheckpoints, listEvents, verifyLog } from "../client/sdk.gen";
import type { ListEventsData, VerifyResult } from "../client/types.gen";
import { unwrap } from "../lib/api";
import { Pager, useCursor } from "../lib/paging";
import { type ChainStatement, localToUtc, verifyStatement } from "../lib/oversight";
import { AuditEvents, useInstants } from "./AuditEvents";
import { ProblemView } from "./Problem";

type Filters = NonNullable<ListEventsData["query"]>;
const OUTCOMES = ["allowed", "denied", "refused", "error"] as const;

function ChainLine({ statement }: { statement: ChainStatement }) {
  const { t } = useTranslation();
  const instant = useInstants();
  const s = statement;
  if (s.kind === "verified") {
    return (
      <li className="verified">
        {t("oversight.verify.verified", { chain: s.chain, upTo: s.upTo })}{" "}
        {s.checkpoint
          ? t("oversight.verify.atCheckpoint", { at: instant(s.checkpoint.at), seq: s.checkpoint.seq })
          : t("oversight.verify.noCheckpoint")}
        {s.from > 1 && <> {t("oversight.verify.from", { from: s.from })}</>}
      </li>
    );
  }
  return (
    <li className="broken">
      {s.firstBad !== null
        ? t("oversight.verify.firstBad", { chain: s.chain, seq: s.firstBad })
        : t("oversight.verify.brokenChain", { chain: s.chain })}
      {s.firstBadId !== null && <> {t("oversight.verify.entryId", { id: s.firstBadId })}</>}
      {s.reason && (
        <>
          {" "}
          (<span lang="en">{s.reason}</span>)
        </>
      )}
      {s.truncated && s.checkpoint && (
        <> {t("oversight.verify.truncated", { seq: s.checkpoint.seq, at: instant(s.checkpoint.at) })}</>
      )}
    </li>
  );
}

function Verification() {
  const { t } = useTranslation();
  const [mode, setMode] = useState<"full" | "since_checkpoint">("since_checkpoint");
  const [result, setResult] = useState<VerifyResult | null>(null);
  const [signed, setSigned] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function run(action: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (problem) {
      setError(problem);
    } finally {
      setBusy(false);
    }
  }

  function verify(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    void run(async () => {
      setResult(null);
      setResult(await unwrap(verifyLog({ query: { mode } })));
    });
  }

  function sign() {
    void run(async () => {
      const issued = await unwrap(issueCheckpoints({ headers: { "Idempotency-Key": crypto.randomUUID() } }));
      setSigned(issued.length);
    });
  }

  const statement = result ? verifyStatement(result) : null;
  return (
    <section aria-labelledby="verify">
      <h2 id="verify">{t("oversight.verify.title")}</h2>
      <form className="filters" onSubmit={verify}>
        <label htmlFor="verify-mode">{t("oversight.verify.mode")}</label>
        <select id="verify-mode" value={mode} onChange={(e) => setMode(e.target.value as typeof mode)}>
          <option value="since_checkpoint">{t("oversight.verify.sinceCheckpoint")}</option>
          <option value="full">{t("oversight.verify.full")}</option>
        </select>
        <button type="submit" disabled={busy}>
          {t("oversight.verify.run")}
        </button>
        <button type="button" className="secondary" disabled={busy} onClick={sign}>
          {t("oversight.verify.sign")}
        </button>
      </form>
      {error !== null && <ProblemView error={error} />}
      <div role="status">
        {signed !== null && <p>{t("oversight.verify.signed", { count: signed })}</p>}
        {statement && (
          <div className={statement.ok ? "verdict ok" : "verdict bad"}>
            <p>
              <strong>{statement.ok ? t("oversight.verify.ok") : t("oversight.verify.bad")}</strong>{" "}
              {t(`oversight.verify.modeDone.${statement.mode === "full" ? "full" : "since_checkpoint"}`)}
            </p>
            <ul>
              {statement.chains.map((c) => (
                <ChainLine key={c.chain} statement={c} />
              ))}
            </ul>
            {statement.problems.length > 0 && (
              <>
                <p>{t("oversight.verify.problems")}</p>
                <ul lang="en">
                  {statement.problems.map((p) => (
                    <li key={p}>{p}</li>
                  ))}
                </ul>
              </>
            )}
            <p className="help">
              {t("oversight.verify.checked", { count: statement.checkpointsChecked, witness: statement.witness })}
            </p>
          </div>
        )}
      </div>
    </section>
  );
}

function CaseLogForm() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  function open(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const id = String(new FormData(event.currentTarget).get("case") ?? "").trim();
    if (id) void navigate({ to: "/audit/cases/$caseId", params: { caseId: id } });
  }
  return (
    <section aria-labelledby="case-log">
      <h2 id="case-log">{t("oversight.accessLog.title")}</h2>
      <form className="filters" onSubmit={open}>
        <label htmlFor="case-log-id">{t("oversight.accessLog.caseId")}</label>
        <input id="case-log-id" name="case" required maxLength={40} autoComplete="off" spellCheck={false} />
        <button type="submit">{t("oversight.accessLog.show")}</button>
      </form>
    </section>
  );
}

function EventSearch() {
  const { t } = useTranslation();
  const [filters, setFilters] = useState<Filters>({});
  const pages = useCursor();
  const page = useQuery({
    queryKey: ["audit-events", filters, pages.cursor],
    queryFn: () => unwrap(listEvents({ query: { ...filters, cursor: pages.cursor, limit: 25 } })),
  });

  function search(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? "").trim() || null;
    const next: Filters = {};
    for (const name of ["case_id", "actor_id", "action", "outcome"] as const) {
      const value = text(name);
      if (value) next[name] = value;
    }
    const since = localToUtc(String(form.get("since") ?? ""));
    const until = localToUtc(String(form.get("until") ?? ""));
    if (since) next.since = since;
    if (until) next.until = until;
    setFilters(next);
    pages.first();
  }

  return (
    <section aria-labelledby="events">
      <h2 id="events">{t("oversight.events.title")}</h2>
      <form className="search" onSubmit={search}>
        <div>
          <label htmlFor="ev-action">{t("oversight.events.action")}</label>
          <input id="ev-action" name="action" maxLength={64} autoComplete="off" spellCheck={false} />
          <p className="help">{t("oversight.events.actionHelp")}</p>
        </div>
        <div>
          <label htmlFor="ev-outcome">{t("oversight.events.outcome")}</label>
          <select id="ev-outcome" name="outcome" defaultValue="">
            <option value="">{t("oversight.events.anyOutcome")}</option>
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {t(`oversight.outcome.${o}`)}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="ev-case">{t("oversight.events.caseId")}</label>
          <input id="ev-case" name="case_id" maxLength={40} autoComplete="off" spellCheck={false} />
        </div>
        <div>
          <label htmlFor="ev-actor">{t("oversight.events.actorId")}</label>
          <input id="ev-actor" name="actor_id" maxLength={40} autoComplete="off" spellCheck={false} />
        </div>
        <div>
          <label htmlFor="ev-since">{t("oversight.events.since")}</label>
          <input id="ev-since" name="since" type="datetime-local" />
        </div>
        <div>
          <label htmlFor="ev-until">{t("oversight.events.until")}</label>
          <input id="ev-until" name="until" type="datetime-local" />
        </div>
        <div>
          <button type="submit">{t("oversight.events.search")}</button>
        </div>
      </form>
      {page.isPending && <p aria-live="polite">{t("loading")}</p>}
      {page.isError && <ProblemView error={page.error} onRetry={() => void page.refetch()} />}
      {page.data && page.data.items.length === 0 && <p>{t("oversight.events.none")}</p>}
      {page.data && page.data.items.length > 0 && (
        <AuditEvents items={page.data.items} caption={t("oversight.events.caption")} />
      )}
      <Pager label={t("oversight.events.title")} pages={pages} nextCursor={page.data?.next_cursor} more={t("oversight.more")} />
    </section>
  );
}

export function AuditPage() {
  const { t } = useTranslation();
  return (
    <section className="oversight">
      <h1>{t("oversight.audit.title")}</h1>
      <p className="help">{t("oversight.audit.intro")}</p>
      <Verification />
      <CaseLogForm />
      <EventSearch />
    </section>
  );
}
