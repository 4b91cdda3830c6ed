// Where each role lands after signing in (the index route): police liaisons
// on their force's handed-off cases, DPJ reporters on the cases to report,
// everyone else on the case list.
import type { Role } from "../client/types.gen";

export function landing(role: Role | undefined): "/police" | "/dpj" | "/cases" {
  if (role === "police_liaison") return "/police";
  if (role === "dpj_reporter") return "/dpj";
  return "/cases";
}
