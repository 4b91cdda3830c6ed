"""place vocabulary: a case's place says it in the grid's words (school, outside_school, online_only)

Case intake said `at_school` and `online` where the grid's `trigger.place`
says `school` and `online_only`.  The grid's words win: grid submissions keep
their answers untouched, and only the case rows are rewritten.  Kept
idempotent answers (encrypted, short-lived) replay what was answered then, and
police feed rows hold no place: neither is rewritten.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# old word -> new word (outside_school is the same in both)
RENAMED = {"at_school": "school", "online": "online_only"}
OLD_PLACES = ("at_school", "outside_school", "online")
NEW_PLACES = ("school", "outside_school", "online_only")


def _check(places: tuple[str, ...]) -> str:
    return f"place IN ({', '.join(repr(place) for place in places)})"


def _rewrite(mapping: dict[str, str], places: tuple[str, ...]) -> None:
    # The old constraint goes first (the new words break it), the new one
    # comes once every row speaks them.
    with op.batch_alter_table("sexto_case", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sexto_case_place"), type_="check")
    for old, new in mapping.items():
        op.execute(f"UPDATE sexto_case SET place = '{new}' WHERE place = '{old}'")
    with op.batch_alter_table("sexto_case", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f("ck_sexto_case_place"), _check(places))


def upgrade() -> None:
    _rewrite(RENAMED, NEW_PLACES)


def downgrade() -> None:
    _rewrite({new: old for old, new in RENAMED.items()}, OLD_PLACES)
