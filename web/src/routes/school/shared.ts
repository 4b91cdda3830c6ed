// Small pieces the school sections share.
import type { ParticipantOut } from "../../client/types.gen";

/** A `datetime-local` field's value as an RFC 3339 instant in the browser's
 * time zone (empty: null, which the API reads as now where it may). */
export function instant(value: FormDataEntryValue | null): string | null {
  const text = String(value ?? "").trim();
  if (!text) return null;
  const at = new Date(text);
  return Number.isNaN(at.getTime()) ? null : at.toISOString();
}

/** The text of an optional field (empty: null). */
export function optional(value: FormDataEntryValue | null): string | null {
  const text = String(value ?? "").trim();
  return text || null;
}

/** The people as they stand now (a correction replaces its record). */
export function currentPeople(people: ParticipantOut[]): ParticipantOut[] {
  return people.filter((p) => !p.superseded);
}

/** A retry of a lost answer creates nothing twice. */
export function idempotent(): { "Idempotency-Key": string } {
  return { "Idempotency-Key": crypto.randomUUID() };
}
