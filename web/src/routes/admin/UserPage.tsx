// One person's account: its role and scope and where their approval stands,
// its attestations, and the admin's security actions (disable, take the
// second factor away, end every session).
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { readUser, recordAttestation, resetUserMfa, revokeAttestation, revokeUserTokens, updateUser } from "../../client/sdk.gen";
import type { AttestationLevel, Role, UserOut, UserUpdate } from "../../client/types.gen";
import { unwrap } from "../../lib/api";
import { ProblemView } from "../Problem";
import { Notice, ROLES, ScopeFields, ScopeList, optional, scopeOf, useDates } from "./shared";

const LEVELS: AttestationLevel[] = ["explorer", "architect"];

function sameIds(a: string[], b: { id: string }[]): boolean {
  return a.length === b.length && b.every((o) => a.includes(o.id));
}

export function UserPage() {
  const { t } = useTranslation();
  const { userId } = useParams({ strict: false }) as { userId: string };
  const queryClient = useQueryClient();
  const dates = useDates();
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState("");
  const user = useQuery({ queryKey: ["admin", "user", userId], queryFn: () => unwrap(readUser({ path: { user_id: userId } })) });

  async function act(call: () => Promise<unknown>, said: string) {
    setError(null);
    setNotice("");
    try {
      await call();
      setNotice(said);
      await queryClient.invalidateQueries({ queryKey: ["admin", "user", userId] });
      await queryClient.invalidateQueries({ queryKey: ["admin", "users"] });
    } catch (problem) {
      setError(problem);
    }
  }

  function change(event: FormEvent<HTMLFormElement>, current: UserOut) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    // Only what changed: an unchanged scope keeps its approvals.
    const body: UserUpdate = {};
    const fullName = String(form.get("full_name"));
    if (fullName !== current.full_name) body.full_name = fullName;
    const email = optional(form, "email");
    if (email && email !== current.email) body.email = email;
    const role = String(form.get("role")) as Role;
    if (role !== current.role) body.role = role;
    const scope = scopeOf(form);
    const unchanged =
      sameIds(scope.boards ?? [], current.scope.boards) &&
      sameIds(scope.schools ?? [], current.scope.schools) &&
      sameIds(scope.police_forces ?? [], current.scope.police_forces) &&
      Boolean(scope.platform) === current.scope.platform;
    if (!unchanged || body.role) body.scope = scope;
    void act(() => unwrap(updateUser({ path: { user_id: current.id }, body })), t("admin.common.saved"));
  }

  function attest(event: FormEvent<HTMLFormElement>, current: UserOut) {
    event.preventDefault();
    const target = event.currentTarget;
    const form = new FormData(target);
    void act(async () => {
      await unwrap(
        recordAttestation({
          path: { user_id: current.id },
          body: {
            level: String(form.get("level")) as AttestationLevel,
            obtained_on: String(form.get("obtained_on")),
            badge_url: String(form.get("badge_url")),
          },
        }),
      );
      target.reset();
    }, t("admin.common.saved"));
  }

  if (user.isPending) return <p aria-live="polite">{t("loading")}</p>;
  if (user.isError) return <ProblemView error={user.error} onRetry={() => void user.refetch()} />;
  const u = user.data;
  const approval = u.approval;
  const pendingAny = approval.pending.boards.length + approval.pending.schools.length + approval.pending.police_forces.length > 0 || approval.pending.platform;
  const refusedAny = approval.refused.boards.length + approval.refused.schools.length + approval.refused.police_forces.length > 0 || approval.refused.platform;
  const schoolRole = u.role === "school_staff" || u.role === "school_lead";

  return (
    <section>
      <p>
        <Link to="/admin/users">{t("admin.user.back")}</Link>
      </p>
      <h1>{t("admin.user.title", { name: u.full_name })}</h1>
      {error !== null && <ProblemView error={error} />}
      <Notice>{notice}</Notice>
      <dl className="facts">
        <dt>{t("admin.users.username")}</dt>
        <dd>{u.username}</dd>
        <dt>{t("admin.common.role")}</dt>
        <dd>{t(`admin.roles.${u.role}`)}</dd>
        <dt>{t("admin.user.scope")}</dt>
        <dd>
          <ScopeList scope={u.scope} />
        </dd>
        <dt>{t("admin.common.status")}</dt>
        <dd>
          {u.is_active ? t("admin.common.active") : t("admin.user.disabledNow")} —{" "}
          {approval.in_force ? t("admin.user.inForce") : t("admin.user.notInForce")}
        </dd>
        {pendingAny && (
          <>
            <dt>{t("admin.user.pending")}</dt>
            <dd>
              <ScopeList scope={approval.pending} /> <span className="help">{t("admin.user.whoApproves")}</span>
            </dd>
          </>
        )}
        {refusedAny && (
          <>
            <dt>{t("admin.user.refused")}</dt>
            <dd>
              <ScopeList scope={approval.refused} />
            </dd>
          </>
        )}
      </dl>
      {approval.credential_pending && <p>{t("admin.user.credentialPending")}</p>}

      <h2 id="user-details">{t("admin.user.details")}</h2>
      <form aria-labelledby="user-details" onSubmit={(e) => change(e, u)} key={u.updated_at}>
        <label htmlFor="user-full-name">{t("admin.users.fullName")}</label>
        <input id="user-full-name" name="full_name" required maxLength={200} defaultValue={u.full_name} autoComplete="off" />
        <label htmlFor="user-email">{t("admin.users.email")}</label>
        <input id="user-email" name="email" type="email" maxLength={254} defaultValue={u.email ?? ""} autoComplete="off" />
        <label htmlFor="user-role">{t("admin.common.role")}</label>
        <select id="user-role" name="role" defaultValue={u.role}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {t(`admin.roles.${r}`)}
            </option>
          ))}
        </select>
        <ScopeFields idPrefix="user" current={u.scope} />
        <button type="submit">{t("admin.user.change")}</button>
      </form>

      <h2>{t("admin.user.security")}</h2>
      <ul className="actions">
        <li>
          <button
            type="button"
            onClick={() =>
              void act(
                () => unwrap(updateUser({ path: { user_id: u.id }, body: { is_active: !u.is_active } })),
                u.is_active ? t("admin.user.disabledNow") : t("admin.common.saved"),
              )
            }
          >
            {u.is_active ? t("admin.user.disable") : t("admin.user.enable")}
          </button>
        </li>
        <li>
          <button type="button" onClick={() => void act(() => unwrap(resetUserMfa({ path: { user_id: u.id } })), t("admin.user.mfaReset"))}>
            {t("admin.user.resetMfa")}
          </button>
        </li>
        <li>
          <button
            type="button"
            onClick={() => void act(() => unwrap(revokeUserTokens({ path: { user_id: u.id } })), t("admin.user.sessionsEnded"))}
          >
            {t("admin.user.endSessions")}
          </button>
        </li>
      </ul>

      {schoolRole && (
        <>
          <h2 id="attestations">{t("admin.user.attestations")}</h2>
          {u.attestations.length === 0 ? (
            <p>{t("admin.user.noAttestation")}</p>
          ) : (
            <ul className="actions">
              {u.attestations.map((a) => (
                <li key={a.id}>
                  {t(`admin.user.levels.${a.level}`)} — {t("admin.user.obtainedOn")}{" "}
                  <time dateTime={a.obtained_on}>{dates.day.format(new Date(`${a.obtained_on}T00:00:00Z`))}</time>{" "}
                  <button
                    type="button"
                    onClick={() =>
                      void act(() => unwrap(revokeAttestation({ path: { user_id: u.id, level: a.level } })), t("admin.common.saved"))
                    }
                  >
                    {t("admin.user.withdraw", { level: t(`admin.user.levels.${a.level}`) })}
                  </button>
                </li>
              ))}
            </ul>
          )}
          <form aria-labelledby="attestations" onSubmit={(e) => attest(e, u)}>
            <label htmlFor="attest-level">{t("admin.user.level")}</label>
            <select id="attest-level" name="level" defaultValue="architect">
              {LEVELS.map((l) => (
                <option key={l} value={l}>
                  {t(`admin.user.levels.${l}`)}
                </option>
              ))}
            </select>
            <label htmlFor="attest-date">{t("admin.user.obtainedOn")}</label>
            <input id="attest-date" name="obtained_on" type="date" required />
            <label htmlFor="attest-url">{t("admin.user.badgeUrl")}</label>
            <input id="attest-url" name="badge_url" type="url" required maxLength={500} pattern="https://.*" autoComplete="off" />
            <button type="submit">{t("admin.user.record")}</button>
          </form>
        </>
      )}
    </section>
  );
}
