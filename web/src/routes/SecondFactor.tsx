// First-time enrolment of an authenticator app, when the role requires one.
import { useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { useTranslation } from "react-i18next";
import { EnrolTotp } from "./EnrolTotp";

export function SecondFactor() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();

  async function done() {
    await queryClient.invalidateQueries({ queryKey: ["session"] });
    await navigate({ to: "/" });
  }

  return (
    <section className="narrow">
      <h1>{t("mfa.title")}</h1>
      <p>{t("mfa.why")}</p>
      <EnrolTotp onDone={done} />
    </section>
  );
}
