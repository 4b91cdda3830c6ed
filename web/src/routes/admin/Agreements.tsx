// DCPP agreements of the police forces: while one is in force, the kit may
// be used at the schools the force serves.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { createAgreement, listAgreements } from "../../client/sdk.gen";
import { unwrap } from "../../lib/api";
import { ProblemView } from "../Problem";
import { Notice, PAGE_SIZE, Pager, optional, useCursor, useDates, useOrganizations } from "./shared";

export function Agreements() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const orgs = useOrganizations();
  const dates = useDates();
  const pages = useCursor();
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState("");
  const list = useQuery({
    queryKey: ["admin", "agreements", pages.cursor],
    queryFn: () => unwrap(listAgreements({ query: { limit: PAGE_SIZE, cursor: pages.cursor } })),
  });

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const target = event.currentTarget;
    const form = new FormData(target);
    setError(null);
    setNotice("");
    try {
      const made = await unwrap(
        createAgreement({
          body: {
            police_force_id: String(form.get("police_force_id")),
            reference: optional(form, "reference"),
            starts_on: String(form.get("starts_on")),
            ends_on: optional(form, "ends_on"),
          },
        }),
      );
      setNotice(`${t("admin.common.saved")} ${made.reference ?? ""}`);
      target.reset();
      await queryClient.invalidateQueries({ queryKey: ["admin", "agreements"] });
      await queryClient.invalidateQueries({ queryKey: ["admin", "police-forces"] });
    } catch (problem) {
      setError(problem);
    }
  }

  const day = (d: string) => dates.day.format(new Date(`${d}T00:00:00Z`));
  return (
    <section>
      <h1>{t("admin.agreements.title")}</h1>
      {list.isError && <ProblemView error={list.error} onRetry={() => void list.refetch()} />}
      {list.data && list.data.items.length === 0 && <p>{t("admin.common.none")}</p>}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption>{t("admin.agreements.title")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("admin.agreements.force")}</th>
                <th scope="col">{t("admin.agreements.reference")}</th>
                <th scope="col">{t("admin.agreements.startsOn")}</th>
                <th scope="col">{t("admin.agreements.endsOn")}</th>
                <th scope="col">{t("admin.agreements.inForce")}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((a) => (
                <tr key={a.id}>
                  <th scope="row">{orgs.nameOf(a.police_force_id)}</th>
                  <td>{a.reference}</td>
                  <td>
                    <time dateTime={a.starts_on}>{day(a.starts_on)}</time>
                  </td>
                  <td>{a.ends_on ? <time dateTime={a.ends_on}>{day(a.ends_on)}</time> : t("admin.agreements.noEnd")}</td>
                  <td>{a.in_force_today ? t("admin.common.yes") : t("admin.common.no")}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager label={t("admin.agreements.title")} pages={pages} nextCursor={list.data?.next_cursor} />
      <form onSubmit={(e) => void submit(e)}>
        {error !== null && <ProblemView error={error} />}
        <Notice>{notice}</Notice>
        <label htmlFor="agreement-force">{t("admin.agreements.force")}</label>
        <select id="agreement-force" name="police_force_id" required defaultValue="">
          <option value="" disabled>
            {t("admin.orgs.choose")}
          </option>
          {orgs.forces.map((f) => (
            <option key={f.id} value={f.id}>
              {f.name}
            </option>
          ))}
        </select>
        <label htmlFor="agreement-reference">{t("admin.agreements.reference")}</label>
        <input id="agreement-reference" name="reference" maxLength={100} autoComplete="off" />
        <label htmlFor="agreement-starts">{t("admin.agreements.startsOn")}</label>
        <input id="agreement-starts" name="starts_on" type="date" required />
        <label htmlFor="agreement-ends">{t("admin.agreements.endsOn")}</label>
        <input id="agreement-ends" name="ends_on" type="date" />
        <button type="submit">{t("admin.agreements.add")}</button>
      </form>
    </section>
  );
}
