"""Initial schema: the tables of the whole product map.

Capture (models, prediction_batches, predictions, outcomes, traffic_hourly), drift
(reference_profiles, drift_reports, drift_feature_results), performance (performance_reports,
performance_metrics, change_points), alerts (alerts, alert_deliveries), jobs (job_runs,
job_leases, apscheduler_jobs), lifecycle (retrain_runs, shadow_evaluations, promotion_events,
audit_events).

Revision ID: 0001
Revises: 
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# JSONB on PostgreSQL, JSON elsewhere (same as lifecycle.storage.types.JSONType).
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table('apscheduler_jobs',
    sa.Column('id', sa.String(length=191), nullable=False),
    sa.Column('next_run_time', sa.Float(precision=25), nullable=True),
    sa.Column('job_state', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_apscheduler_jobs'))
    )
    with op.batch_alter_table('apscheduler_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_apscheduler_jobs_next_run_time'), ['next_run_time'], unique=False)

    op.create_table('job_leases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_name', sa.String(length=100), nullable=False),
    sa.Column('model_name', sa.String(length=200), nullable=False),
    sa.Column('window_key', sa.String(length=100), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_leases')),
    sa.UniqueConstraint('job_name', 'model_name', 'window_key', name=op.f('uq_job_leases_job_name_model_name_window_key'))
    )
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_name', sa.String(length=100), nullable=False),
    sa.Column('model_name', sa.String(length=200), nullable=True),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_s', sa.Float(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('traceback', sa.Text(), nullable=True),
    sa.Column('result', JSON, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs'))
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_runs_job_name_started_at'), ['job_name', 'started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_runs_model_name_status'), ['model_name', 'status'], unique=False)

    op.create_table('models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('task', sa.String(length=32), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('details', JSON, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_models')),
    sa.UniqueConstraint('name', name=op.f('uq_models_name'))
    )
    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('feature', sa.String(length=255), nullable=True),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('open_key', sa.String(length=400), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('occurrences', sa.Integer(), nullable=False),
    sa.Column('source_report_id', sa.Integer(), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=200), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('details', JSON, nullable=False),
    sa.CheckConstraint("status IN ('open', 'acknowledged', 'resolved')", name=op.f('ck_alerts_status')),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_alerts_model_id_models'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    sa.UniqueConstraint('open_key', name=op.f('uq_alerts_open_key'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_model_id_status'), ['model_id', 'status'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=True),
    sa.Column('target', sa.String(length=400), nullable=True),
    sa.Column('details', JSON, nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_audit_events_model_id_models'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_ts'), ['ts'], unique=False)

    op.create_table('outcomes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('join_key', sa.String(length=255), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('label_value', sa.Float(), nullable=True),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revisions', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_outcomes_model_id_models'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outcomes')),
    sa.UniqueConstraint('model_id', 'join_key', name=op.f('uq_outcomes_model_id_join_key'))
    )
    op.create_table('performance_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('task', sa.String(length=32), nullable=False),
    sa.Column('n_predictions', sa.Integer(), nullable=False),
    sa.Column('n_labelled', sa.Integer(), nullable=False),
    sa.Column('label_coverage', sa.Float(), nullable=True),
    sa.Column('label_delay_median_s', sa.Float(), nullable=True),
    sa.Column('verdict', sa.String(length=32), nullable=False),
    sa.Column('summary', JSON, nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_performance_reports_model_id_models'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_performance_reports')),
    sa.UniqueConstraint('model_id', 'window_start', 'window_end', name=op.f('uq_performance_reports_model_id_window_start_window_end'))
    )
    with op.batch_alter_table('performance_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_performance_reports_model_id_window_end'), ['model_id', 'window_end'], unique=False)

    op.create_table('prediction_batches',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ts_min', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ts_max', sa.DateTime(timezone=True), nullable=False),
    sa.Column('n_rows', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=32), nullable=False),
    sa.Column('inputs', sa.LargeBinary(), nullable=False),
    sa.Column('outputs', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_prediction_batches_model_id_models'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prediction_batches'))
    )
    with op.batch_alter_table('prediction_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prediction_batches_model_id_ts_min_ts_max'), ['model_id', 'ts_min', 'ts_max'], unique=False)

    op.create_table('reference_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('n_rows', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('profile', JSON, nullable=False),
    sa.Column('arrays', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_reference_profiles_model_id_models'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_profiles'))
    )
    with op.batch_alter_table('reference_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reference_profiles_model_id_kind_is_active'), ['model_id', 'kind', 'is_active'], unique=False)

    op.create_table('shadow_evaluations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('champion_version', sa.String(length=64), nullable=False),
    sa.Column('challenger_version', sa.String(length=64), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('n_paired', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('test', sa.String(length=64), nullable=False),
    sa.Column('statistic', sa.Float(), nullable=True),
    sa.Column('p_value', sa.Float(), nullable=True),
    sa.Column('metric_delta', sa.Float(), nullable=True),
    sa.Column('ci_low', sa.Float(), nullable=True),
    sa.Column('ci_high', sa.Float(), nullable=True),
    sa.Column('guardrails', JSON, nullable=False),
    sa.Column('details', JSON, nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_shadow_evaluations_model_id_models'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shadow_evaluations'))
    )
    with op.batch_alter_table('shadow_evaluations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shadow_evaluations_model_id_created_at'), ['model_id', 'created_at'], unique=False)

    op.create_table('traffic_hourly',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('bucket_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=False),
    sa.Column('n_predictions', sa.Integer(), nullable=False),
    sa.Column('latency_sum_ms', sa.Float(), nullable=False),
    sa.Column('latency_max_ms', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_traffic_hourly_model_id_models'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_traffic_hourly')),
    sa.UniqueConstraint('model_id', 'bucket_start', 'role', 'model_version', name=op.f('uq_traffic_hourly_model_id_bucket_start_role_model_version'))
    )
    op.create_table('alert_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_deliveries_alert_id_alerts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_deliveries'))
    )
    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_deliveries_alert_id'), ['alert_id'], unique=False)

    op.create_table('change_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.Column('detector', sa.String(length=32), nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stream_index', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('details', JSON, nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_change_points_model_id_models'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['performance_reports.id'], name=op.f('fk_change_points_report_id_performance_reports'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_points')),
    sa.UniqueConstraint('model_id', 'detector', 'ts', name=op.f('uq_change_points_model_id_detector_ts'))
    )
    with op.batch_alter_table('change_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_points_model_id_ts'), ['model_id', 'ts'], unique=False)

    op.create_table('drift_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('reference_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('n_reference', sa.Integer(), nullable=False),
    sa.Column('n_current', sa.Integer(), nullable=False),
    sa.Column('verdict', sa.String(length=32), nullable=False),
    sa.Column('drift_share', sa.Float(), nullable=True),
    sa.Column('n_features', sa.Integer(), nullable=False),
    sa.Column('n_drifted', sa.Integer(), nullable=False),
    sa.Column('policy', JSON, nullable=False),
    sa.Column('summary', JSON, nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_drift_reports_model_id_models'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reference_id'], ['reference_profiles.id'], name=op.f('fk_drift_reports_reference_id_reference_profiles'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drift_reports')),
    sa.UniqueConstraint('model_id', 'kind', 'window_start', 'window_end', name=op.f('uq_drift_reports_model_id_kind_window_start_window_end'))
    )
    with op.batch_alter_table('drift_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_drift_reports_model_id_window_end'), ['model_id', 'window_end'], unique=False)

    op.create_table('performance_metrics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('metric', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('ci_low', sa.Float(), nullable=True),
    sa.Column('ci_high', sa.Float(), nullable=True),
    sa.Column('reference_value', sa.Float(), nullable=True),
    sa.Column('p_value', sa.Float(), nullable=True),
    sa.Column('verdict', sa.String(length=32), nullable=False),
    sa.Column('details', JSON, nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['performance_reports.id'], name=op.f('fk_performance_metrics_report_id_performance_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_performance_metrics')),
    sa.UniqueConstraint('report_id', 'metric', 'kind', name=op.f('uq_performance_metrics_report_id_metric_kind'))
    )
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

    op.create_table('promotion_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('from_version', sa.String(length=64), nullable=True),
    sa.Column('to_version', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('evaluation_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('details', JSON, nullable=False),
    sa.ForeignKeyConstraint(['evaluation_id'], ['shadow_evaluations.id'], name=op.f('fk_promotion_events_evaluation_id_shadow_evaluations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_promotion_events_model_id_models'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promotion_events'))
    )
    with op.batch_alter_table('promotion_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_promotion_events_model_id_created_at'), ['model_id', 'created_at'], unique=False)

    op.create_table('drift_feature_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('feature', sa.String(length=255), nullable=False),
    sa.Column('feature_type', sa.String(length=16), nullable=False),
    sa.Column('statistic_name', sa.String(length=64), nullable=False),
    sa.Column('statistic', sa.Float(), nullable=True),
    sa.Column('p_value', sa.Float(), nullable=True),
    sa.Column('p_adjusted', sa.Float(), nullable=True),
    sa.Column('threshold', sa.Float(), nullable=True),
    sa.Column('verdict', sa.String(length=32), nullable=False),
    sa.Column('missing_share_reference', sa.Float(), nullable=True),
    sa.Column('missing_share_current', sa.Float(), nullable=True),
    sa.Column('out_of_range_share', sa.Float(), nullable=True),
    sa.Column('unseen_share', sa.Float(), nullable=True),
    sa.Column('details', JSON, nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['drift_reports.id'], name=op.f('fk_drift_feature_results_report_id_drift_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drift_feature_results')),
    sa.UniqueConstraint('report_id', 'feature', 'statistic_name', name=op.f('uq_drift_feature_results_report_id_feature_statistic_name'))
    )
    op.create_table('retrain_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.String(length=32), nullable=False),
    sa.Column('trigger_alert_id', sa.Integer(), nullable=True),
    sa.Column('drift_report_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('mlflow_run_id', sa.String(length=64), nullable=True),
    sa.Column('registered_version', sa.String(length=64), nullable=True),
    sa.Column('n_rows', sa.Integer(), nullable=True),
    sa.Column('dataset_hash', sa.String(length=64), nullable=True),
    sa.Column('metrics', JSON, nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['drift_report_id'], ['drift_reports.id'], name=op.f('fk_retrain_runs_drift_report_id_drift_reports'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_retrain_runs_model_id_models'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['trigger_alert_id'], ['alerts.id'], name=op.f('fk_retrain_runs_trigger_alert_id_alerts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retrain_runs'))
    )
    with op.batch_alter_table('retrain_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retrain_runs_model_id_started_at'), ['model_id', 'started_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('retrain_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retrain_runs_model_id_started_at'))

    op.drop_table('retrain_runs')
    op.drop_table('drift_feature_results')
    with op.batch_alter_table('promotion_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_promotion_events_model_id_created_at'))

    op.drop_table('promotion_events')
    with op.batch_alter_table('predictions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_predictions_request_id'))
        batch_op.drop_index(batch_op.f('ix_predictions_model_id_ts'))
        batch_op.drop_index(batch_op.f('ix_predictions_model_id_join_key'))

    op.drop_table('predictions')
    op.drop_table('performance_metrics')
    with op.batch_alter_table('drift_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_drift_reports_model_id_window_end'))

    op.drop_table('drift_reports')
    with op.batch_alter_table('change_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_points_model_id_ts'))

    op.drop_table('change_points')
    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_deliveries_alert_id'))

    op.drop_table('alert_deliveries')
    op.drop_table('traffic_hourly')
    with op.batch_alter_table('shadow_evaluations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shadow_evaluations_model_id_created_at'))

    op.drop_table('shadow_evaluations')
    with op.batch_alter_table('reference_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reference_profiles_model_id_kind_is_active'))

    op.drop_table('reference_profiles')
    with op.batch_alter_table('prediction_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prediction_batches_model_id_ts_min_ts_max'))

    op.drop_table('prediction_batches')
    with op.batch_alter_table('performance_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_performance_reports_model_id_window_end'))

    op.drop_table('performance_reports')
    op.drop_table('outcomes')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_ts'))

    op.drop_table('audit_events')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_model_id_status'))

    op.drop_table('alerts')
    op.drop_table('models')
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_runs_model_name_status'))
        batch_op.drop_index(batch_op.f('ix_job_runs_job_name_started_at'))

    op.drop_table('job_runs')
    op.drop_table('job_leases')
    with op.batch_alter_table('apscheduler_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_apscheduler_jobs_next_run_time'))

    op.drop_table('apscheduler_jobs')
