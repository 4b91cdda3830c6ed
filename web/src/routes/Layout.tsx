import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, Outlet, useNavigate } from "@tanstack/react-router";
import { useTranslation } from "react-i18next";
import { switchLanguage } from "../lib/i18n";
import { endSession, sessionQuery } from "../lib/session";

// Who approves an organization's identity providers (app.accounts.duties).
const APPROVERS = new Set(["privacy_officer", "school_lead", "police_liaison"]);

export function Layout() {
  const { t, i18n } = useTranslation();
  const session = useQuery(sessionQuery);
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const other = i18n.language === "en" ? "fr" : "en";

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
          {session.data && session.data.me.role !== "admin" && <Link to="/cases">{t("nav.cases")}</Link>}
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
            onClick={() => void switchLanguage(other)}
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
