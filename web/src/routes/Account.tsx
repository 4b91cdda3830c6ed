// Every person's own account: the browser sessions open in their name (end
// one, or all the others), the password, and the authenticator app (enrol
// with a QR code, new recovery codes, remove it).
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { changePassword, currentSession, endOtherSessions, endSession, listSessions, removeTotp, renewRecoveryCodes } from "../client/sdk.gen";
import { setCsrfToken, unwrap } from "../lib/api";
import { sessionQuery } from "../lib/session";
import { Notice, PAGE_SIZE, Pager, useCursor, useDates } from "./admin/shared";
import { EnrolTotp, RecoveryCodeList } from "./EnrolTotp";
import { ProblemView } from "./Problem";

/** After a change that renews the session's cookie: its new CSRF token. */
async function renewCsrf(): Promise<void> {
  setCsrfToken((await unwrap(currentSession())).csrf_token);
}

function Sessions() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const dates = useDates();
  const pages = useCursor();
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState("");
  const list = useQuery({
    queryKey: ["account", "sessions", pages.cursor],
    queryFn: () => unwrap(listSessions({ query: { limit: PAGE_SIZE, cursor: pages.cursor } })),
  });

  async function act(call: () => Promise<unknown>, said: string) {
    setError(null);
    setNotice("");
    try {
      await call();
      setNotice(said);
      pages.first();
      await queryClient.invalidateQueries({ queryKey: ["account", "sessions"] });
    } catch (problem) {
      setError(problem);
    }
  }

  const when = (at: string) => <time dateTime={at}>{dates.time.format(new Date(at))}</time>;
  return (
    <section aria-labelledby="my-sessions">
      <h2 id="my-sessions">{t("admin.account.sessions")}</h2>
      {error !== null && <ProblemView error={error} />}
      <Notice>{notice}</Notice>
      {list.isError && <ProblemView error={list.error} onRetry={() => void list.refetch()} />}
      {list.data && (
        <div className="table-wrap">
          <table>
            <caption>{t("admin.account.sessionsCaption")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("admin.account.opened")}</th>
                <th scope="col">{t("admin.account.lastSeen")}</th>
                <th scope="col">{t("admin.account.expires")}</th>
                <th scope="col">{t("admin.common.actions")}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((s) => (
                <tr key={s.id}>
                  <th scope="row">{when(s.created_at)}</th>
                  <td>{when(s.last_seen_at)}</td>
                  <td>{when(s.expires_at)}</td>
                  <td>
                    {s.current ? (
                      <strong>{t("admin.account.current")}</strong>
                    ) : (
                      <button
                        type="button"
                        onClick={() => void act(() => unwrap(endSession({ path: { session_id: s.id } })), t("admin.account.ended"))}
                      >
                        {t("admin.account.end", { date: dates.time.format(new Date(s.created_at)) })}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager label={t("admin.account.sessions")} pages={pages} nextCursor={list.data?.next_cursor} />
      <button type="button" onClick={() => void act(() => unwrap(endOtherSessions()), t("admin.account.othersEnded"))}>
        {t("admin.account.endOthers")}
      </button>
    </section>
  );
}

function Password() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState("");

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const target = event.currentTarget;
    const form = new FormData(target);
    setError(null);
    setNotice("");
    try {
      await unwrap(
        changePassword({
          body: { current_password: String(form.get("current_password")), new_password: String(form.get("new_password")) },
        }),
      );
      await renewCsrf();
      target.reset();
      setNotice(t("admin.account.passwordChanged"));
      await queryClient.invalidateQueries({ queryKey: ["account", "sessions"] });
    } catch (problem) {
      setError(problem);
    }
  }

  return (
    <section aria-labelledby="my-password">
      <h2 id="my-password">{t("admin.account.password")}</h2>
      <form onSubmit={(e) => void submit(e)}>
        {error !== null && <ProblemView error={error} />}
        <Notice>{notice}</Notice>
        <label htmlFor="current-password">{t("admin.account.currentPassword")}</label>
        <input id="current-password" name="current_password" type="password" required autoComplete="current-password" />
        <label htmlFor="new-password">{t("admin.account.newPassword")}</label>
        <input
          id="new-password"
          name="new_password"
          type="password"
          required
          minLength={12}
          maxLength={256}
          autoComplete="new-password"
          aria-describedby="new-password-help"
        />
        <p className="help" id="new-password-help">
          {t("admin.account.newPasswordHelp")}
        </p>
        <button type="submit">{t("admin.account.password")}</button>
      </form>
    </section>
  );
}

/** A change of the factor in use: the password and a code, proved again. */
function Reauthenticated({
  id,
  title,
  help,
  onSubmit,
}: {
  id: string;
  title: string;
  help: string;
  onSubmit: (password: string, code: string) => Promise<void>;
}) {
  const { t } = useTranslation();
  const [error, setError] = useState<unknown>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const target = event.currentTarget;
    const form = new FormData(target);
    setError(null);
    try {
      await onSubmit(String(form.get("password")), String(form.get("code")));
      target.reset();
    } catch (problem) {
      setError(problem);
    }
  }

  return (
    <form aria-labelledby={`${id}-title`} onSubmit={(e) => void submit(e)}>
      <h3 id={`${id}-title`}>{title}</h3>
      <p className="help">{help}</p>
      {error !== null && <ProblemView error={error} />}
      <label htmlFor={`${id}-password`}>{t("admin.account.currentPassword")}</label>
      <input id={`${id}-password`} name="password" type="password" required autoComplete="current-password" />
      <label htmlFor={`${id}-code`}>{t("admin.account.code")}</label>
      <input id={`${id}-code`} name="code" required maxLength={64} autoComplete="one-time-code" />
      <button type="submit">{title}</button>
    </form>
  );
}

function SecondFactorState() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const session = useQuery(sessionQuery);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [notice, setNotice] = useState("");
  const me = session.data?.me;
  if (!me) return null;

  async function refresh() {
    await queryClient.invalidateQueries({ queryKey: ["session"] });
    await queryClient.invalidateQueries({ queryKey: ["account", "sessions"] });
  }

  return (
    <section aria-labelledby="my-mfa">
      <h2 id="my-mfa">{t("admin.account.mfa")}</h2>
      <Notice>{notice}</Notice>
      {me.mfa_enrolled ? (
        <>
          <p>{t("admin.account.mfaOn", { count: me.mfa_recovery_codes_left ?? 0 })}</p>
          {codes && <RecoveryCodeList codes={codes} />}
          <Reauthenticated
            id="renew-codes"
            title={t("admin.account.renew")}
            help={t("admin.account.renewHelp")}
            onSubmit={async (password, code) => {
              setNotice("");
              const answer = await unwrap(renewRecoveryCodes({ body: { password, code } }));
              await renewCsrf();
              setCodes(answer.recovery_codes);
              await refresh();
            }}
          />
          <Reauthenticated
            id="remove-factor"
            title={t("admin.account.remove")}
            help={t("admin.account.removeHelp")}
            onSubmit={async (password, code) => {
              await unwrap(removeTotp({ body: { password, code } }));
              await renewCsrf();
              setCodes(null);
              setNotice(t("admin.account.removed"));
              await refresh();
            }}
          />
        </>
      ) : (
        <>
          <p>{t("admin.account.mfaOff")}</p>
          <EnrolTotp onDone={refresh} />
        </>
      )}
    </section>
  );
}

export function Account() {
  const { t } = useTranslation();
  return (
    <section>
      <h1>{t("admin.account.title")}</h1>
      <Sessions />
      <Password />
      <SecondFactorState />
    </section>
  );
}
