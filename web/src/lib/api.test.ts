import { describe, expect, it } from "vitest";
import { ApiProblem, isProblemDocument, unwrap } from "./api";

const problem = {
  type: "urn:sexto:problem:kit_not_permitted",
  title: "Conflit",
  status: 409,
  code: "kit_not_permitted",
  detail: "Aucune entente en vigueur.",
};

describe("unwrap", () => {
  it("gives the data of a good answer", async () => {
    const response = new Response("{}", { status: 200 });
    await expect(unwrap(Promise.resolve({ data: { a: 1 }, response }))).resolves.toEqual({ a: 1 });
  });

  it("throws the problem document of a refusal", async () => {
    const response = new Response("{}", { status: 409 });
    const thrown = await unwrap(Promise.resolve({ error: problem, response })).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(ApiProblem);
    expect((thrown as ApiProblem).code).toBe("kit_not_permitted");
    expect((thrown as ApiProblem).message).toBe("Aucune entente en vigueur.");
  });

  it("makes a problem of an answer that is not one, and of a network failure", async () => {
    const response = new Response("<html>", { status: 502 });
    const proxy = await unwrap(Promise.resolve({ error: "<html>", response })).catch((e: unknown) => e);
    expect((proxy as ApiProblem).status).toBe(502);
    expect((proxy as ApiProblem).problem).toBeNull();
    const down = await unwrap(Promise.reject(new TypeError("Failed to fetch"))).catch((e: unknown) => e);
    expect((down as ApiProblem).status).toBe(0);
  });

  it("tells a problem document from other JSON", () => {
    expect(isProblemDocument(problem)).toBe(true);
    expect(isProblemDocument({ detail: "x" })).toBe(false);
    expect(isProblemDocument(null)).toBe(false);
  });
});
