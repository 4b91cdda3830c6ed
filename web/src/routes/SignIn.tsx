import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { listSignInProviders } from "../client/sdk.gen";
import { ApiProblem, unwrap } from "../lib/api";
import { signIn, ssoSearch } from "../lib/session";
import { ProblemView } from "./Problem";

export function SignIn() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [needsCode, setNeedsCode] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const { sso_error: ssoError } = ssoSearch(useSearch({ strict: false }) as Record<string, unknown>);
  const providers = useQuery({
    queryKey: ["sign-in-providers"],
    queryFn: () => unwrap(listSignInProviders({ query: { limit: 50 } })),
    staleTime: 60_000,
  });

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await signIn(String(form.get("username")), String(form.get("password")), needsCode ? String(form.get("otp")) : null);
      await queryClient.invalidateQueries({ queryKey: ["session"] });
      await navigate({ to: "/" }); // each role's landing: the index route
    } catch (problem) {
      if (problem instanceof ApiProblem && problem.code === "mfa_required") {
        setNeedsCode(true);
      }
      setError(problem);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="narrow">
      <h1>{t("signIn.title")}</h1>
      {ssoError && (
        <p role="alert" className="problem">
          {t(ssoError === "sso_refused" ? "signIn.ssoRefused" : "signIn.ssoUnavailable")}
        </p>
      )}
      {error !== null && <ProblemView error={error} />}
      <form onSubmit={(e) => void submit(e)}>
        <label htmlFor="username">{t("signIn.username")}</label>
        <input id="username" name="username" autoComplete="username" required maxLength={200} />
        <label htmlFor="password">{t("signIn.password")}</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required maxLength={256} />
        {needsCode && (
          <>
            <label htmlFor="otp">{t("signIn.otp")}</label>
            <input
              id="otp"
              name="otp"
              autoComplete="one-time-code"
              inputMode="text"
              required
              maxLength={64}
              aria-describedby="otp-help"
            />
            <p id="otp-help" className="help">
              {t("signIn.otpHelp")}
            </p>
          </>
        )}
        <button type="submit" disabled={busy}>
          {busy ? t("signIn.busy") : t("signIn.submit")}
        </button>
      </form>
      {/* Single sign-on: each provider's start is a top-level navigation (a
          link, not a fetch): the provider's pages take over the browser. */}
      <section aria-labelledby="other-ways" className="other-ways">
        <h2 id="other-ways">{t("signIn.otherWays")}</h2>
        {providers.data && providers.data.items.length > 0 ? (
          <ul className="providers">
            {providers.data.items.map((provider) => (
              <li key={provider.id}>
                <a className="button-link" href={provider.start_url}>
                  {t("signIn.withProvider", { name: provider.name })}
                </a>
              </li>
            ))}
          </ul>
        ) : (
          <p>{t("signIn.otherWaysNone")}</p>
        )}
      </section>
    </section>
  );
}
