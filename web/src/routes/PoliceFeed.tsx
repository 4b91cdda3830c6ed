// Police liaisons: what changed in their force's handed-off cases since they
// last looked (the police feed, read from the position they last marked as
// seen), and every case handed off to the force.
//
// The position is the feed's own cursor: an opaque pair of positions in the
// feed, no case data. It is the one thing this screen remembers in the
// browser, per person, so that "since your last visit" means that person's.
import { useQuery } from "@tanstack/react-query";
import { Link, useSearch } from "@tanstack/react-router";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { listCases, policeFeed } from "../client/sdk.gen";
import type { CaseListItem, FeedItem } from "../client/types.gen";
import { unwrap } from "../lib/api";
import { sessionQuery } from "../lib/session";
import { ProblemView } from "./Problem";
import { FlagList, StatusBadge } from "./CaseBits";

export type PoliceFeedSearch = { page?: string };

const PAGE = 100;
const MAX_PAGES = 5;

function seenKey(userId: string): string {
  return `sexto.police.seen.${userId}`;
}

function readSeen(userId: string | undefined): string | null {
  if (!userId) return null;
  try {
    return localStorage.getItem(seenKey(userId));
  } catch {
    return null;
  }
}

type Changes = { items: FeedItem[]; cursor: string; capped: boolean };

/** The feed after ``since``, each case once at its latest change, oldest
 * first; at most MAX_PAGES pages at a time (``capped``: more follow). */
async function changesSince(since: string | null): Promise<Changes> {
  const latest = new Map<string, FeedItem>();
  let cursor = since;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await unwrap(policeFeed({ query: { cursor, limit: PAGE } }));
    for (const item of page.items) {
      latest.delete(item.case.id);
      latest.set(item.case.id, item);
    }
    // An empty page gives back the cursor it was given: the end, for now.
    if (page.next_cursor === cursor || page.items.length === 0) {
      return { items: [...latest.values()], cursor: page.next_cursor, capped: false };
    }
    cursor = page.next_cursor;
  }
  return { items: [...latest.values()], cursor: cursor ?? "", capped: true };
}

export function useDates() {
  const { i18n } = useTranslation();
  return new Intl.DateTimeFormat(i18n.language === "en" ? "en-CA" : "fr-CA", { dateStyle: "medium", timeStyle: "short" });
}

/** Cases in a table; ``acknowledgement``: with the force's acknowledgement (police). */
export function CasesTable({
  caption,
  cases,
  acknowledgement = false,
}: {
  caption: string;
  cases: CaseListItem[];
  acknowledgement?: boolean;
}) {
  const { t } = useTranslation();
  const dates = useDates();
  return (
    <div className="table-wrap">
      <table className="cases">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{t("cases.reference")}</th>
            <th scope="col">{t("cases.status")}</th>
            <th scope="col">{t("cases.flags")}</th>
            <th scope="col">{t("cases.updated")}</th>
            {acknowledgement && <th scope="col">{t("policeDesk.feed.acknowledgement")}</th>}
          </tr>
        </thead>
        <tbody>
          {cases.map((c) => (
            <tr key={c.id}>
              <th scope="row">
                <Link to="/cases/$caseId" params={{ caseId: c.id }} aria-label={t("cases.open", { reference: c.reference })}>
                  {c.reference}
                </Link>
              </th>
              <td>
                <StatusBadge status={c.status} />
              </td>
              <td>
                <FlagList flags={c.flags} />
              </td>
              <td>
                <time dateTime={c.updated_at}>{dates.format(new Date(c.updated_at))}</time>
              </td>
              {acknowledgement && (
                <td>
                  <Acknowledgement at={c.police_acknowledged_at} />
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Acknowledgement({ at }: { at: string | null | undefined }) {
  const { t } = useTranslation();
  const dates = useDates();
  return at ? (
    <>
      {t("policeDesk.feed.acknowledgedOn")} <time dateTime={at}>{dates.format(new Date(at))}</time>
    </>
  ) : (
    <strong>{t("policeDesk.feed.awaiting")}</strong>
  );
}

function ChangesTable({ items }: { items: FeedItem[] }) {
  const { t } = useTranslation();
  const dates = useDates();
  return (
    <div className="table-wrap">
      <table className="cases">
        <caption>{t("policeDesk.feed.caption")}</caption>
        <thead>
          <tr>
            <th scope="col">{t("cases.reference")}</th>
            <th scope="col">{t("policeDesk.feed.change")}</th>
            <th scope="col">{t("policeDesk.feed.changedAt")}</th>
            <th scope="col">{t("cases.status")}</th>
            <th scope="col">{t("policeDesk.feed.acknowledgement")}</th>
          </tr>
        </thead>
        <tbody>
          {items.map(({ case: c, change, changed_at }) => (
            <tr key={c.id}>
              <th scope="row">
                <Link to="/cases/$caseId" params={{ caseId: c.id }} aria-label={t("cases.open", { reference: c.reference })}>
                  {c.reference}
                </Link>
              </th>
              <td>{t(`policeDesk.feed.kind.${change}`, { defaultValue: change })}</td>
              <td>
                <time dateTime={changed_at}>{dates.format(new Date(changed_at))}</time>
              </td>
              <td>
                <StatusBadge status={c.status} />
              </td>
              <td>
                <Acknowledgement at={c.police_acknowledged_at} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function PoliceFeed() {
  const { t } = useTranslation();
  const search = useSearch({ strict: false }) as PoliceFeedSearch;
  const session = useQuery(sessionQuery);
  const userId = session.data?.me.id;
  const [since, setSince] = useState<string | null>(() => readSeen(userId));
  const changes = useQuery({
    queryKey: ["police-feed", userId ?? null, since],
    queryFn: () => changesSince(since),
    enabled: Boolean(userId),
  });
  const all = useQuery({
    queryKey: ["cases", "police", search.page ?? null],
    queryFn: () => unwrap(listCases({ query: { cursor: search.page ?? null, limit: 25 } })),
  });

  function markSeen() {
    if (!userId || !changes.data) return;
    try {
      localStorage.setItem(seenKey(userId), changes.data.cursor);
    } catch {
      // Private browsing without storage: seen for this visit only.
    }
    setSince(changes.data.cursor);
  }

  return (
    <section>
      <h1>{t("policeDesk.feed.title")}</h1>
      <section aria-labelledby="changes">
        <h2 id="changes">{t("policeDesk.feed.changes")}</h2>
        <p>{t("policeDesk.feed.changesHelp")}</p>
        {changes.isPending && <p aria-live="polite">{t("loading")}</p>}
        {changes.isError && <ProblemView error={changes.error} onRetry={() => void changes.refetch()} />}
        {changes.data && changes.data.items.length === 0 && <p role="status">{t("policeDesk.feed.noChanges")}</p>}
        {changes.data && changes.data.items.length > 0 && (
          <>
            <ChangesTable items={changes.data.items} />
            {changes.data.capped && <p>{t("policeDesk.feed.capped")}</p>}
            <p>
              <button type="button" onClick={markSeen}>
                {t("policeDesk.feed.markSeen")}
              </button>
            </p>
          </>
        )}
      </section>
      <section aria-labelledby="all">
        <h2 id="all">{t("policeDesk.feed.all")}</h2>
        {all.isPending && <p aria-live="polite">{t("loading")}</p>}
        {all.isError && <ProblemView error={all.error} onRetry={() => void all.refetch()} />}
        {all.data && all.data.items.length === 0 && <p>{t("cases.none")}</p>}
        {all.data && all.data.items.length > 0 && (
          <CasesTable caption={t("policeDesk.feed.allCaption")} cases={all.data.items} acknowledgement />
        )}
        <nav className="pager" aria-label={t("policeDesk.feed.all")}>
          {search.page && <Link to="/police">{t("cases.first")}</Link>}
          {all.data?.next_cursor && (
            <Link to="/police" search={{ page: all.data.next_cursor }}>
              {t("cases.more")}
            </Link>
          )}
        </nav>
      </section>
    </section>
  );
}
