// One case's access log: every entry about it, whoever made it (SPEC §5).
// Ids, roles, actions and times only: the auditor never reads the case.
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "@tanstack/react-router";
import { useTranslation } from "react-i18next";
import { caseAccessLog } from "../client/sdk.gen";
import { unwrap } from "../lib/api";
import { Pager, useCursor } from "../lib/paging";
import { AuditEvents } from "./AuditEvents";
import { ProblemView } from "./Problem";

export function AccessLogPage() {
  const { t } = useTranslation();
  const { caseId } = useParams({ strict: false }) as { caseId: string };
  const pages = useCursor();
  const page = useQuery({
    queryKey: ["access-log", caseId, pages.cursor],
    queryFn: () => unwrap(caseAccessLog({ path: { case_id: caseId }, query: { cursor: pages.cursor, limit: 50 } })),
  });
  return (
    <section className="oversight">
      <p>
        <Link to="/audit">{t("oversight.accessLog.back")}</Link>
      </p>
      <h1>{t("oversight.accessLog.heading")}</h1>
      <p>
        {t("oversight.accessLog.case")} <code className="id">{caseId}</code>
      </p>
      <p className="help">{t("oversight.accessLog.intro")}</p>
      {page.isPending && <p aria-live="polite">{t("loading")}</p>}
      {page.isError && <ProblemView error={page.error} onRetry={() => void page.refetch()} />}
      {page.data && page.data.items.length === 0 && <p>{t("oversight.events.none")}</p>}
      {page.data && page.data.items.length > 0 && (
        <AuditEvents items={page.data.items} caption={t("oversight.accessLog.caption")} />
      )}
      <Pager label={t("oversight.accessLog.heading")} pages={pages} nextCursor={page.data?.next_cursor} more={t("oversight.more")} />
    </section>
  );
}
