// What the oversight screens say, computed from the API's answers alone:
// the audit log's verification as plain statements.
import type { ChainStatus, VerifyResult } from "../client/types.gen";

/** One chain's verification, as a sentence's parts (the words are the messages'). */
export type ChainStatement =
  | {
      kind: "verified";
      chain: string;
      /** The last entry recomputed (the chain's head). */
      upTo: number;
      /** The first entry recomputed: 1, or the checkpoint it started from. */
      from: number;
      /** The latest checkpoint held by the witness, if any. */
      checkpoint: { seq: number; at: string } | null;
    }
  | {
      kind: "broken";
      chain: string;
      /** The first entry that does not verify (its place in the chain), or null when none is named. */
      firstBad: number | null;
      /** Its id in the log (`GET /audit/events`), when known. */
      firstBadId: number | null;
      /** The API's reason, as it says it. */
      reason: string | null;
      /** The chain no longer holds the entry its witnessed checkpoint names. */
      truncated: boolean;
      checkpoint: { seq: number; at: string } | null;
    };

export type VerifyStatement = {
  ok: boolean;
  mode: string;
  chains: ChainStatement[];
  /** Signed checkpoints and witness records refused, as the API says them. */
  problems: string[];
  checkpointsChecked: number;
  witness: string;
};

function checkpointOf(chain: ChainStatus): { seq: number; at: string } | null {
  return chain.witnessed_seq !== null && chain.witnessed_at !== null
    ? { seq: chain.witnessed_seq, at: chain.witnessed_at }
    : null;
}

export function chainStatement(chain: ChainStatus): ChainStatement {
  const checkpoint = checkpointOf(chain);
  if (chain.ok && !chain.truncated) {
    return { kind: "verified", chain: chain.chain, upTo: chain.head_seq, from: chain.verified_from, checkpoint };
  }
  return {
    kind: "broken",
    chain: chain.chain,
    firstBad: chain.first_bad_seq,
    firstBadId: chain.first_bad_id,
    reason: chain.problem,
    truncated: chain.truncated,
    checkpoint,
  };
}

/** The verification, chain by chain, broken chains first. */
export function verifyStatement(result: VerifyResult): VerifyStatement {
  const chains = result.chains.map(chainStatement);
  chains.sort((a, b) => (a.kind === b.kind ? a.chain.localeCompare(b.chain) : a.kind === "broken" ? -1 : 1));
  return {
    ok: result.ok,
    mode: result.mode,
    chains,
    problems: [...result.checkpoint_problems, ...result.witness_problems],
    checkpointsChecked: result.checkpoints_checked,
    witness: result.witness,
  };
}


/** An instant the user types (`datetime-local`, local time) as RFC 3339 UTC; empty stays empty. */
export function localToUtc(value: string): string | null {
  if (!value) return null;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? null : at.toISOString();
}
