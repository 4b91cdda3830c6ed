// The custody timeline: an ordered list, oldest step first, each saying
// what, when and who (name and role), in French or English.
import { cleanup, render, screen, within } from "@testing-library/react";
import i18next from "i18next";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { CustodyEventOut } from "../../client/types.gen";
import { initI18n } from "../../lib/i18n";
import { CustodyTimeline, type Recorder } from "./CustodyTimeline";

const STAFF = "11111111-1111-4111-8111-111111111111";
const POLICE = "22222222-2222-4222-8222-222222222222";

function step(sequence: number, kind: CustodyEventOut["kind"], extra: Partial<CustodyEventOut> = {}): CustodyEventOut {
  return {
    id: `00000000-0000-4000-8000-00000000000${sequence}`,
    sequence,
    kind,
    occurred_at: `2026-11-2${sequence}T15:00:00Z`,
    seal_number: null,
    storage_location: null,
    officer_name: null,
    badge_number: null,
    note: null,
    recorded_by: STAFF,
    recorded_by_role: "school_staff",
    ...extra,
  };
}

const recorderOf = (id: string): Recorder | null => (id === STAFF ? { name: "Sam Intervenant", role: "Intervenant·e" } : null);

beforeAll(async () => {
  await initI18n("fr");
});
afterEach(async () => {
  cleanup();
  await i18next.changeLanguage("fr");
});

describe("CustodyTimeline", () => {
  it("lists the steps in their order, oldest first, whatever order they come in", () => {
    const events = [
      step(3, "transferred_to_police", { officer_name: "Agente Paquette", badge_number: "4521", recorded_by: POLICE }),
      step(1, "confiscated"),
      step(2, "stored", { seal_number: "SC-000123", storage_location: "Coffre de la direction" }),
    ];
    render(<CustodyTimeline label="D1" events={events} recorderOf={recorderOf} />);
    const list = screen.getByRole("list", { name: "Chaîne de possession de D1" });
    expect(list.tagName).toBe("OL");
    const items = within(list).getAllByRole("listitem");
    expect(items).toHaveLength(3);
    expect(items.map((li) => li.querySelector(".timeline-what")?.textContent)).toEqual([
      "Confisqué",
      "Entreposé",
      "Remis à la police",
    ]);
    // Screen readers hear the step's number; only the latest is marked current.
    expect(items[0].textContent).toContain("Étape 1");
    expect(items.map((li) => li.classList.contains("current"))).toEqual([false, false, true]);
  });

  it("says who recorded each step, with their role, when and the step's details", () => {
    const events = [
      step(1, "confiscated"),
      step(2, "stored", { seal_number: "SC-000123", storage_location: "Coffre de la direction" }),
      step(3, "transferred_to_police", {
        officer_name: "Agente Paquette",
        badge_number: "4521",
        recorded_by: POLICE,
        recorded_by_role: "police_liaison",
      }),
      step(4, "retained_as_evidence", { recorded_by: POLICE, recorded_by_role: null }),
    ];
    render(<CustodyTimeline label="D1" events={events} recorderOf={recorderOf} />);
    const items = screen.getAllByRole("listitem");
    expect(items[0].textContent).toContain("Inscrit par Sam Intervenant (Intervenant·e)");
    const time = items[1].querySelector("time");
    expect(time?.getAttribute("dateTime")).toBe("2026-11-22T15:00:00Z");
    expect(within(items[1]).getByText("Scellé").nextElementSibling?.textContent).toBe("SC-000123");
    expect(within(items[1]).getByText("Lieu").nextElementSibling?.textContent).toBe("Coffre de la direction");
    // A recorder the case team does not know: their role, as the API kept it.
    expect(items[2].textContent).toContain("Inscrit par Police");
    // Neither name nor role known: said so, not left blank.
    expect(items[3].textContent).toContain("Inscrit par une personne hors de l’équipe du dossier");
    expect(within(items[2]).getByText("Matricule").nextElementSibling?.textContent).toBe("4521");
    // A step without details has no empty list of them.
    expect(items[0].querySelector("dl")).toBeNull();
  });

  it("speaks English on the toggle", async () => {
    await i18next.changeLanguage("en");
    render(<CustodyTimeline label="D2" events={[step(1, "confiscated"), step(2, "returned_to_owner")]} recorderOf={recorderOf} />);
    const list = screen.getByRole("list", { name: "Chain of custody of D2" });
    expect(within(list).getAllByRole("listitem")[1].textContent).toContain("Returned to its owner");
  });
});
