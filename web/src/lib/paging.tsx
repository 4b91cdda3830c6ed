// A list read a page at a time with the API's cursors: the cursors met so
// far (to go on), and back to the start.
import { useState } from "react";
import { useTranslation } from "react-i18next";

export type Pages = { cursor: string | null; next: (cursor: string) => void; first: () => void };

export function useCursor(): Pages {
  const [cursors, setCursors] = useState<string[]>([]);
  return {
    cursor: cursors.at(-1) ?? null,
    next: (cursor) => setCursors([...cursors, cursor]),
    first: () => setCursors([]),
  };
}

/** "Back to the start" once past the first page, "next" while the API gives a next cursor. */
export function Pager({
  label,
  pages,
  nextCursor,
  more,
}: {
  label: string;
  pages: Pages;
  nextCursor: string | null | undefined;
  more?: string;
}) {
  const { t } = useTranslation();
  if (!pages.cursor && !nextCursor) return null;
  return (
    <nav className="pager" aria-label={label}>
      {pages.cursor && (
        <button type="button" className="secondary" onClick={pages.first}>
          {t("pager.first")}
        </button>
      )}
      {nextCursor && (
        <button type="button" className="secondary" onClick={() => pages.next(nextCursor)}>
          {more ?? t("pager.more")}
        </button>
      )}
    </nav>
  );
}
