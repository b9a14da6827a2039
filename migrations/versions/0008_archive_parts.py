"""``archive_parts``: the manifest of the Parquet archive written by the retention job.

One row per Parquet file of archived batches (model, UTC day, URL, rows, batches, content
hash, the batches' ids and time ranges) and how far archiving got: ``written`` ->
``verified`` -> ``deleted`` (the hot batches and their key rows are gone). Nothing to migrate:
the table starts empty. Downgrade drops it (the Parquet files stay where they are; rows of
parts in state ``deleted`` are then no longer read: restore them before downgrading, see
docs/retention.md).

Revision ID: 0008
Revises: 0007 (``window_profiles``)
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# JSONB on PostgreSQL, JSON elsewhere (same as lifecycle.storage.types.JSONType).
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        'archive_parts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('model_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('url', sa.String(length=1000), nullable=False),
        sa.Column('n_rows', sa.BigInteger(), nullable=False),
        sa.Column('n_batches', sa.Integer(), nullable=False),
        sa.Column('size_bytes', sa.BigInteger(), nullable=False),
        sa.Column('content_sha256', sa.String(length=64), nullable=False),
        sa.Column('batch_ids', JSON, nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ts_min', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ts_max', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('written', 'verified', 'deleted')",
                           name=op.f('ck_archive_parts_state')),
        sa.ForeignKeyConstraint(['model_id'], ['models.id'],
                                name=op.f('fk_archive_parts_model_id_models'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_archive_parts')),
        sa.UniqueConstraint('url', name=op.f('uq_archive_parts_url')),
    )
    with op.batch_alter_table('archive_parts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_archive_parts_model_id_state_ts_min_ts_max'),
                              ['model_id', 'state', 'ts_min', 'ts_max'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('archive_parts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_archive_parts_model_id_state_ts_min_ts_max'))
    op.drop_table('archive_parts')
