import { describe, expect, it } from "vitest";
import { landing } from "./landing";

describe("the landing page", () => {
  it("sends each role to its own screen", () => {
    expect(landing("police_liaison")).toBe("/police");
    expect(landing("dpj_reporter")).toBe("/dpj");
    expect(landing("auditor")).toBe("/audit");
    expect(landing("privacy_officer")).toBe("/privacy");
    expect(landing("admin")).toBe("/admin");
    expect(landing("school_staff")).toBe("/cases");
    expect(landing("school_lead")).toBe("/cases");
    expect(landing(undefined)).toBe("/cases");
  });
});
