// A device's chain of custody as a vertical timeline: an ordered list, one
// step per item, oldest first, each saying what happened, when, and who
// recorded it: the role the API keeps with each step, and the name where
// the case team knows it.
import { useTranslation } from "react-i18next";
import type { CustodyEventOut } from "../../client/types.gen";

export type Recorder = { name: string; role: string | null };

export function CustodyTimeline({
  label,
  events,
  recorderOf,
}: {
  label: string;
  events: CustodyEventOut[];
  recorderOf: (userId: string) => Recorder | null;
}) {
  const { t, i18n } = useTranslation();
  const dates = new Intl.DateTimeFormat(i18n.language === "en" ? "en-CA" : "fr-CA", {
    dateStyle: "medium",
    timeStyle: "short",
  });
  const ordered = [...events].sort((a, b) => a.sequence - b.sequence);
  return (
    <ol className="timeline" aria-label={t("school.custody.chain", { label })}>
      {ordered.map((event, index) => {
        const recorder = recorderOf(event.recorded_by);
        // The role as it was when the step was recorded (the API keeps it).
        const role = event.recorded_by_role ? t(`school.roles.${event.recorded_by_role}`) : (recorder?.role ?? null);
        const details: [string, string | null][] = [
          [t("school.custody.seal"), event.seal_number],
          [t("school.custody.storage"), event.storage_location],
          [t("school.custody.officer"), event.officer_name],
          [t("school.custody.badge"), event.badge_number],
          [t("school.custody.note"), event.note],
        ];
        return (
          <li key={event.id} className={index === ordered.length - 1 ? "timeline-step current" : "timeline-step"}>
            <span className="visually-hidden">{t("school.custody.step", { n: index + 1 })} : </span>
            <strong className="timeline-what">{t(`school.custody.kinds.${event.kind}`)}</strong>{" "}
            <time dateTime={event.occurred_at}>{dates.format(new Date(event.occurred_at))}</time>
            <p className="timeline-who">
              {t("school.custody.by")}{" "}
              {recorder ? (
                <>
                  {recorder.name}
                  {role && ` (${role})`}
                </>
              ) : (
                (role ?? t("school.custody.outsideTeam"))
              )}
            </p>
            {details.some(([, value]) => value) && (
              <dl className="timeline-details">
                {details
                  .filter(([, value]) => value)
                  .map(([term, value]) => (
                    <div key={term}>
                      <dt>{term}</dt>
                      <dd>{value}</dd>
                    </div>
                  ))}
              </dl>
            )}
          </li>
        );
      })}
    </ol>
  );
}
