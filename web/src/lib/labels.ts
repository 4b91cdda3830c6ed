import type { CaseStatus } from "../client/types.gen";

/** The status machine's stages, in the order the protocol goes through them. */
export const STATUSES: CaseStatus[] = ["reported", "evaluating", "gathering", "handed_off", "resolved", "closed"];
