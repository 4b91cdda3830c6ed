// The grid renderer knows no version: v1 is the service's own template file,
// v2 a fixture that adds a section; both render and answer from their schema.
import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { GridTemplateOut } from "../client/types.gen";
import { initI18n } from "../lib/i18n";
import { GridForm } from "./GridForm";
import { collectAnswers, gridModel } from "./model";
import v2 from "./fixtures/v2.json";

const v1 = JSON.parse(
  readFileSync(resolve(__dirname, "../../../app/grid/templates/v1.json"), "utf-8"),
) as GridTemplateOut;
const v2Template = v2 as unknown as GridTemplateOut;

beforeAll(async () => {
  await initI18n("fr");
});
afterEach(cleanup);

describe("gridModel", () => {
  it("draws every section of v1, in order, with French or English labels", () => {
    const fr = gridModel(v1, "fr");
    const en = gridModel(v1, "en");
    const keys = Object.keys((v1.schema as { properties: object }).properties);
    expect(fr.sections.map((s) => s.key)).toEqual(keys);
    expect(fr.sections[0].label).toBe("Amorce");
    expect(en.sections[0].label).toBe("Trigger");
    // Every field of the template has a control: none is dropped.
    for (const section of fr.sections) {
      const declared = Object.keys(
        (v1.schema as { properties: Record<string, { properties: object }> }).properties[section.key].properties,
      );
      expect(section.fields.map((f) => f.key)).toEqual(declared);
    }
    const disclosedBy = fr.sections[0].fields.find((f) => f.key === "disclosed_by")!;
    expect(disclosedBy.kind).toBe("choice");
    expect(disclosedBy.required).toBe(true);
    expect(disclosedBy.options.find((o) => o.value === "parent")?.label).toBe("un parent");
    const ages = fr.sections.find((s) => s.key === "nature")!.fields.find((f) => f.key === "depicted_ages")!;
    expect(ages.kind).toBe("integers");
    expect(ages.unknownAllowed).toBe(true);
    expect(ages.help).toMatch(/18 ans/);
  });

  it("draws the section a v2 template adds, without any code change", () => {
    const model = gridModel(v2Template, "en");
    expect(model.version).toBe(2);
    const support = model.sections.find((s) => s.key === "support")!;
    expect(support.label).toBe("Support offered");
    expect(support.required).toBe(true);
    expect(support.fields.map((f) => [f.key, f.kind, f.unknownAllowed])).toEqual([
      ["referred_to", "choice", false],
      ["follow_up_on", "date", true],
    ]);
    expect(gridModel(v2Template, "fr").sections.at(-1)!.fields[0].options[1].label).toBe("le CLSC");
  });
});

describe("collectAnswers", () => {
  it("shapes the answers as the schema wants them", () => {
    const model = gridModel(v2Template, "fr");
    const form = new FormData();
    form.set("trigger.disclosed_by", "parent");
    form.set("trigger.disclosed_at", "2026-11-20T10:15");
    form.set("nature.depicted_ages", "14, 15");
    form.set("nature.image_count.unknown", "on");
    form.append("intentions.intentions", "impulsive_forwarding");
    form.append("intentions.intentions", "attention_seeking");
    form.set("support.referred_to", "clsc");
    form.set("support.follow_up_on", "2026-12-04");
    const answers = collectAnswers(model, form);
    expect(answers.trigger.disclosed_by).toBe("parent");
    expect(answers.trigger.disclosed_at).toMatch(/^2026-11-2\dT\d\d:15:00\.000Z$/);
    expect(answers.trigger).not.toHaveProperty("context");
    expect(answers.nature.depicted_ages).toEqual([14, 15]);
    expect(answers.nature.image_count).toBe("unknown");
    expect(answers.intentions.intentions).toEqual(["impulsive_forwarding", "attention_seeking"]);
    expect(answers.support).toEqual({ referred_to: "clsc", follow_up_on: "2026-12-04" });
  });
});

describe("GridForm", () => {
  it("renders v2's new section as a fieldset and submits its answers", () => {
    let submitted: Record<string, Record<string, unknown>> | null = null;
    render(<GridForm model={gridModel(v2Template, "fr")} onSubmit={(a) => (submitted = a)} />);
    const support = screen.getByRole("group", { name: "Soutien offert" });
    const referred = within(support).getByLabelText(/Orienté vers/);
    fireEvent.change(referred, { target: { value: "school_psychologist" } });
    expect(screen.getByRole("group", { name: "Amorce" })).toBeTruthy();
    // Nothing in the grid takes a file.
    expect(document.querySelector('input[type="file"]')).toBeNull();
    fireEvent.submit(screen.getByRole("form"));
    expect(submitted!.support.referred_to).toBe("school_psychologist");
  });
});
