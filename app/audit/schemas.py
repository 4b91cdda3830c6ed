from __future__ import annotations

from pydantic import BaseModel, Field


class AuditEvent(BaseModel):
    """One audit entry, as stored and hashed (no names, no case contents)."""

    id: int
    chain: str
    seq: int
    recorded_at: str = Field(description="UTC, RFC 3339, microseconds.")
    actor_kind: str = Field(description="`user`, `service_account` or `anonymous`.")
    actor_id: str | None
    actor_role: str | None
    org_ids: list[str] = Field(
        description="The organizations the entry belongs to (ids): the case's when the request reached a case the actor may see, the actor's otherwise."
    )
    client_address: str | None
    user_agent: str | None
    request_id: str | None = Field(
        description="The service's own id for the request (the answer's `X-Request-ID`); in entries of `form` 1, "
        "written before the service kept the caller's apart, it may be the caller's."
    )
    caller_request_id: str | None = Field(
        default=None,
        description="The `X-Request-ID` the caller sent, cleaned and bounded to 64 characters (never the entry's id).",
    )
    action: str = Field(description="The route, e.g. `read_case`, `issue_token`.")
    resource_type: str | None
    resource_id: str | None
    case_id: str | None = Field(
        description="The case the request's path led to, directly or through its device, person or hold, whether or not the actor could see it."
    )
    outcome: str = Field(description="`allowed`, `denied`, `refused` (invalid input) or `error`.")
    status_code: int
    returned_ids: list[str] = Field(description="For a list: the ids it returned.")
    reason: str | None = Field(description="Problem code or refusal reason, never free text.")
    salt: str
    form: int = Field(description="The canonical form the entry was hashed with (1 or 2, see docs/audit.md).")
    prev_hash: str
    entry_hash: str


class ChainStatus(BaseModel):
    """One hash chain after verification."""

    chain: str
    entries: int = Field(description="The entries recomputed: the whole chain, or from `verified_from` on.")
    head_seq: int
    head_hash: str
    ok: bool
    verified_from: int = Field(
        description="The first entry recomputed: 1, or (`mode=since_checkpoint`) the seq of the latest witnessed "
        "checkpoint whose signature verifies and whose entry the chain holds."
    )
    first_bad_seq: int | None = Field(description="The first entry that does not verify.")
    first_bad_id: int | None
    problem: str | None
    witnessed_seq: int | None = Field(
        description="The seq of the chain's latest checkpoint held by the witness outside the database "
        "(whose signature verifies); null without a witness or before its first checkpoint."
    )
    witnessed_at: str | None = Field(description="When that checkpoint was signed.")
    truncated: bool = Field(
        description="The chain does not hold, intact, the entry that checkpoint names: it ends before it "
        "(its tail deleted, its head moved back or not) or holds another entry there."
    )


class VerifyResult(BaseModel):
    """The audit log's verification: each chain, each signed checkpoint, and each chain held to the latest
    checkpoint its witness outside the database holds."""

    ok: bool
    mode: str = Field(
        description="`full`: every entry recomputed; `since_checkpoint`: each chain from its latest witnessed "
        "checkpoint (from its first entry when it has none)."
    )
    chains: list[ChainStatus]
    checkpoints_checked: int
    checkpoint_problems: list[str]
    witness: str = Field(description="The witness's kind: `file`, `directory` or `none`.")
    witness_records_checked: int = Field(description="Checkpoint records read from the witness.")
    witness_problems: list[str] = Field(
        description="Witness records refused (bad signature, unknown key) and what the witness holds that is not a "
        "record."
    )


class Checkpoint(BaseModel):
    """A signed checkpoint of one chain."""

    id: int
    chain: str
    seq: int
    entry_hash: str
    issued_at: str
    key_id: str
    signature: str = Field(description="Ed25519, base64, over the signed message (see README).")


class CheckpointList(BaseModel):
    """Signed checkpoints, and the public keys that verify them."""

    items: list[Checkpoint]
    next_cursor: str | None
    public_keys: dict[str, str] = Field(description="PEM public keys by key id.")
