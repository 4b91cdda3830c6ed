// Where each role lands after signing in (the index route): police liaisons
// on their force's handed-off cases, DPJ reporters on the cases to report,
// the roles that read no case contents (the admin too) on their own screens, everyone else
// on the case list.
import type { Role } from "../client/types.gen";

const LANDINGS = {
  police_liaison: "/police",
  dpj_reporter: "/dpj",
  auditor: "/audit",
  privacy_officer: "/privacy",
  admin: "/admin",
} as const satisfies Partial<Record<Role, string>>;

export type Landing = "/cases" | (typeof LANDINGS)[keyof typeof LANDINGS];

export function landing(role: Role | undefined): Landing {
  return role && role in LANDINGS ? LANDINGS[role as keyof typeof LANDINGS] : "/cases";
}
