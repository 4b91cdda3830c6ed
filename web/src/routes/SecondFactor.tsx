// First-time enrolment of an authenticator app, when the role requires one.
import { useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { confirmTotpEnrolment, currentSession, startTotpEnrolment } from "../client/sdk.gen";
import type { TotpEnrolment } from "../client/types.gen";
import { setCsrfToken, unwrap } from "../lib/api";
import { ProblemView } from "./Problem";

export function SecondFactor() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [enrolment, setEnrolment] = useState<TotpEnrolment | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function start(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    // The password is proved again before a factor is added (OWASP ASVS V7.5.1).
    const password = String(new FormData(event.currentTarget).get("password"));
    setError(null);
    try {
      setEnrolment(await unwrap(startTotpEnrolment({ body: { password } })));
    } catch (problem) {
      setError(problem);
    }
  }

  async function confirm(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const code = String(new FormData(event.currentTarget).get("code"));
    setError(null);
    try {
      const answer = await unwrap(confirmTotpEnrolment({ body: { code } }));
      // The session goes on under a new cookie: read its new CSRF token.
      setCsrfToken((await unwrap(currentSession())).csrf_token);
      setCodes(answer.recovery_codes);
    } catch (problem) {
      setError(problem);
    }
  }

  async function done() {
    await queryClient.invalidateQueries({ queryKey: ["session"] });
    await navigate({ to: "/" });
  }

  return (
    <section className="narrow">
      <h1>{t("mfa.title")}</h1>
      <p>{t("mfa.why")}</p>
      {error !== null && <ProblemView error={error} />}
      {codes ? (
        <>
          <h2>{t("mfa.recoveryTitle")}</h2>
          <p>{t("mfa.recoveryHelp")}</p>
          <ul className="codes">
            {codes.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
          <button type="button" onClick={() => void done()}>
            {t("mfa.continue")}
          </button>
        </>
      ) : enrolment ? (
        <form onSubmit={(e) => void confirm(e)}>
          <p>
            {t("mfa.secret")} : <code className="secret">{enrolment.secret}</code>
          </p>
          <p className="help">
            {t("mfa.uri")} : <code className="secret">{enrolment.otpauth_uri}</code>
          </p>
          <label htmlFor="code">{t("mfa.code")}</label>
          <input id="code" name="code" autoComplete="one-time-code" inputMode="numeric" required maxLength={64} />
          <button type="submit">{t("mfa.confirm")}</button>
        </form>
      ) : (
        <form onSubmit={(e) => void start(e)}>
          <label htmlFor="password">{t("mfa.password")}</label>
          <input id="password" name="password" type="password" autoComplete="current-password" required />
          <p className="help">{t("mfa.passwordHelp")}</p>
          <button type="submit">{t("mfa.start")}</button>
        </form>
      )}
    </section>
  );
}
