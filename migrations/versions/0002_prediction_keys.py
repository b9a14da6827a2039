"""Predictions live in their batch blobs; ``predictions`` becomes ``prediction_keys``.

Everything ``predictions`` held per row (id, join key, timestamp, role, version, latency,
request id, outputs) is also in the outputs blob of its ``prediction_batches`` row, which is
what every reader now uses. The per-row table shrinks to the join keys (one narrow row, one
index), which made persisted capture throughput several times higher (benchmarks/RESULTS.md).
On PostgreSQL both join-key columns (``prediction_keys`` and ``outcomes``) compare with the
C collation: keys are identifiers, and byte comparison makes the key index cheaper to fill.
The blob columns get ``STORAGE EXTERNAL``: they are zstd-compressed already, and TOAST's own
pglz pass over them made inserting a batch four times slower.

Upgrade copies the keys and drops ``predictions``. One column of 0001 is not carried over:
``predictions.request_id``, which revision 0001's capture never set (only the serving layer
that pairs champion and challenger sets request ids, and it did not exist), so it was NULL on
every row; request ids now live in the outputs blob (``_request_id``). Downgrade recreates
``predictions`` and refills it from the batch blobs, so no logged prediction is lost either
way.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Join keys compare byte by byte on PostgreSQL (lifecycle.storage.types.JoinKey).
JOIN_KEY = sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql')


def upgrade() -> None:
    op.create_table('prediction_keys',
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('join_key', JOIN_KEY, nullable=False)
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.alter_column('outcomes', 'join_key', type_=sa.String(length=255, collation='C'),
                        existing_type=sa.String(length=255), existing_nullable=False)
        # the blobs are zstd already: no second (pglz) compression attempt by TOAST
        op.execute("ALTER TABLE prediction_batches ALTER COLUMN inputs SET STORAGE EXTERNAL, "
                   "ALTER COLUMN outputs SET STORAGE EXTERNAL")
    with op.batch_alter_table('prediction_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prediction_keys_model_id_join_key'), ['model_id', 'join_key'], unique=False)
    op.execute("INSERT INTO prediction_keys (model_id, join_key) "
               "SELECT model_id, join_key FROM predictions")
    with op.batch_alter_table('predictions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_predictions_request_id'))
        batch_op.drop_index(batch_op.f('ix_predictions_model_id_ts'))
        batch_op.drop_index(batch_op.f('ix_predictions_model_id_join_key'))
    op.drop_table('predictions')


def downgrade() -> None:
    op.create_table('predictions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('prediction_id', sa.String(length=32), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('join_key', sa.String(length=255), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.Column('row_index', sa.Integer(), nullable=False),
    sa.Column('latency_ms', sa.Float(), nullable=True),
    sa.Column('output_value', sa.Float(), nullable=True),
    sa.Column('output_label', sa.String(length=255), nullable=True),
    sa.CheckConstraint("role IN ('champion', 'challenger', 'unmanaged')", name=op.f('ck_predictions_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_predictions')),
    sa.UniqueConstraint('prediction_id', name=op.f('uq_predictions_prediction_id'))
    )
    with op.batch_alter_table('predictions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_predictions_model_id_join_key'), ['model_id', 'join_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_predictions_model_id_ts'), ['model_id', 'ts'], unique=False)
        batch_op.create_index(batch_op.f('ix_predictions_request_id'), ['request_id'], unique=False, sqlite_where=sa.text('request_id IS NOT NULL'), postgresql_where=sa.text('request_id IS NOT NULL'))
    _refill_predictions()
    with op.batch_alter_table('prediction_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prediction_keys_model_id_join_key'))
    op.drop_table('prediction_keys')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE prediction_batches ALTER COLUMN inputs SET STORAGE EXTENDED, "
                   "ALTER COLUMN outputs SET STORAGE EXTENDED")
        op.alter_column('outcomes', 'join_key', type_=sa.String(length=255),
                        existing_type=sa.String(length=255, collation='C'),
                        existing_nullable=False)


def _refill_predictions() -> None:
    """One ``predictions`` row per logged prediction, decoded from the batch blobs."""
    import pyarrow as pa

    from lifecycle.storage.codec import decode_table
    from lifecycle.storage.headline import headline
    from lifecycle.storage.types import UTCDateTime

    conn = op.get_bind()
    predictions = sa.table(
        'predictions', sa.column('prediction_id'), sa.column('model_id'),
        sa.column('model_version'), sa.column('role'), sa.column('join_key'),
        sa.column('request_id'), sa.column('ts', UTCDateTime()), sa.column('batch_id'),
        sa.column('row_index'), sa.column('latency_ms'), sa.column('output_value'),
        sa.column('output_label'),
    )
    batches = conn.execute(sa.text(
        "SELECT id, model_id FROM prediction_batches ORDER BY ts_min, id")).all()
    for batch_id, model_id in batches:  # one blob in memory at a time
        blob = conn.execute(sa.text("SELECT outputs FROM prediction_batches WHERE id = :id"),
                            {"id": batch_id}).scalar()
        if blob is None:
            continue
        out = decode_table(bytes(blob))
        meta = [c for c in out.column_names if c.startswith('_')]
        value, label = headline(out.drop_columns(meta))
        n = out.num_rows
        request = (out.column('_request_id') if '_request_id' in out.column_names
                   else pa.nulls(n, pa.string()))
        rows = [
            {"prediction_id": pid, "model_id": model_id, "model_version": ver, "role": role,
             "join_key": key, "request_id": req, "ts": ts, "batch_id": batch_id,
             "row_index": i, "latency_ms": lat, "output_value": val, "output_label": lab}
            for i, (pid, key, ts, role, ver, lat, req, val, lab) in enumerate(zip(
                out.column('_prediction_id').to_pylist(), out.column('_join_key').to_pylist(),
                out.column('_ts').to_pylist(), out.column('_role').to_pylist(),
                out.column('_model_version').cast(pa.string()).to_pylist(),
                out.column('_latency_ms').cast(pa.float64()).to_pylist(),
                request.to_pylist(), value.to_pylist(), label.to_pylist(), strict=True))
        ]
        if rows:
            conn.execute(predictions.insert(), rows)
