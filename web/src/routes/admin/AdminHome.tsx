// The admin's landing: where each part of the administration is.
import { Link } from "@tanstack/react-router";
import { useTranslation } from "react-i18next";

export function AdminHome() {
  const { t } = useTranslation();
  return (
    <section>
      <h1>{t("admin.home.title")}</h1>
      <p>{t("admin.home.intro")}</p>
      <ul className="admin-links">
        <li>
          <Link to="/admin/organisations">{t("admin.home.organisations")}</Link>
        </li>
        <li>
          <Link to="/admin/agreements">{t("admin.home.agreements")}</Link>
        </li>
        <li>
          <Link to="/admin/users">{t("admin.home.users")}</Link>
        </li>
        <li>
          <Link to="/admin/service-accounts">{t("admin.home.serviceAccounts")}</Link>
        </li>
        <li>
          <Link to="/admin/identity-providers">{t("admin.home.providers")}</Link>
        </li>
      </ul>
    </section>
  );
}
