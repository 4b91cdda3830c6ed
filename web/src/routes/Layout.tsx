import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, Outlet, useNavigate } from "@tanstack/react-router";
import { useTranslation } from "react-i18next";
import { switchLanguage } from "../lib/i18n";
import { landing } from "../lib/landing";
import { endSession, sessionQuery } from "../lib/session";

// Who approves an organization's identity providers (app.accounts.duties).
const APPROVERS = new Set(["privacy_officer", "school_lead", "police_liaison"]);

export function Layout() {
  const { t, i18n } = useTranslation();
  const session = useQuery(sessionQuery);
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const other = i18n.language === "en" ? "fr" : "en";

  // What the API said (next steps, problems) is in the language it was asked
  // in: asked again in the new one.
  async function changeLanguage() {
    await switchLanguage(other);
    await queryClient.invalidateQueries();
  }

  async function signOut() {
    try {
      await endSession();
    } finally {
      queryClient.clear();
      await navigate({ to: "/sign-in" });
    }
  }

  return (
    <>
      <a className="skip" href="#main">
        {t("app.skip")}
      </a>
      <header className="top">
        <span className="brand">{t("app.name")}</span>
        <nav aria-label={t("nav.main")}>
          {session.data?.me.role === "police_liaison" && <Link to="/police">{t("policeDesk.nav.feed")}</Link>}
          {session.data?.me.role === "dpj_reporter" && <Link to="/dpj">{t("policeDesk.nav.dpj")}</Link>}
          {session.data && landing(session.data.me.role) === "/cases" && <Link to="/cases">{t("nav.cases")}</Link>}
          {session.data?.me.role === "auditor" && <Link to="/audit">{t("oversight.nav.audit")}</Link>}
          {session.data?.me.role === "privacy_officer" && <Link to="/privacy">{t("oversight.nav.privacy")}</Link>}
          {session.data?.me.role === "admin" && <Link to="/admin">{t("admin.nav.admin")}</Link>}
          {session.data && APPROVERS.has(session.data.me.role) && (
            <Link to="/identity-providers">{t("admin.nav.providers")}</Link>
          )}
          {session.data && <Link to="/account">{t("admin.nav.account")}</Link>}
        </nav>
        <div className="tools">
          <button
            type="button"
            lang={other}
            aria-label={t("lang.toggleLabel")}
            onClick={() => void changeLanguage()}
          >
            {t("lang.toggle")}
          </button>
          {session.data && (
            <>
              <span className="who">{session.data.me.full_name ?? session.data.me.username}</span>
              <button type="button" onClick={() => void signOut()}>
                {t("nav.signOut")}
              </button>
            </>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}
