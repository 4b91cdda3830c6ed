import { useQuery } from "@tanstack/react-query";
import { Link, useNavigate, useSearch } from "@tanstack/react-router";
import { type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { listCases } from "../client/sdk.gen";
import type { CaseStatus } from "../client/types.gen";
import { unwrap } from "../lib/api";
import { STATUSES } from "../lib/labels";
import { sessionQuery } from "../lib/session";
import { ProblemView } from "./Problem";
import { FlagList, StatusBadge } from "./CaseBits";

export type CaseListSearch = { status?: CaseStatus; cursor?: string };

export function CaseList() {
  const { t, i18n } = useTranslation();
  const search = useSearch({ strict: false }) as CaseListSearch;
  const navigate = useNavigate();
  const session = useQuery(sessionQuery);
  const role = session.data?.me.role;
  const page = useQuery({
    queryKey: ["cases", search.status ?? null, search.cursor ?? null],
    queryFn: () =>
      unwrap(listCases({ query: { status: search.status ?? null, cursor: search.cursor ?? null, limit: 25 } })),
  });
  const dates = new Intl.DateTimeFormat(i18n.language === "en" ? "en-CA" : "fr-CA", {
    dateStyle: "medium",
    timeStyle: "short",
  });

  function filter(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const status = String(new FormData(event.currentTarget).get("status") || "");
    void navigate({ to: "/cases", search: status ? { status: status as CaseStatus } : {} });
  }

  return (
    <section>
      <h1>{t("cases.title")}</h1>
      {(role === "school_staff" || role === "school_lead") && (
        <p>
          <Link to="/cases/new" className="button-link">
            {t("open.link")}
          </Link>
        </p>
      )}
      <form className="filters" onSubmit={filter}>
        <label htmlFor="status">{t("cases.filterStatus")}</label>
        <select id="status" name="status" defaultValue={search.status ?? ""} key={search.status ?? ""}>
          <option value="">{t("cases.anyStatus")}</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {t(`status.${s}`)}
            </option>
          ))}
        </select>
        <button type="submit">{t("cases.filter")}</button>
      </form>
      {page.isPending && <p aria-live="polite">{t("loading")}</p>}
      {page.isError && <ProblemView error={page.error} onRetry={() => void page.refetch()} />}
      {page.data && page.data.items.length === 0 && <p>{t("cases.none")}</p>}
      {page.data && page.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="cases">
            <caption>{t("cases.caption")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("cases.reference")}</th>
                <th scope="col">{t("cases.status")}</th>
                <th scope="col">{t("cases.flags")}</th>
                <th scope="col">{t("cases.waiting")}</th>
                <th scope="col">{t("cases.updated")}</th>
              </tr>
            </thead>
            <tbody>
              {page.data.items.map((c) => (
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
                    {c.waiting.length === 0 ? (
                      t("cases.nothingWaiting")
                    ) : (
                      <ul className="waiting">
                        {c.waiting.map((step) => (
                          <li key={`${step.code}-${step.subject ?? ""}`}>{step.detail}</li>
                        ))}
                      </ul>
                    )}
                  </td>
                  <td>
                    <time dateTime={c.updated_at}>{dates.format(new Date(c.updated_at))}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav className="pager" aria-label={t("cases.title")}>
        {search.cursor && (
          <Link to="/cases" search={search.status ? { status: search.status } : {}}>
            {t("cases.first")}
          </Link>
        )}
        {page.data?.next_cursor && (
          <Link to="/cases" search={{ ...(search.status ? { status: search.status } : {}), cursor: page.data.next_cursor }}>
            {t("cases.more")}
          </Link>
        )}
      </nav>
    </section>
  );
}
