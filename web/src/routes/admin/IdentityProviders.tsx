// The admin's registry of identity providers: register one (the client
// secret stays in a file the operator placed; only its name is given here),
// and see who must approve it. Approval is never the admin's.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { createIdentityProvider, listIdentityProviders, updateIdentityProvider } from "../../client/sdk.gen";
import type { IdentityProviderOut } from "../../client/types.gen";
import { unwrap } from "../../lib/api";
import { ProblemView } from "../Problem";
import { Notice, PAGE_SIZE, Pager, listOf, useCursor, useDates, useOrganizations } from "./shared";

export function ApprovalState({ provider, orgName }: { provider: IdentityProviderOut; orgName: string }) {
  const { t } = useTranslation();
  const dates = useDates();
  if (provider.approved_at) {
    return <>{t("admin.providers.approved", { date: dates.time.format(new Date(provider.approved_at)) })}</>;
  }
  return (
    <>
      <strong>{t("admin.providers.waiting")}</strong>{" "}
      {provider.board_id ? t("admin.providers.whoBoard", { org: orgName }) : t("admin.providers.whoForce", { org: orgName })}
    </>
  );
}

export function IdentityProviders() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const orgs = useOrganizations();
  const pages = useCursor();
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState("");
  const [redirect, setRedirect] = useState<string | null>(null);
  const list = useQuery({
    queryKey: ["admin", "identity-providers", pages.cursor],
    queryFn: () => unwrap(listIdentityProviders({ query: { limit: PAGE_SIZE, cursor: pages.cursor } })),
  });

  async function act(call: () => Promise<void>) {
    setError(null);
    setNotice("");
    setRedirect(null);
    try {
      await call();
      await queryClient.invalidateQueries({ queryKey: ["admin", "identity-providers"] });
    } catch (problem) {
      setError(problem);
    }
  }

  function register(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const target = event.currentTarget;
    const form = new FormData(target);
    const [kind, id] = String(form.get("organisation")).split(":");
    void act(async () => {
      const made = await unwrap(
        createIdentityProvider({
          headers: { "Idempotency-Key": crypto.randomUUID() },
          body: {
            name: String(form.get("name")),
            board_id: kind === "board" ? id : null,
            police_force_id: kind === "force" ? id : null,
            issuer: String(form.get("issuer")).trim(),
            client_id: String(form.get("client_id")).trim(),
            client_secret_file: String(form.get("client_secret_file")).trim(),
            client_auth_method: form.get("client_auth_method") === "client_secret_post" ? "client_secret_post" : "client_secret_basic",
            allowed_domains: listOf(form, "allowed_domains"),
            required_acr: listOf(form, "required_acr"),
            required_amr: listOf(form, "required_amr"),
            enabled: form.get("enabled") === "on",
          },
        }),
      );
      setNotice(t("admin.providers.registered"));
      setRedirect(made.redirect_uri);
      target.reset();
    });
  }

  const orgOf = (p: IdentityProviderOut) => orgs.nameOf(p.board_id ?? p.police_force_id);
  return (
    <section>
      <h1>{t("admin.providers.title")}</h1>
      <p>{t("admin.providers.intro")}</p>
      {error !== null && <ProblemView error={error} />}
      <Notice>
        {notice}
        {redirect && (
          <>
            {" "}
            {t("admin.providers.redirect")}{" "}
            <code className="secret">{redirect}</code>
          </>
        )}
      </Notice>
      {list.isError && <ProblemView error={list.error} onRetry={() => void list.refetch()} />}
      {list.data && list.data.items.length === 0 && <p>{t("admin.common.none")}</p>}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption>{t("admin.providers.caption")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("admin.common.name")}</th>
                <th scope="col">{t("admin.providers.organisation")}</th>
                <th scope="col">{t("admin.providers.issuer")}</th>
                <th scope="col">{t("admin.providers.approval")}</th>
                <th scope="col">{t("admin.common.actions")}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((p) => (
                <tr key={p.id}>
                  <th scope="row">{p.name}</th>
                  <td>{orgOf(p)}</td>
                  <td>
                    <code className="secret">{p.issuer}</code>
                  </td>
                  <td>
                    <ApprovalState provider={p} orgName={orgOf(p)} />
                  </td>
                  <td>
                    {p.enabled ? "" : `${t("admin.common.disabled")} `}
                    <button
                      type="button"
                      onClick={() =>
                        void act(async () => {
                          await unwrap(updateIdentityProvider({ path: { provider_id: p.id }, body: { enabled: !p.enabled } }));
                          setNotice(t("admin.common.saved"));
                        })
                      }
                    >
                      {p.enabled ? t("admin.providers.disable", { name: p.name }) : t("admin.providers.enable", { name: p.name })}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager label={t("admin.providers.title")} pages={pages} nextCursor={list.data?.next_cursor} />

      <h2 id="register-provider">{t("admin.providers.register")}</h2>
      <form aria-labelledby="register-provider" onSubmit={register}>
        <label htmlFor="idp-name">{t("admin.providers.name")}</label>
        <input id="idp-name" name="name" required maxLength={200} autoComplete="off" />
        <label htmlFor="idp-org">{t("admin.providers.organisation")}</label>
        <select id="idp-org" name="organisation" required defaultValue="">
          <option value="" disabled>
            {t("admin.orgs.choose")}
          </option>
          <optgroup label={t("admin.orgs.boards")}>
            {orgs.boards.map((b) => (
              <option key={b.id} value={`board:${b.id}`}>
                {b.name}
              </option>
            ))}
          </optgroup>
          <optgroup label={t("admin.orgs.forces")}>
            {orgs.forces.map((f) => (
              <option key={f.id} value={`force:${f.id}`}>
                {f.name}
              </option>
            ))}
          </optgroup>
        </select>
        <label htmlFor="idp-issuer">{t("admin.providers.issuer")}</label>
        <input id="idp-issuer" name="issuer" type="url" required maxLength={500} autoComplete="off" />
        <label htmlFor="idp-client">{t("admin.providers.clientId")}</label>
        <input id="idp-client" name="client_id" required maxLength={255} autoComplete="off" />
        <label htmlFor="idp-secret-file">{t("admin.providers.secretFile")}</label>
        <input
          id="idp-secret-file"
          name="client_secret_file"
          required
          maxLength={255}
          pattern="[A-Za-z0-9][A-Za-z0-9._\-]*"
          autoComplete="off"
          aria-describedby="idp-secret-file-help"
        />
        <p className="help" id="idp-secret-file-help">
          {t("admin.providers.secretFileHelp")}
        </p>
        <label htmlFor="idp-method">{t("admin.providers.authMethod")}</label>
        <select id="idp-method" name="client_auth_method" defaultValue="client_secret_basic">
          <option value="client_secret_basic">client_secret_basic</option>
          <option value="client_secret_post">client_secret_post</option>
        </select>
        <label htmlFor="idp-domains">{t("admin.providers.domains")}</label>
        <textarea id="idp-domains" name="allowed_domains" required rows={2} aria-describedby="idp-domains-help" />
        <p className="help" id="idp-domains-help">
          {t("admin.providers.domainsHelp")}
        </p>
        <label htmlFor="idp-acr">{t("admin.providers.acr")}</label>
        <input id="idp-acr" name="required_acr" autoComplete="off" aria-describedby="idp-claims-help" />
        <label htmlFor="idp-amr">{t("admin.providers.amr")}</label>
        <input id="idp-amr" name="required_amr" autoComplete="off" aria-describedby="idp-claims-help" />
        <p className="help" id="idp-claims-help">
          {t("admin.providers.claimsHelp")}
        </p>
        <label className="inline">
          <input type="checkbox" name="enabled" defaultChecked /> {t("admin.providers.enabled")}
        </label>
        <button type="submit">{t("admin.providers.register")}</button>
      </form>
    </section>
  );
}
