import { describe, expect, it } from "vitest";
import type { ChainStatus, VerifyResult } from "../client/types.gen";
import { localToUtc, verifyStatement } from "./oversight";

function chain(overrides: Partial<ChainStatus> = {}): ChainStatus {
  return {
    chain: "main",
    entries: 42,
    head_seq: 42,
    head_hash: "ab",
    ok: true,
    verified_from: 1,
    first_bad_seq: null,
    first_bad_id: null,
    problem: null,
    witnessed_seq: 40,
    witnessed_at: "2026-11-30T12:00:00.000000Z",
    truncated: false,
    ...overrides,
  };
}

function result(chains: ChainStatus[], overrides: Partial<VerifyResult> = {}): VerifyResult {
  return {
    ok: chains.every((c) => c.ok),
    mode: "since_checkpoint",
    chains,
    checkpoints_checked: 3,
    checkpoint_problems: [],
    witness: "file",
    witness_records_checked: 3,
    witness_problems: [],
    ...overrides,
  };
}

describe("the verification statement", () => {
  it("says up to which entry a chain verifies, at which checkpoint", () => {
    const s = verifyStatement(result([chain({ verified_from: 40 })]));
    expect(s.ok).toBe(true);
    expect(s.chains).toEqual([
      { kind: "verified", chain: "main", upTo: 42, from: 40, checkpoint: { seq: 40, at: "2026-11-30T12:00:00.000000Z" } },
    ]);
    expect(s.problems).toEqual([]);
  });

  it("says there is no checkpoint yet when the witness holds none", () => {
    const s = verifyStatement(result([chain({ witnessed_seq: null, witnessed_at: null })]));
    expect(s.chains[0]).toMatchObject({ kind: "verified", upTo: 42, checkpoint: null });
  });

  it("names the first bad entry and the API's reason, broken chains first", () => {
    const s = verifyStatement(
      result([
        chain({ chain: "a" }),
        chain({ chain: "b", ok: false, first_bad_seq: 17, first_bad_id: 1017, problem: "entry_hash mismatch" }),
      ]),
    );
    expect(s.ok).toBe(false);
    expect(s.chains.map((c) => c.kind)).toEqual(["broken", "verified"]);
    expect(s.chains[0]).toEqual({
      kind: "broken",
      chain: "b",
      firstBad: 17,
      firstBadId: 1017,
      reason: "entry_hash mismatch",
      truncated: false,
      checkpoint: { seq: 40, at: "2026-11-30T12:00:00.000000Z" },
    });
  });

  it("calls a chain cut short of its witnessed checkpoint broken, even without a bad entry", () => {
    const s = verifyStatement(result([chain({ truncated: true, head_seq: 30 })], { ok: false }));
    expect(s.chains[0]).toMatchObject({ kind: "broken", firstBad: null, truncated: true, checkpoint: { seq: 40 } });
  });

  it("keeps the checkpoint and witness problems", () => {
    const s = verifyStatement(
      result([chain()], {
        ok: false,
        checkpoint_problems: ["checkpoint main #40: bad signature"],
        witness_problems: ["line 3 is not a record"],
      }),
    );
    expect(s.ok).toBe(false);
    expect(s.problems).toEqual(["checkpoint main #40: bad signature", "line 3 is not a record"]);
  });
});

describe("instants typed in local time", () => {
  it("go to the API in UTC; nothing typed stays nothing", () => {
    expect(localToUtc("")).toBeNull();
    expect(localToUtc("not a date")).toBeNull();
    expect(localToUtc("2026-11-20T10:15")).toBe(new Date("2026-11-20T10:15").toISOString());
  });
});
