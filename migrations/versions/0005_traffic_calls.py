"""``traffic_hourly`` counts calls: adds ``n_calls`` and ``call_latency_sum_ms``.

Every logged row carries the latency of the call that produced it, so ``latency_sum_ms`` (a
sum over rows) weights a call by its row count: one 200,000-row batch call outweighs
thousands of single-row calls. The writer now also adds, per hour, role and version, the
number of calls (``n_calls``) and the sum of their latencies counted once per call
(``call_latency_sum_ms``). From these the dashboard shows the mean latency per call
(``call_latency_sum_ms / n_calls``) and the model time per prediction
(``call_latency_sum_ms / n_predictions``).

Existing rows were written before calls were counted: they get ``n_calls = 0`` (read as "not
counted"; the per-call figures use only buckets with ``n_calls > 0``). Downgrade drops the
two columns; the row-weighted ``latency_sum_ms`` is unchanged either way.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('traffic_hourly', schema=None) as batch_op:
        batch_op.add_column(sa.Column('n_calls', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('call_latency_sum_ms', sa.Float(), nullable=False,
                                      server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('traffic_hourly', schema=None) as batch_op:
        batch_op.drop_column('call_latency_sum_ms')
        batch_op.drop_column('n_calls')
