// Enrolling an authenticator app: the password proved again, then the key
// as a QR code (and as text), a first code to confirm it, and the recovery
// codes shown once. Used at first sign-in and on the account page.
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { confirmTotpEnrolment, currentSession, startTotpEnrolment } from "../client/sdk.gen";
import type { TotpEnrolment } from "../client/types.gen";
import { setCsrfToken, unwrap } from "../lib/api";
import { ProblemView } from "./Problem";
import { QrCode } from "./QrCode";

export function RecoveryCodeList({ codes }: { codes: string[] }) {
  const { t } = useTranslation();
  return (
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
    </>
  );
}

export function EnrolTotp({ onDone }: { onDone: () => void | Promise<void> }) {
  const { t } = useTranslation();
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

  return (
    <>
      {error !== null && <ProblemView error={error} />}
      {codes ? (
        <>
          <RecoveryCodeList codes={codes} />
          <button type="button" onClick={() => void onDone()}>
            {t("mfa.continue")}
          </button>
        </>
      ) : enrolment ? (
        <form onSubmit={(e) => void confirm(e)}>
          <figure className="qr-figure">
            <QrCode value={enrolment.otpauth_uri} label={t("admin.account.qr")} />
            <figcaption>{t("admin.account.qrHelp")}</figcaption>
          </figure>
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
    </>
  );
}
