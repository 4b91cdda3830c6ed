"""one checkpoint per chain and seq

With several instances on one database, each checkpoint is stored (and
published to the witness) by the one instance whose insert made the row:
the others' inserts do nothing (``app.audit.checkpoints``).

No earlier version could store two checkpoints of one chain at one seq (the
signer holds the chain's head row locked while it signs), and the table is
append-only (its triggers refuse DELETE), so nothing is removed here: a
database that holds such rows anyway had them written outside the service,
and the upgrade stops, naming how many, for someone to look into with
`sexto audit verify`.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    twice = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT count(*) FROM (SELECT chain, seq FROM audit_checkpoint GROUP BY chain, seq "
                "HAVING count(*) > 1) AS signed_twice"
            )
        )
        .scalar_one()
    )
    if twice:
        raise RuntimeError(
            f"audit_checkpoint holds more than one checkpoint at {twice} (chain, seq) pair(s), which the service "
            "never writes: run `sexto audit verify` and look into how they were written before upgrading"
        )
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a constraint by copying the table, which drops its triggers.
        with op.batch_alter_table("audit_checkpoint", recreate="always") as batch_op:
            batch_op.create_unique_constraint(batch_op.f("uq_audit_checkpoint_chain_seq"), ["chain", "seq"])
        _sqlite_append_only()
    else:
        op.create_unique_constraint(op.f("uq_audit_checkpoint_chain_seq"), "audit_checkpoint", ["chain", "seq"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("audit_checkpoint", recreate="always") as batch_op:
            batch_op.drop_constraint(batch_op.f("uq_audit_checkpoint_chain_seq"), type_="unique")
        _sqlite_append_only()
    else:
        op.drop_constraint(op.f("uq_audit_checkpoint_chain_seq"), "audit_checkpoint", type_="unique")


def _sqlite_append_only() -> None:
    """The append-only triggers of 0002, on the table's new copy."""
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_checkpoint_no_{event.lower()} BEFORE {event} ON audit_checkpoint "
            "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
        )
