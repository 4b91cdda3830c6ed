// The case chronology: notes, oldest first, never changed nor deleted.
// Words only: no image, video or audio is ever attached.
import { queryOptions, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { addNote, listNotes } from "../../client/sdk.gen";
import { unwrap } from "../../lib/api";
import { ProblemView } from "../Problem";
import type { Recorder } from "./CustodyTimeline";
import { idempotent } from "./shared";

export const notesQuery = (caseId: string) =>
  queryOptions({
    queryKey: ["case", caseId, "notes"],
    queryFn: () => unwrap(listNotes({ path: { case_id: caseId }, query: { limit: 100 } })),
  });

export function NotesSection({
  caseId,
  canAdd,
  recorderOf,
}: {
  caseId: string;
  canAdd: boolean;
  recorderOf: (userId: string) => Recorder | null;
}) {
  const { t, i18n } = useTranslation();
  const queryClient = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const dates = new Intl.DateTimeFormat(i18n.language === "en" ? "en-CA" : "fr-CA", { dateStyle: "medium", timeStyle: "short" });
  const notes = useQuery(notesQuery(caseId));

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    setError(null);
    try {
      await unwrap(
        addNote({
          path: { case_id: caseId },
          headers: idempotent(),
          body: { text: String(new FormData(formElement).get("text") ?? "") },
        }),
      );
      formElement.reset();
      await queryClient.invalidateQueries({ queryKey: ["case", caseId, "notes"] });
    } catch (problem) {
      setError(problem);
    }
  }

  return (
    <section aria-labelledby="notes">
      <h2 id="notes">{t("school.notes.title")}</h2>
      {notes.isError && <ProblemView error={notes.error} onRetry={() => void notes.refetch()} />}
      {notes.data && notes.data.items.length === 0 && <p>{t("school.notes.none")}</p>}
      {notes.data && notes.data.items.length > 0 && (
        <ol className="notes">
          {notes.data.items.map((n) => {
            const who = recorderOf(n.author_id);
            return (
              <li key={n.id}>
                <p className="note-meta">
                  <time dateTime={n.created_at}>{dates.format(new Date(n.created_at))}</time>
                  {who && ` — ${t("school.notes.by", { who: who.name })}`}
                </p>
                <p className="note-text">{n.text}</p>
              </li>
            );
          })}
        </ol>
      )}
      {canAdd && (
        <details className="add">
          <summary>{t("school.notes.add")}</summary>
          <p className="media-note" id="note-media">
            {t("school.noMedia")}
          </p>
          {error !== null && <ProblemView error={error} />}
          <form onSubmit={(e) => void submit(e)}>
            <label htmlFor="n-text">{t("school.notes.text")}</label>
            <textarea
              id="n-text"
              name="text"
              required
              maxLength={4000}
              rows={4}
              aria-describedby="note-help note-media"
              onPaste={(e) => {
                // Words only: a pasted picture or file is never taken.
                if (e.clipboardData.files.length > 0) e.preventDefault();
              }}
              onDrop={(e) => e.preventDefault()}
            />
            <p className="help" id="note-help">
              {t("school.notes.help")}
            </p>
            <button type="submit">{t("school.notes.submit")}</button>
          </form>
        </details>
      )}
    </section>
  );
}
