// A person's flags on the case page: the decision and its reason in words,
// under the person's label, in French or English; nothing when none.
import { cleanup, render, screen, within } from "@testing-library/react";
import i18next from "i18next";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ParticipantOut } from "../../client/types.gen";
import { initI18n } from "../../lib/i18n";
import { PersonFlagList } from "./PersonFlags";

function person(flags: ParticipantOut["flags"]): ParticipantOut {
  return {
    id: "33333333-3333-4333-8333-333333333333",
    label: "P2",
    role: "distributor",
    is_minor: true,
    grade: null,
    name: "Élève H",
    supersedes_id: null,
    flags,
    created_at: "2026-11-20T15:00:00Z",
  };
}

const flag = {
  kind: "malicious_intent" as const,
  reason: "Diffusion pour se venger après la rupture.",
  created_by: "11111111-1111-4111-8111-111111111111",
  created_at: "2026-11-20T16:00:00Z",
};

beforeAll(async () => {
  await initI18n("fr");
});
afterEach(async () => {
  cleanup();
  await i18next.changeLanguage("fr");
});

describe("PersonFlagList", () => {
  it("says each decision and its reason, under the person's label", () => {
    render(<PersonFlagList person={person([flag, { ...flag, kind: "refused", reason: null }])} />);
    const list = screen.getByRole("list", { name: "Décisions sur P2" });
    const items = within(list).getAllByRole("listitem");
    expect(items.map((i) => i.textContent)).toEqual([
      "Intention malveillante soupçonnée — Diffusion pour se venger après la rupture.",
      "Refuse de participer",
    ]);
  });

  it("speaks English on the toggle", async () => {
    await i18next.changeLanguage("en");
    render(<PersonFlagList person={person([flag])} />);
    expect(screen.getByRole("list", { name: "Decisions about P2" }).textContent).toContain("Malicious intent suspected");
  });

  it("shows nothing for a person without flags", () => {
    const { container } = render(<PersonFlagList person={person([])} />);
    expect(container.innerHTML).toBe("");
  });
});
