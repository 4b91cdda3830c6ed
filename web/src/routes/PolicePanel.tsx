// Police liaisons: the force's acknowledgement of a handed-off case, once,
// with its own file number when one is open.
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { acknowledge } from "../client/sdk.gen";
import type { CaseOut } from "../client/types.gen";
import { unwrap } from "../lib/api";
import { ProblemView } from "./Problem";

export function PolicePanel({ theCase }: { theCase: CaseOut }) {
  const { t, i18n } = useTranslation();
  const queryClient = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const dates = new Intl.DateTimeFormat(i18n.language === "en" ? "en-CA" : "fr-CA", { dateStyle: "medium", timeStyle: "short" });

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const number = String(new FormData(event.currentTarget).get("file_number") ?? "").trim();
    setError(null);
    try {
      await unwrap(acknowledge({ path: { case_id: theCase.id }, body: { police_file_number: number || null } }));
      await queryClient.invalidateQueries({ queryKey: ["case", theCase.id] });
    } catch (problem) {
      setError(problem);
    }
  }

  return (
    <section aria-labelledby="police">
      <h2 id="police">{t("police.title")}</h2>
      {theCase.handed_off_at && (
        <p>
          {t("police.handedOff")} <time dateTime={theCase.handed_off_at}>{dates.format(new Date(theCase.handed_off_at))}</time>
        </p>
      )}
      {error !== null && <ProblemView error={error} />}
      {theCase.police_acknowledged_at ? (
        <p role="status">
          {t("police.acknowledged")}{" "}
          <time dateTime={theCase.police_acknowledged_at}>{dates.format(new Date(theCase.police_acknowledged_at))}</time>
          {theCase.police_file_number && ` — ${t("police.fileNumber")} ${theCase.police_file_number}`}
        </p>
      ) : (
        <form onSubmit={(e) => void submit(e)}>
          <label htmlFor="file-number">{t("police.fileNumberLabel")}</label>
          <input id="file-number" name="file_number" maxLength={64} autoComplete="off" />
          <button type="submit">{t("police.acknowledge")}</button>
        </form>
      )}
    </section>
  );
}
