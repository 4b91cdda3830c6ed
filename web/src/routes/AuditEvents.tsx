// Audit entries as a table: ids, roles, actions, times and outcomes, as the
// API gives them (it holds no names and no case contents).
import { Link } from "@tanstack/react-router";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import type { AuditEvent } from "../client/types.gen";

/** A table wider than a phone scrolls sideways: a named region the keyboard reaches. */
export function TableWrap({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

export function useInstants() {
  const { i18n } = useTranslation();
  const format = new Intl.DateTimeFormat(i18n.language === "en" ? "en-CA" : "fr-CA", {
    dateStyle: "medium",
    timeStyle: "medium",
  });
  return (value: string) => format.format(new Date(value));
}

/** ``caseLinks``: link each case to its access log (the auditor's; the privacy officer reads none). */
export function AuditEvents({ items, caption, caseLinks = true }: { items: AuditEvent[]; caption: string; caseLinks?: boolean }) {
  const { t } = useTranslation();
  const instant = useInstants();
  return (
    <TableWrap label={caption}>
      <table className="events">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{t("oversight.events.entry")}</th>
            <th scope="col">{t("oversight.events.when")}</th>
            <th scope="col">{t("oversight.events.who")}</th>
            <th scope="col">{t("oversight.events.action")}</th>
            <th scope="col">{t("oversight.events.resource")}</th>
            <th scope="col">{t("oversight.events.outcome")}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((e) => (
            <tr key={e.id}>
              <th scope="row">
                {e.id}
                <span className="help">
                  {" "}
                  {t("oversight.events.seq", { chain: e.chain, seq: e.seq })}
                </span>
              </th>
              <td>
                <time dateTime={e.recorded_at}>{instant(e.recorded_at)}</time>
              </td>
              <td>
                {e.actor_role ? t(`oversight.role.${e.actor_role}`, { defaultValue: e.actor_role }) : t(`oversight.actor.${e.actor_kind}`, { defaultValue: e.actor_kind })}
                {e.actor_id && (
                  <>
                    <br />
                    <code className="id">{e.actor_id}</code>
                  </>
                )}
              </td>
              <td>
                <code>{e.action}</code>
              </td>
              <td>
                {e.resource_type && (
                  <>
                    {e.resource_type} <code className="id">{e.resource_id}</code>
                  </>
                )}
                {e.case_id && !caseLinks && (
                  <>
                    <br />
                    {t("oversight.events.case")} <code className="id">{e.case_id}</code>
                  </>
                )}
                {e.case_id && caseLinks && (
                  <>
                    <br />
                    <Link to="/audit/cases/$caseId" params={{ caseId: e.case_id }}>
                      {t("oversight.events.caseLog", { id: e.case_id })}
                    </Link>
                  </>
                )}
                {e.returned_ids.length > 0 && (
                  <>
                    <br />
                    {t("oversight.events.returned", { count: e.returned_ids.length })}
                  </>
                )}
              </td>
              <td>
                <span className={`outcome outcome-${e.outcome}`}>
                  {t(`oversight.outcome.${e.outcome}`, { defaultValue: e.outcome })}
                </span>{" "}
                ({e.status_code}){e.reason && <> — <code>{e.reason}</code></>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}
