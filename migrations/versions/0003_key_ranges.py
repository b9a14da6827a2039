"""``prediction_keys`` stores the ids of one call as a range: adds ``last_key``.

The ids lifecycle assigns are 32 lowercase hex characters: a 24-character prefix shared by the
rows of one call, then the row index in 8 hex digits. From this revision the writer stores the
ids of a call as ONE row (``join_key`` = first id, ``last_key`` = last id) instead of one row
per prediction; any other key stays a row of its own with ``last_key`` NULL
(``lifecycle/storage/key_ranges.py``). Existing rows are all single keys, which is what a NULL
``last_key`` means, so upgrade only adds the column. Downgrade expands every range back into
one row per key, so no logged key is lost either way.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Join keys compare byte by byte on PostgreSQL (lifecycle.storage.types.JoinKey).
JOIN_KEY = sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql')
_PREFIX = 24  # hex characters of an assigned id before the row index
_CHUNK = 10_000


def upgrade() -> None:
    with op.batch_alter_table('prediction_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_key', JOIN_KEY, nullable=True))


def downgrade() -> None:
    conn = op.get_bind()
    keys = sa.table('prediction_keys', sa.column('model_id'), sa.column('join_key'))
    ranges = conn.execute(sa.text(
        "SELECT model_id, join_key, last_key FROM prediction_keys "
        "WHERE last_key IS NOT NULL AND last_key <> join_key")).all()
    rows: list[dict[str, object]] = []
    for model_id, first, last in ranges:
        prefix = first[:_PREFIX]
        for i in range(int(first[_PREFIX:], 16) + 1, int(last[_PREFIX:], 16) + 1):
            rows.append({"model_id": model_id, "join_key": f"{prefix}{i:08x}"})
            if len(rows) >= _CHUNK:
                conn.execute(keys.insert(), rows)
                rows = []
    if rows:
        conn.execute(keys.insert(), rows)
    # each range row already stands for its first key
    with op.batch_alter_table('prediction_keys', schema=None) as batch_op:
        batch_op.drop_column('last_key')
