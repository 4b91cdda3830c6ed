// Service accounts (board systems, police portals): a page at a time, a form
// to create one, and per account: disable, a new secret, revoke its tokens.
// A secret is shown once, in this page's memory only.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import {
  createServiceAccount,
  listServiceAccounts,
  revokeServiceAccountTokens,
  rotateSecret,
  updateServiceAccount,
} from "../../client/sdk.gen";
import type { Role } from "../../client/types.gen";
import { unwrap } from "../../lib/api";
import { ProblemView } from "../Problem";
import { Notice, PAGE_SIZE, Pager, ROLES, ScopeFields, ScopeList, scopeOf, useCursor } from "./shared";

type Shown = { clientId: string; secret: string | null };

function Secret({ shown }: { shown: Shown }) {
  const { t } = useTranslation();
  return (
    <div className="notice" role="status">
      <p>
        {t("admin.services.clientId")} : <code className="secret">{shown.clientId}</code>
      </p>
      {shown.secret ? (
        <p>
          {t("admin.services.secretOnce")} <code className="secret">{shown.secret}</code>
        </p>
      ) : (
        <p>{t("admin.services.secretLater")}</p>
      )}
    </div>
  );
}

export function ServiceAccounts() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const pages = useCursor();
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState("");
  const [shown, setShown] = useState<Shown | null>(null);
  const list = useQuery({
    queryKey: ["admin", "service-accounts", pages.cursor],
    queryFn: () => unwrap(listServiceAccounts({ query: { limit: PAGE_SIZE, cursor: pages.cursor } })),
  });

  async function act(call: () => Promise<void>) {
    setError(null);
    setNotice("");
    setShown(null);
    try {
      await call();
      await queryClient.invalidateQueries({ queryKey: ["admin", "service-accounts"] });
    } catch (problem) {
      setError(problem);
    }
  }

  function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const target = event.currentTarget;
    const form = new FormData(target);
    void act(async () => {
      const made = await unwrap(
        createServiceAccount({
          headers: { "Idempotency-Key": crypto.randomUUID() },
          body: { name: String(form.get("name")), role: String(form.get("role")) as Role, scope: scopeOf(form) },
        }),
      );
      setShown({ clientId: made.client_id, secret: made.client_secret });
      target.reset();
    });
  }

  return (
    <section>
      <h1>{t("admin.services.title")}</h1>
      <p>{t("admin.services.intro")}</p>
      {error !== null && <ProblemView error={error} />}
      <Notice>{notice}</Notice>
      {shown && <Secret shown={shown} />}
      {list.isError && <ProblemView error={list.error} onRetry={() => void list.refetch()} />}
      {list.data && list.data.items.length === 0 && <p>{t("admin.common.none")}</p>}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption>{t("admin.services.caption")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("admin.common.name")}</th>
                <th scope="col">{t("admin.services.clientId")}</th>
                <th scope="col">{t("admin.common.role")}</th>
                <th scope="col">{t("admin.scope.legend")}</th>
                <th scope="col">{t("admin.common.status")}</th>
                <th scope="col">{t("admin.common.actions")}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((a) => (
                <tr key={a.id}>
                  <th scope="row">{a.name}</th>
                  <td>
                    <code>{a.client_id}</code>
                  </td>
                  <td>{t(`admin.roles.${a.role}`)}</td>
                  <td>
                    <ScopeList scope={a.scope} />
                  </td>
                  <td>
                    {a.is_active ? t("admin.common.active") : t("admin.common.disabled")} —{" "}
                    {a.approval.in_force ? t("admin.users.inForce") : t("admin.users.waiting")}
                  </td>
                  <td>
                    <div className="row-actions">
                      <button
                        type="button"
                        onClick={() =>
                          void act(async () => {
                            const made = await unwrap(rotateSecret({ path: { account_id: a.id } }));
                            setShown({ clientId: made.client_id, secret: made.client_secret });
                          })
                        }
                      >
                        {t("admin.services.rotate", { name: a.name })}
                      </button>
                      <button
                        type="button"
                        onClick={() =>
                          void act(async () => {
                            await unwrap(revokeServiceAccountTokens({ path: { account_id: a.id } }));
                            setNotice(t("admin.services.revoked", { name: a.name }));
                          })
                        }
                      >
                        {t("admin.services.revoke", { name: a.name })}
                      </button>
                      <button
                        type="button"
                        onClick={() =>
                          void act(async () => {
                            await unwrap(updateServiceAccount({ path: { account_id: a.id }, body: { is_active: !a.is_active } }));
                            setNotice(t("admin.common.saved"));
                          })
                        }
                      >
                        {a.is_active ? t("admin.services.disable", { name: a.name }) : t("admin.services.enable", { name: a.name })}
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager label={t("admin.services.title")} pages={pages} nextCursor={list.data?.next_cursor} />

      <h2 id="create-service">{t("admin.services.create")}</h2>
      <form aria-labelledby="create-service" onSubmit={create}>
        <label htmlFor="service-name">{t("admin.common.name")}</label>
        <input id="service-name" name="name" required maxLength={200} autoComplete="off" />
        <label htmlFor="service-role">{t("admin.common.role")}</label>
        <select id="service-role" name="role" defaultValue="police_liaison">
          {ROLES.filter((r) => r !== "admin").map((r) => (
            <option key={r} value={r}>
              {t(`admin.roles.${r}`)}
            </option>
          ))}
        </select>
        <ScopeFields idPrefix="service" />
        <button type="submit">{t("admin.common.create")}</button>
      </form>
    </section>
  );
}
