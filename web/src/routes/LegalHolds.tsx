// Legal holds on a case, for the roles the API lets place them (the school
// lead and the police): the holds, a new one with its reason, and the lifting
// of a hold by the side that placed it. The rules stay the API's: its refusals
// are shown as they come.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { liftLegalHold, listCaseHolds, placeLegalHold } from "../client/sdk.gen";
import type { LegalHoldOut, Role } from "../client/types.gen";
import { unwrap } from "../lib/api";
import { ProblemView } from "./Problem";

export const HOLD_ROLES: readonly Role[] = ["school_lead", "police_liaison"];

function Lift({ caseId, hold, onError }: { caseId: string; hold: LegalHoldOut; onError: (e: unknown) => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [busy, setBusy] = useState(false);
  const id = `lift-${hold.id}`;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const reason = String(new FormData(event.currentTarget).get("reason") ?? "").trim();
    setBusy(true);
    onError(null);
    try {
      await unwrap(
        liftLegalHold({
          path: { case_id: caseId, hold_id: hold.id },
          headers: { "Idempotency-Key": crypto.randomUUID() },
          body: { reason },
        }),
      );
      await queryClient.invalidateQueries({ queryKey: ["case", caseId] });
    } catch (problem) {
      onError(problem);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="take" onSubmit={(e) => void submit(e)}>
      <label htmlFor={id}>{t("oversight.caseHolds.liftReason")}</label>
      <input id={id} name="reason" required maxLength={500} autoComplete="off" />
      <button type="submit" disabled={busy}>
        {t("oversight.caseHolds.lift")}
      </button>
    </form>
  );
}

export function LegalHolds({ caseId, role }: { caseId: string; role: Role }) {
  const { t, i18n } = useTranslation();
  const queryClient = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const holds = useQuery({
    queryKey: ["case", caseId, "legal-holds"],
    queryFn: () => unwrap(listCaseHolds({ path: { case_id: caseId }, query: { limit: 100 } })),
  });
  const date = new Intl.DateTimeFormat(i18n.language === "en" ? "en-CA" : "fr-CA", { dateStyle: "medium" });

  async function place(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const reason = String(new FormData(formElement).get("reason") ?? "").trim();
    setBusy(true);
    setError(null);
    try {
      await unwrap(
        placeLegalHold({
          path: { case_id: caseId },
          headers: { "Idempotency-Key": crypto.randomUUID() },
          body: { reason },
        }),
      );
      formElement.reset();
      await queryClient.invalidateQueries({ queryKey: ["case", caseId] });
    } catch (problem) {
      setError(problem);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="legal-holds">
      <h2 id="legal-holds">{t("oversight.caseHolds.title")}</h2>
      <p className="help">{t("oversight.caseHolds.intro")}</p>
      {error !== null && <ProblemView error={error} />}
      {holds.isError && <ProblemView error={holds.error} />}
      {holds.data && holds.data.items.length === 0 && <p>{t("oversight.caseHolds.none")}</p>}
      {holds.data && holds.data.items.length > 0 && (
        <ul className="holds">
          {holds.data.items.map((h) => (
            <li key={h.id}>
              {t("oversight.holds.by", {
                role: t(`oversight.role.${h.placed_by_role}`, { defaultValue: h.placed_by_role }),
                at: date.format(new Date(h.placed_at)),
              })}
              {h.reason && <> — {h.reason}</>}{" "}
              <strong>
                {h.active
                  ? t("oversight.holds.inForce")
                  : t("oversight.holds.lifted", {
                      role: t(`oversight.role.${h.lifted_by_role ?? ""}`, { defaultValue: h.lifted_by_role ?? "" }),
                      at: h.lifted_at ? date.format(new Date(h.lifted_at)) : "",
                    })}
              </strong>
              {h.active && h.placed_by_role === role && <Lift caseId={caseId} hold={h} onError={setError} />}
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={(e) => void place(e)}>
        <label htmlFor="hold-reason">{t("oversight.caseHolds.reason")}</label>
        <input id="hold-reason" name="reason" required maxLength={500} autoComplete="off" />
        <button type="submit" disabled={busy}>
          {t("oversight.caseHolds.place")}
        </button>
      </form>
    </section>
  );
}
