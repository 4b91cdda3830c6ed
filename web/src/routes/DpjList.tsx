// DPJ reporters: the cases of their schools that need a report to the DPJ
// (the API shows them no other), a page at a time.
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { listCases } from "../client/sdk.gen";
import { unwrap } from "../lib/api";
import { Pager, useCursor } from "../lib/paging";
import { CasesTable } from "./PoliceFeed";
import { ProblemView } from "./Problem";

export function DpjList() {
  const { t } = useTranslation();
  const pages = useCursor();
  const page = useQuery({
    queryKey: ["cases", "dpj", pages.cursor],
    queryFn: () => unwrap(listCases({ query: { cursor: pages.cursor, limit: 25 } })),
  });
  return (
    <section>
      <h1>{t("policeDesk.dpj.title")}</h1>
      <p>{t("policeDesk.dpj.help")}</p>
      {page.isPending && <p aria-live="polite">{t("loading")}</p>}
      {page.isError && <ProblemView error={page.error} onRetry={() => void page.refetch()} />}
      {page.data && page.data.items.length === 0 && <p>{t("policeDesk.dpj.none")}</p>}
      {page.data && page.data.items.length > 0 && <CasesTable caption={t("policeDesk.dpj.caption")} cases={page.data.items} />}
      <Pager label={t("policeDesk.dpj.title")} pages={pages} nextCursor={page.data?.next_cursor} more={t("cases.more")} />
    </section>
  );
}
