// For the people who approve an organization's identity providers (its
// privacy officer or a school lead; a police liaison of the force): those
// waiting for them, what each trusts, and the approve action.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { approveIdentityProvider, listPendingIdentityProviders } from "../client/sdk.gen";
import { unwrap } from "../lib/api";
import { Notice, PAGE_SIZE, Pager, useCursor } from "./admin/shared";
import { ProblemView } from "./Problem";

export function ProviderApprovals() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const pages = useCursor();
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState("");
  const list = useQuery({
    queryKey: ["approvals", "identity-providers", pages.cursor],
    queryFn: () => unwrap(listPendingIdentityProviders({ query: { limit: PAGE_SIZE, cursor: pages.cursor } })),
  });

  async function approve(id: string, name: string) {
    setError(null);
    setNotice("");
    try {
      await unwrap(approveIdentityProvider({ path: { provider_id: id } }));
      setNotice(t("admin.providers.approvedNow", { name }));
      await queryClient.invalidateQueries({ queryKey: ["approvals", "identity-providers"] });
    } catch (problem) {
      setError(problem);
    }
  }

  return (
    <section>
      <h1>{t("admin.providers.approveTitle")}</h1>
      <p>{t("admin.providers.approveIntro")}</p>
      {error !== null && <ProblemView error={error} />}
      <Notice>{notice}</Notice>
      {list.isPending && <p aria-live="polite">{t("loading")}</p>}
      {list.isError && <ProblemView error={list.error} onRetry={() => void list.refetch()} />}
      {list.data && list.data.items.length === 0 && <p>{t("admin.providers.noneWaiting")}</p>}
      <ul className="actions">
        {list.data?.items.map((p) => (
          <li key={p.id}>
            <h2>{p.name}</h2>
            <p>
              {t("admin.providers.details", {
                issuer: p.issuer,
                client: p.client_id,
                domains: p.allowed_domains.join(", "),
                mfa: [...p.required_acr, ...p.required_amr].join(", ") || t("admin.common.no"),
              })}
            </p>
            <button type="button" onClick={() => void approve(p.id, p.name)}>
              {t("admin.providers.approve", { name: p.name })}
            </button>
          </li>
        ))}
      </ul>
      <Pager label={t("admin.providers.approveTitle")} pages={pages} nextCursor={list.data?.next_cursor} />
    </section>
  );
}
