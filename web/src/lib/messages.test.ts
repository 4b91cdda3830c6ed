import { describe, expect, it } from "vitest";
import { en, fr } from "./messages";

function keys(value: unknown, prefix = ""): string[] {
  if (typeof value !== "object" || value === null) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
}

describe("messages", () => {
  it("say everything in both languages", () => {
    expect(keys(en).sort()).toEqual(keys(fr).sort());
  });

  it("are never empty", () => {
    for (const [lang, messages] of Object.entries({ fr, en })) {
      for (const key of keys(messages)) {
        const text = key.split(".").reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], messages);
        expect(text, `${lang}: ${key}`).not.toBe("");
      }
    }
  });
});
