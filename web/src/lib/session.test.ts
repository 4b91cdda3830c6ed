import { describe, expect, it } from "vitest";
import { ssoSearch } from "./session";

describe("ssoSearch", () => {
  it("keeps the two codes the API sends a refused single sign-on back with", () => {
    expect(ssoSearch({ sso_error: "sso_refused" })).toEqual({ sso_error: "sso_refused" });
    expect(ssoSearch({ sso_error: "sso_unavailable" })).toEqual({ sso_error: "sso_unavailable" });
  });

  it("drops anything else", () => {
    expect(ssoSearch({})).toEqual({});
    expect(ssoSearch({ sso_error: "<b>hello</b>" })).toEqual({});
    expect(ssoSearch({ sso_error: ["sso_refused"] })).toEqual({});
    expect(ssoSearch({ other: "sso_refused" })).toEqual({});
  });
});
