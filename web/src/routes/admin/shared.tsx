// Pieces the admin's screens share: the organizations to choose from, the scope's checkboxes, and
// a short notice of what was done.
import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { listBoards, listPoliceForces, listSchools } from "../../client/sdk.gen";
import type { Role, ScopeIn, ScopeOut } from "../../client/types.gen";
import { unwrap } from "../../lib/api";
export { Pager, useCursor } from "../../lib/paging";

export const ROLES: Role[] = [
  "school_staff",
  "school_lead",
  "police_liaison",
  "dpj_reporter",
  "auditor",
  "privacy_officer",
  "admin",
];

export const PAGE_SIZE = 25;
/** The API's largest page: the organizations offered in a form. */
export const ALL = 100;

/** The boards, schools and police forces (the first hundred of each), by id. */
export function useOrganizations() {
  const boards = useQuery({
    queryKey: ["admin", "boards", "all"],
    queryFn: () => unwrap(listBoards({ query: { limit: ALL } })),
  });
  const schools = useQuery({
    queryKey: ["admin", "schools", "all"],
    queryFn: () => unwrap(listSchools({ query: { limit: ALL } })),
  });
  const forces = useQuery({
    queryKey: ["admin", "police-forces", "all"],
    queryFn: () => unwrap(listPoliceForces({ query: { limit: ALL } })),
  });
  const names = new Map<string, string>();
  for (const list of [boards.data, schools.data, forces.data]) for (const o of list?.items ?? []) names.set(o.id, o.name);
  return {
    boards: boards.data?.items ?? [],
    schools: schools.data?.items ?? [],
    forces: forces.data?.items ?? [],
    nameOf: (id: string | null | undefined) => (id ? (names.get(id) ?? id) : ""),
    error: boards.error ?? schools.error ?? forces.error,
  };
}

/** Every organization checked in ``form`` under the scope's names. */
export function scopeOf(form: FormData): ScopeIn {
  return {
    boards: form.getAll("scope_boards").map(String),
    schools: form.getAll("scope_schools").map(String),
    police_forces: form.getAll("scope_police_forces").map(String),
    platform: form.get("scope_platform") === "on",
  };
}

function Checks({ name, legend, items, checked }: { name: string; legend: string; items: { id: string; name: string }[]; checked: Set<string> }) {
  if (items.length === 0) return null;
  return (
    <fieldset className="checks">
      <legend>{legend}</legend>
      {items.map((o) => (
        <label key={o.id} className="inline">
          <input type="checkbox" name={name} value={o.id} defaultChecked={checked.has(o.id)} /> {o.name}
        </label>
      ))}
    </fieldset>
  );
}

/** The scope's checkboxes: boards, schools, police forces, the platform. */
export function ScopeFields({ idPrefix, current }: { idPrefix: string; current?: ScopeOut }) {
  const { t } = useTranslation();
  const orgs = useOrganizations();
  const checked = new Set(
    [...(current?.boards ?? []), ...(current?.schools ?? []), ...(current?.police_forces ?? [])].map((o) => o.id),
  );
  return (
    <fieldset className="scope" aria-describedby={`${idPrefix}-scope-help`}>
      <legend>{t("admin.scope.legend")}</legend>
      <p className="help" id={`${idPrefix}-scope-help`}>
        {t("admin.scope.help")}
      </p>
      <Checks name="scope_schools" legend={t("admin.scope.schools")} items={orgs.schools} checked={checked} />
      <Checks name="scope_boards" legend={t("admin.scope.boards")} items={orgs.boards} checked={checked} />
      <Checks name="scope_police_forces" legend={t("admin.scope.forces")} items={orgs.forces} checked={checked} />
      <label className="inline">
        <input type="checkbox" name="scope_platform" defaultChecked={current?.platform ?? false} /> {t("admin.scope.platform")}
      </label>
    </fieldset>
  );
}

/** The organizations of a scope, in words. */
export function ScopeList({ scope }: { scope: ScopeOut }) {
  const { t } = useTranslation();
  const all = [...scope.schools, ...scope.boards, ...scope.police_forces].map((o) => o.name);
  if (scope.platform) all.push(t("admin.scope.platform"));
  return <>{all.length ? all.join(" ; ") : t("admin.user.noScope")}</>;
}

/** What was just done, said to screen readers too: the live region stays in
 * the page (hidden while empty) so that a new text in it is announced. */
export function Notice({ children }: { children: ReactNode }) {
  return (
    <p className="notice" role="status">
      {children}
    </p>
  );
}

export function useDates() {
  const { i18n } = useTranslation();
  const locale = i18n.language === "en" ? "en-CA" : "fr-CA";
  return {
    day: new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" }),
    time: new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }),
  };
}

/** The value of a text field, or null when left empty. */
export function optional(form: FormData, name: string): string | null {
  const value = String(form.get(name) ?? "").trim();
  return value || null;
}

/** A list typed with commas or one per line. */
export function listOf(form: FormData, name: string): string[] {
  return String(form.get(name) ?? "")
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
}
