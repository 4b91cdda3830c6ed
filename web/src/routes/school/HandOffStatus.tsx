// For school users: where the case stands with police. The hand-off itself
// is a transition (Actions); this says whether it was made, to whom, and
// whether police took the case over, and what the school still does after.
import { useTranslation } from "react-i18next";
import type { CaseOut } from "../../client/types.gen";

export function HandOffStatus({ theCase }: { theCase: CaseOut }) {
  const { t, i18n } = useTranslation();
  const dates = new Intl.DateTimeFormat(i18n.language === "en" ? "en-CA" : "fr-CA", { dateStyle: "medium", timeStyle: "short" });
  return (
    <section aria-labelledby="hand-off">
      <h2 id="hand-off">{t("school.handOff.title")}</h2>
      {theCase.handed_off_at ? (
        <>
          <p>
            {t("school.handOff.done")}{" "}
            <time dateTime={theCase.handed_off_at}>{dates.format(new Date(theCase.handed_off_at))}</time>
            {theCase.police_officer_contacted && (
              <>
                {" — "}
                {t("school.handOff.officer")} {theCase.police_officer_contacted}
              </>
            )}
          </p>
          <p>
            {theCase.police_acknowledged_at ? (
              <>
                {t("school.handOff.acknowledged")}{" "}
                <time dateTime={theCase.police_acknowledged_at}>
                  {dates.format(new Date(theCase.police_acknowledged_at))}
                </time>
                {theCase.police_file_number && ` (${theCase.police_file_number})`}
              </>
            ) : (
              t("school.handOff.awaiting")
            )}
          </p>
          <p className="help">{t("school.handOff.after")}</p>
        </>
      ) : (
        <p>{t("school.handOff.notYet")}</p>
      )}
    </section>
  );
}
