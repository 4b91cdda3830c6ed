// People's accounts: a page at a time, filtered by role; a form to create
// one with its role, scope and (for single sign-on) email.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { createUser, listUsers } from "../../client/sdk.gen";
import type { Role } from "../../client/types.gen";
import { unwrap } from "../../lib/api";
import { ProblemView } from "../Problem";
import { Notice, PAGE_SIZE, Pager, ROLES, ScopeFields, ScopeList, optional, scopeOf, useCursor } from "./shared";

export function Users() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const pages = useCursor();
  const [role, setRole] = useState<Role | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<{ id: string; name: string } | null>(null);
  const list = useQuery({
    queryKey: ["admin", "users", role, pages.cursor],
    queryFn: () => unwrap(listUsers({ query: { limit: PAGE_SIZE, cursor: pages.cursor, role } })),
  });

  function filter(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const value = String(new FormData(event.currentTarget).get("role") || "");
    pages.first();
    setRole(value ? (value as Role) : null);
  }

  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const target = event.currentTarget;
    const form = new FormData(target);
    setError(null);
    setCreated(null);
    try {
      const user = await unwrap(
        createUser({
          headers: { "Idempotency-Key": crypto.randomUUID() },
          body: {
            username: String(form.get("username")),
            full_name: String(form.get("full_name")),
            email: optional(form, "email"),
            role: String(form.get("role")) as Role,
            password: String(form.get("password")),
            scope: scopeOf(form),
          },
        }),
      );
      setCreated({ id: user.id, name: user.full_name });
      target.reset();
      await queryClient.invalidateQueries({ queryKey: ["admin", "users"] });
    } catch (problem) {
      setError(problem);
    }
  }

  return (
    <section>
      <h1>{t("admin.users.title")}</h1>
      <form className="filters" onSubmit={filter}>
        <label htmlFor="users-role">{t("admin.common.role")}</label>
        <select id="users-role" name="role" defaultValue={role ?? ""}>
          <option value="">{t("admin.common.anyRole")}</option>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {t(`admin.roles.${r}`)}
            </option>
          ))}
        </select>
        <button type="submit">{t("admin.common.filter")}</button>
      </form>
      {list.isPending && <p aria-live="polite">{t("loading")}</p>}
      {list.isError && <ProblemView error={list.error} onRetry={() => void list.refetch()} />}
      {list.data && list.data.items.length === 0 && <p>{t("admin.common.none")}</p>}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption>{t("admin.users.caption")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("admin.users.fullName")}</th>
                <th scope="col">{t("admin.users.username")}</th>
                <th scope="col">{t("admin.common.role")}</th>
                <th scope="col">{t("admin.scope.legend")}</th>
                <th scope="col">{t("admin.common.status")}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((u) => (
                <tr key={u.id}>
                  <th scope="row">
                    <Link to="/admin/users/$userId" params={{ userId: u.id }} aria-label={t("admin.users.open", { name: u.full_name })}>
                      {u.full_name}
                    </Link>
                  </th>
                  <td>{u.username}</td>
                  <td>{t(`admin.roles.${u.role}`)}</td>
                  <td>
                    <ScopeList scope={u.scope} />
                  </td>
                  <td>
                    {u.is_active ? t("admin.common.active") : t("admin.common.disabled")}
                    {" — "}
                    {u.approval.in_force ? t("admin.users.inForce") : t("admin.users.waiting")}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager label={t("admin.users.title")} pages={pages} nextCursor={list.data?.next_cursor} />

      <h2 id="create-user">{t("admin.users.create")}</h2>
      <form aria-labelledby="create-user" onSubmit={(e) => void create(e)}>
        {error !== null && <ProblemView error={error} />}
        <Notice>
          {created && (
            <>
              {t("admin.users.created", { name: created.name })}{" "}
              <Link to="/admin/users/$userId" params={{ userId: created.id }}>
                {t("admin.users.open", { name: created.name })}
              </Link>
            </>
          )}
        </Notice>
        <label htmlFor="new-username">{t("admin.users.username")}</label>
        <input id="new-username" name="username" required maxLength={64} autoComplete="off" />
        <label htmlFor="new-full-name">{t("admin.users.fullName")}</label>
        <input id="new-full-name" name="full_name" required maxLength={200} autoComplete="off" />
        <label htmlFor="new-email">{t("admin.users.email")}</label>
        <input id="new-email" name="email" type="email" maxLength={254} autoComplete="off" aria-describedby="new-email-help" />
        <p className="help" id="new-email-help">
          {t("admin.users.emailHelp")}
        </p>
        <label htmlFor="new-role">{t("admin.common.role")}</label>
        <select id="new-role" name="role" required defaultValue="school_staff">
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {t(`admin.roles.${r}`)}
            </option>
          ))}
        </select>
        <ScopeFields idPrefix="new" />
        <label htmlFor="new-password">{t("admin.users.password")}</label>
        <input
          id="new-password"
          name="password"
          type="password"
          required
          minLength={12}
          maxLength={256}
          autoComplete="new-password"
          aria-describedby="new-password-help"
        />
        <p className="help" id="new-password-help">
          {t("admin.users.passwordHelp")}
        </p>
        <button type="submit">{t("admin.common.create")}</button>
      </form>
    </section>
  );
}
