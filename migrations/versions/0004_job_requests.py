"""``job_requests`` (work queued for a scheduler) replaces ``apscheduler_jobs`` (pickled jobs).

APScheduler's SQLAlchemy job store unpickled job state on every scheduler start from the same
database that every serving process writes to. Jobs are now rebuilt from settings at start and
held in APScheduler's in-memory store; catch-up comes from ``job_leases``. So the pickled table
goes. Work asked for outside the schedule (a retrain triggered by an alert, a dashboard's "run
this check now") is a ``job_requests`` row that a scheduler process claims under a lease.

Downgrade drops ``job_requests`` and recreates an empty ``apscheduler_jobs`` (the old code
rebuilt its jobs there at start, so nothing is lost).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# JSONB on PostgreSQL, JSON elsewhere (same as lifecycle.storage.types.JSONType).
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table('apscheduler_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_apscheduler_jobs_next_run_time'))
    op.drop_table('apscheduler_jobs')

    op.create_table('job_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=100), nullable=False),
    sa.Column('model_name', sa.String(length=200), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('open_key', sa.String(length=400), nullable=True),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=200), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('details', JSON, nullable=False),
    sa.Column('result', JSON, nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'running', 'done', 'failed')", name=op.f('ck_job_requests_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_requests')),
    sa.UniqueConstraint('open_key', name=op.f('uq_job_requests_open_key'))
    )
    with op.batch_alter_table('job_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_requests_status_id'), ['status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_requests_model_name_requested_at'), ['model_name', 'requested_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('job_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_requests_model_name_requested_at'))
        batch_op.drop_index(batch_op.f('ix_job_requests_status_id'))
    op.drop_table('job_requests')

    op.create_table('apscheduler_jobs',
    sa.Column('id', sa.String(length=191), nullable=False),
    sa.Column('next_run_time', sa.Float(precision=25), nullable=True),
    sa.Column('job_state', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_apscheduler_jobs'))
    )
    with op.batch_alter_table('apscheduler_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_apscheduler_jobs_next_run_time'), ['next_run_time'], unique=False)
