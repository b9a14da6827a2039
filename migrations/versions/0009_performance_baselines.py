"""``performance_baselines``: the reference period's performance, computed once per reference.

One row per model and reference key (a digest of the reference period, its source and the
settings behind the numbers): the reference's labelled sample and join keys (``arrays``,
compressed numpy), its metrics and bootstrap replicates (``summary``) and the fingerprint of
its labels and batches (``fingerprint``). Every performance window reads it instead of joining
and bootstrapping the reference again. A cache: downgrade drops the table, nothing is lost.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# JSONB on PostgreSQL, JSON elsewhere (same as lifecycle.storage.types.JSONType).
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        'performance_baselines',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('model_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('fingerprint', JSON, nullable=False),
        sa.Column('summary', JSON, nullable=False),
        sa.Column('arrays', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['model_id'], ['models.id'],
                                name=op.f('fk_performance_baselines_model_id_models'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_performance_baselines')),
        sa.UniqueConstraint('model_id', 'key',
                            name=op.f('uq_performance_baselines_model_id_key')),
    )


def downgrade() -> None:
    op.drop_table('performance_baselines')
