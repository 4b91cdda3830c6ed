// A case's status and flags as the lists show them.
import { useTranslation } from "react-i18next";
import type { CaseStatus, Flag } from "../client/types.gen";

export function StatusBadge({ status }: { status: CaseStatus }) {
  const { t } = useTranslation();
  return <span className={`status status-${status}`}>{t(`status.${status}`)}</span>;
}

export function FlagList({ flags }: { flags: Flag[] }) {
  const { t } = useTranslation();
  if (flags.length === 0) return <>{t("cases.noFlags")}</>;
  return (
    <ul className="flags">
      {flags.map((f) => (
        <li key={f}>{t(`flag.${f}`)}</li>
      ))}
    </ul>
  );
}
