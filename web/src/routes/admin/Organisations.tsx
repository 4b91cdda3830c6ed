// School boards, police forces and schools: a page of each at a time, and
// a form to add one. Names are unique (409 name_taken, shown as the API says).
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { createBoard, createPoliceForce, createSchool, listBoards, listPoliceForces, listSchools } from "../../client/sdk.gen";
import { unwrap } from "../../lib/api";
import { ProblemView } from "../Problem";
import { Notice, PAGE_SIZE, Pager, useCursor, useOrganizations } from "./shared";

function useSubmit(onDone: () => Promise<void>) {
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState("");
  async function run(event: FormEvent<HTMLFormElement>, call: (form: FormData) => Promise<string>) {
    event.preventDefault();
    const target = event.currentTarget;
    setError(null);
    setNotice("");
    try {
      setNotice(await call(new FormData(target)));
      target.reset();
      await onDone();
    } catch (problem) {
      setError(problem);
    }
  }
  return { error, notice, run };
}

function Boards() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const pages = useCursor();
  const list = useQuery({
    queryKey: ["admin", "boards", pages.cursor],
    queryFn: () => unwrap(listBoards({ query: { limit: PAGE_SIZE, cursor: pages.cursor } })),
  });
  const submit = useSubmit(() => queryClient.invalidateQueries({ queryKey: ["admin", "boards"] }));
  return (
    <section aria-labelledby="boards">
      <h2 id="boards">{t("admin.orgs.boards")}</h2>
      {list.isError && <ProblemView error={list.error} onRetry={() => void list.refetch()} />}
      <ul>
        {list.data?.items.map((b) => (
          <li key={b.id}>{b.name}</li>
        ))}
      </ul>
      <Pager label={t("admin.orgs.boards")} pages={pages} nextCursor={list.data?.next_cursor} />
      <form
        onSubmit={(e) =>
          void submit.run(e, async (form) => {
            const made = await unwrap(createBoard({ body: { name: String(form.get("name")) } }));
            return made.name;
          })
        }
      >
        {submit.error !== null && <ProblemView error={submit.error} />}
        <Notice>{submit.notice && `${t("admin.common.saved")} ${submit.notice}`}</Notice>
        <label htmlFor="board-name">{t("admin.orgs.boardName")}</label>
        <input id="board-name" name="name" required maxLength={200} autoComplete="off" />
        <button type="submit">{t("admin.orgs.addBoard")}</button>
      </form>
    </section>
  );
}

function Forces() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const pages = useCursor();
  const list = useQuery({
    queryKey: ["admin", "police-forces", pages.cursor],
    queryFn: () => unwrap(listPoliceForces({ query: { limit: PAGE_SIZE, cursor: pages.cursor } })),
  });
  const submit = useSubmit(() => queryClient.invalidateQueries({ queryKey: ["admin", "police-forces"] }));
  return (
    <section aria-labelledby="forces">
      <h2 id="forces">{t("admin.orgs.forces")}</h2>
      {list.isError && <ProblemView error={list.error} onRetry={() => void list.refetch()} />}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption>{t("admin.orgs.forces")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("admin.common.name")}</th>
                <th scope="col">{t("admin.orgs.kitInForce")}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((f) => (
                <tr key={f.id}>
                  <th scope="row">{f.name}</th>
                  <td>{f.kit_in_force ? t("admin.common.yes") : t("admin.common.no")}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager label={t("admin.orgs.forces")} pages={pages} nextCursor={list.data?.next_cursor} />
      <form
        onSubmit={(e) =>
          void submit.run(e, async (form) => {
            const made = await unwrap(createPoliceForce({ body: { name: String(form.get("name")) } }));
            return made.name;
          })
        }
      >
        {submit.error !== null && <ProblemView error={submit.error} />}
        <Notice>{submit.notice && `${t("admin.common.saved")} ${submit.notice}`}</Notice>
        <label htmlFor="force-name">{t("admin.orgs.forceName")}</label>
        <input id="force-name" name="name" required maxLength={200} autoComplete="off" />
        <button type="submit">{t("admin.orgs.addForce")}</button>
      </form>
    </section>
  );
}

function Schools() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const orgs = useOrganizations();
  const pages = useCursor();
  const list = useQuery({
    queryKey: ["admin", "schools", pages.cursor],
    queryFn: () => unwrap(listSchools({ query: { limit: PAGE_SIZE, cursor: pages.cursor } })),
  });
  const submit = useSubmit(() => queryClient.invalidateQueries({ queryKey: ["admin", "schools"] }));
  return (
    <section aria-labelledby="schools">
      <h2 id="schools">{t("admin.orgs.schools")}</h2>
      {list.isError && <ProblemView error={list.error} onRetry={() => void list.refetch()} />}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption>{t("admin.orgs.schools")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("admin.common.name")}</th>
                <th scope="col">{t("admin.orgs.board")}</th>
                <th scope="col">{t("admin.orgs.force")}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((s) => (
                <tr key={s.id}>
                  <th scope="row">{s.name}</th>
                  <td>{orgs.nameOf(s.board_id)}</td>
                  <td>{orgs.nameOf(s.police_force_id)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager label={t("admin.orgs.schools")} pages={pages} nextCursor={list.data?.next_cursor} />
      <form
        onSubmit={(e) =>
          void submit.run(e, async (form) => {
            const made = await unwrap(
              createSchool({
                body: {
                  name: String(form.get("name")),
                  board_id: String(form.get("board_id")),
                  police_force_id: String(form.get("police_force_id")),
                },
              }),
            );
            return made.name;
          })
        }
      >
        {submit.error !== null && <ProblemView error={submit.error} />}
        <Notice>{submit.notice && `${t("admin.common.saved")} ${submit.notice}`}</Notice>
        <label htmlFor="school-name">{t("admin.orgs.schoolName")}</label>
        <input id="school-name" name="name" required maxLength={200} autoComplete="off" />
        <label htmlFor="school-board">{t("admin.orgs.board")}</label>
        <select id="school-board" name="board_id" required defaultValue="">
          <option value="" disabled>
            {t("admin.orgs.choose")}
          </option>
          {orgs.boards.map((b) => (
            <option key={b.id} value={b.id}>
              {b.name}
            </option>
          ))}
        </select>
        <label htmlFor="school-force">{t("admin.orgs.force")}</label>
        <select id="school-force" name="police_force_id" required defaultValue="">
          <option value="" disabled>
            {t("admin.orgs.choose")}
          </option>
          {orgs.forces.map((f) => (
            <option key={f.id} value={f.id}>
              {f.name}
            </option>
          ))}
        </select>
        <button type="submit">{t("admin.orgs.addSchool")}</button>
      </form>
    </section>
  );
}

export function Organisations() {
  const { t } = useTranslation();
  return (
    <section>
      <h1>{t("admin.orgs.title")}</h1>
      <Boards />
      <Forces />
      <Schools />
    </section>
  );
}
