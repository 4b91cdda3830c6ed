import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useTranslation } from "react-i18next";
import { landing } from "../lib/landing";
import { sessionQuery } from "../lib/session";

export function NotFound() {
  const { t } = useTranslation();
  const session = useQuery(sessionQuery);
  return (
    <section>
      <h1>{t("notFound.title")}</h1>
      <p>
        <Link to={landing(session.data?.me.role)}>{t("notFound.back")}</Link>
      </p>
    </section>
  );
}
