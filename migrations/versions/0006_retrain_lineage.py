"""``retrain_runs`` records its lineage and what it measured.

Adds ``request_id`` (the queued request that ran it), ``performance_report_id`` (the report
behind a performance alert; ``drift_report_id`` already links a drift alert's report),
``champion_version`` (the version it challenges), ``actor`` and ``reason`` (who asked, and
why: an alert, or a person's ``--reason``), and ``details`` (training window, row counts,
holdout metrics of both models, the superseded challenger, the traceback of a failure). A
check constraint pins ``status`` to ``running``, ``done``, ``failed``, ``skipped``, ``lost``.

The table was never written before this revision, so there is nothing to migrate. Downgrade
drops the columns, the constraint and the index.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# JSONB on PostgreSQL, JSON elsewhere (same as lifecycle.storage.types.JSONType).
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table('retrain_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('performance_report_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('champion_version', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('actor', sa.String(length=200), nullable=False,
                                      server_default='scheduler'))
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('details', JSON, nullable=False, server_default='{}'))
        batch_op.create_foreign_key(
            batch_op.f('fk_retrain_runs_request_id_job_requests'), 'job_requests',
            ['request_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(
            batch_op.f('fk_retrain_runs_performance_report_id_performance_reports'),
            'performance_reports', ['performance_report_id'], ['id'], ondelete='SET NULL')
        batch_op.create_check_constraint(
            batch_op.f('ck_retrain_runs_status'),
            "status IN ('running', 'done', 'failed', 'skipped', 'lost')")
        batch_op.create_index(batch_op.f('ix_retrain_runs_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('retrain_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retrain_runs_status'))
        batch_op.drop_constraint(batch_op.f('ck_retrain_runs_status'), type_='check')
        batch_op.drop_constraint(
            batch_op.f('fk_retrain_runs_performance_report_id_performance_reports'),
            type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_retrain_runs_request_id_job_requests'),
                                 type_='foreignkey')
        batch_op.drop_column('details')
        batch_op.drop_column('reason')
        batch_op.drop_column('actor')
        batch_op.drop_column('champion_version')
        batch_op.drop_column('performance_report_id')
        batch_op.drop_column('request_id')
