// DPJ reporters: the cases of their schools that need a report to the DPJ
// (the API shows them no other), a page at a time.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { listCases } from "../client/sdk.gen";
import { unwrap } from "../lib/api";
import { CasesTable } from "./PoliceFeed";
import { ProblemView } from "./Problem";

export function DpjList() {
  const { t } = useTranslation();
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1) ?? null;
  const page = useQuery({
    queryKey: ["cases", "dpj", cursor],
    queryFn: () => unwrap(listCases({ query: { cursor, limit: 25 } })),
  });
  const next = page.data?.next_cursor;
  return (
    <section>
      <h1>{t("policeDesk.dpj.title")}</h1>
      <p>{t("policeDesk.dpj.help")}</p>
      {page.isPending && <p aria-live="polite">{t("loading")}</p>}
      {page.isError && <ProblemView error={page.error} onRetry={() => void page.refetch()} />}
      {page.data && page.data.items.length === 0 && <p>{t("policeDesk.dpj.none")}</p>}
      {page.data && page.data.items.length > 0 && <CasesTable caption={t("policeDesk.dpj.caption")} cases={page.data.items} />}
      <nav className="pager" aria-label={t("policeDesk.dpj.title")}>
        {cursor && (
          <button type="button" onClick={() => setCursors([])}>
            {t("cases.first")}
          </button>
        )}
        {next && (
          <button type="button" onClick={() => setCursors([...cursors, next])}>
            {t("cases.more")}
          </button>
        )}
      </nav>
    </section>
  );
}
