"""``window_profiles``: hourly mergeable profiles written by the rollup job.

One row per (model, kind, hour): ``kind`` is ``data``, ``prediction`` or ``label``;
``summary`` holds the exact per-feature counts (JSON), ``sketches`` every feature's
serialised Apache DataSketches sketch in one Arrow IPC blob; ``reference_digest`` names the
reference profile the exact bin counts were taken against (NULL: none). Unique on
``(model_id, kind, hour_start)``: a rerun of an hour replaces its row. Nothing to migrate (a
new table); downgrade drops it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# JSONB on PostgreSQL, JSON elsewhere (same as lifecycle.storage.types.JSONType).
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        'window_profiles',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('model_id', sa.Integer(), nullable=False),
        sa.Column('hour_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('n_rows', sa.Integer(), nullable=False),
        sa.Column('reference_digest', sa.String(length=64), nullable=True),
        sa.Column('format', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('summary', JSON, nullable=False),
        sa.Column('sketches', sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(['model_id'], ['models.id'],
                                name=op.f('fk_window_profiles_model_id_models'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_window_profiles')),
        sa.UniqueConstraint('model_id', 'kind', 'hour_start',
                            name=op.f('uq_window_profiles_model_id_kind_hour_start')),
    )


def downgrade() -> None:
    op.drop_table('window_profiles')
