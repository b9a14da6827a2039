"""The schema of the whole product (capture -> drift -> retrain -> shadow -> promotion).

SQLAlchemy 2 declarative models. Alembic owns the schema: every change here comes with a
migration in ``migrations/versions`` and ``tests/integration/test_migrations.py`` proves that
autogenerate finds no difference between the two.

Design notes
------------
* **A prediction lives in its batch.** The background writer groups many predictions into one
  ``prediction_batches`` row whose ``inputs`` / ``outputs`` are compressed Arrow IPC blobs
  (``storage/codec.py``); the outputs blob also carries each row's id, join key, timestamp,
  role, version, latency and request id. Loading a window of 1,000,000 rows is a handful of
  blob reads and a zero-copy decode; counting is done by ``traffic_hourly`` (upserted by the
  writer); ``prediction_keys`` is the only per-row table (two columns, one index).
* **Idempotent writes.** A batch and its keys are written in one transaction and the batch id
  is the primary key, so replaying a spilled batch twice is a no-op.
* **Dedup by construction.** ``alerts.open_key`` is set while an alert is open or acknowledged
  and cleared on resolve; its unique index allows one live alert per model/kind/feature.
* Timestamps are aware UTC (``timestamptz`` on PostgreSQL), JSON is JSONB on PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from lifecycle.storage.types import BigIntPK, Blob, JoinKey, JSONType, UTCDateTime, utcnow

#: Constraint names are deterministic from the first revision on (Alembic batch mode on
#: SQLite needs named constraints to alter them later).
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}



class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSONType, datetime: UTCDateTime}


def _model_fk(ondelete: str = "CASCADE") -> Any:
    return ForeignKey("models.id", ondelete=ondelete)


# --------------------------------------------------------------------------- models


class ModelRow(Base):
    """A monitored model (one row per name)."""

    __tablename__ = "models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    task: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


# --------------------------------------------------------------------------- capture


class PredictionBatch(Base):
    """One writer batch: the inputs and outputs of its rows as compressed Arrow IPC."""

    __tablename__ = "prediction_batches"
    __table_args__ = (Index(None, "model_id", "ts_min", "ts_max"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    model_id: Mapped[int] = mapped_column(_model_fk())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ts_min: Mapped[datetime]
    ts_max: Mapped[datetime]
    n_rows: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(32), default="arrow-ipc-zstd-v1")
    inputs: Mapped[bytes] = mapped_column(Blob)
    outputs: Mapped[bytes | None] = mapped_column(Blob)


#: Every join key a model has logged, nothing else: one row per call for the ids lifecycle
#: assigns (``join_key`` = the call's first id, ``last_key`` = its last; see
#: ``storage/key_ranges.py``) and one row per key otherwise (``last_key`` NULL; a key logged
#: twice has two rows). The rest of a prediction (its id, timestamp, role, version, latency,
#: outputs and inputs) lives in its batch's blobs (see docs/capture.md, "Storage"). It answers
#: one question a blob scan cannot answer cheaply: "was this key ever logged?" (orphan outcomes
#: in ``storage/labelled.py``). No primary key on purpose: the writer appends with ``COPY`` /
#: ``json_each``, and a batch's keys are written in the batch's transaction, whose primary key
#: makes replays idempotent.
prediction_keys = Table(
    "prediction_keys",
    Base.metadata,
    Column("model_id", Integer, nullable=False),
    Column("join_key", JoinKey, nullable=False),
    Column("last_key", JoinKey, nullable=True),
    Index(None, "model_id", "join_key"),
)


class Outcome(Base):
    """Late ground truth, joined to predictions by ``(model_id, join_key)``.

    One row per key: a later label for the same key replaces the earlier one (latest received
    wins) and ``revisions`` counts the replacements.
    """

    __tablename__ = "outcomes"
    __table_args__ = (UniqueConstraint("model_id", "join_key"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    model_id: Mapped[int] = mapped_column(_model_fk())
    join_key: Mapped[str] = mapped_column(JoinKey)
    label: Mapped[str] = mapped_column(Text)
    label_value: Mapped[float | None] = mapped_column(Float)
    ts: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    revisions: Mapped[int] = mapped_column(Integer, default=0)


class TrafficHourly(Base):
    """Per-hour traffic aggregates, maintained by the writer, read by the dashboard."""

    __tablename__ = "traffic_hourly"
    __table_args__ = (UniqueConstraint("model_id", "bucket_start", "role", "model_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(_model_fk())
    bucket_start: Mapped[datetime]
    role: Mapped[str] = mapped_column(String(16))
    model_version: Mapped[str] = mapped_column(String(64), default="")
    n_predictions: Mapped[int] = mapped_column(Integer, default=0)
    latency_sum_ms: Mapped[float] = mapped_column(Float, default=0.0)  # over rows
    latency_max_ms: Mapped[float] = mapped_column(Float, default=0.0)
    #: Calls that logged these rows, and their latencies summed once per call (revision
    #: 0005; 0 on rows written before it).
    n_calls: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    call_latency_sum_ms: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")


class WindowProfile(Base):
    """One hour of one model's served traffic summarised per feature and kind (``data``,
    ``prediction``, ``label``) by the rollup job (``lifecycle/rollup/``): exact counts in
    ``summary`` (readable JSON), every feature's mergeable sketch in ``sketches`` (one Arrow
    IPC blob: feature name + serialised DataSketches bytes; no pickle). A rerun of the hour
    replaces its row (unique model, kind, hour)."""

    __tablename__ = "window_profiles"
    __table_args__ = (UniqueConstraint("model_id", "kind", "hour_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(_model_fk())
    hour_start: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16))
    n_rows: Mapped[int] = mapped_column(Integer)
    reference_digest: Mapped[str | None] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    summary: Mapped[dict[str, Any]]
    sketches: Mapped[bytes | None] = mapped_column(Blob)


# --------------------------------------------------------------------------- drift


class ReferenceProfileRow(Base):
    """A reference profile computed once (bins, counts, sketches), so checks read only the
    current window. ``profile`` holds the JSON part, ``arrays`` large numeric arrays."""

    __tablename__ = "reference_profiles"
    __table_args__ = (Index(None, "model_id", "kind", "is_active"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(_model_fk())
    kind: Mapped[str] = mapped_column(String(16), default="data")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(Text)
    n_rows: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    profile: Mapped[dict[str, Any]]
    arrays: Mapped[bytes | None] = mapped_column(Blob)


class DriftReportRow(Base):
    """One drift check of one model over one window (unique: reruns update, never duplicate)."""

    __tablename__ = "drift_reports"
    __table_args__ = (
        UniqueConstraint("model_id", "kind", "window_start", "window_end"),
        Index(None, "model_id", "window_end"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(_model_fk())
    reference_id: Mapped[int | None] = mapped_column(
        ForeignKey("reference_profiles.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(16), default="data")
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    n_reference: Mapped[int] = mapped_column(Integer)
    n_current: Mapped[int] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(32))
    drift_share: Mapped[float | None] = mapped_column(Float)
    n_features: Mapped[int] = mapped_column(Integer, default=0)
    n_drifted: Mapped[int] = mapped_column(Integer, default=0)
    policy: Mapped[dict[str, Any]] = mapped_column(default=dict)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DriftFeatureResult(Base):
    """One statistic on one feature inside a drift report."""

    __tablename__ = "drift_feature_results"
    __table_args__ = (UniqueConstraint("report_id", "feature", "statistic_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("drift_reports.id", ondelete="CASCADE"))
    feature: Mapped[str] = mapped_column(String(255))
    feature_type: Mapped[str] = mapped_column(String(16))
    statistic_name: Mapped[str] = mapped_column(String(64))
    statistic: Mapped[float | None] = mapped_column(Float)
    p_value: Mapped[float | None] = mapped_column(Float)
    p_adjusted: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    verdict: Mapped[str] = mapped_column(String(32))
    missing_share_reference: Mapped[float | None] = mapped_column(Float)
    missing_share_current: Mapped[float | None] = mapped_column(Float)
    out_of_range_share: Mapped[float | None] = mapped_column(Float)
    unseen_share: Mapped[float | None] = mapped_column(Float)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


# --------------------------------------------------------------------------- performance


class PerformanceReport(Base):
    """Model performance on one labelled window, against the reference period."""

    __tablename__ = "performance_reports"
    __table_args__ = (
        UniqueConstraint("model_id", "window_start", "window_end"),
        Index(None, "model_id", "window_end"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(_model_fk())
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    task: Mapped[str] = mapped_column(String(32))
    n_predictions: Mapped[int] = mapped_column(Integer)
    n_labelled: Mapped[int] = mapped_column(Integer)
    label_coverage: Mapped[float | None] = mapped_column(Float)
    label_delay_median_s: Mapped[float | None] = mapped_column(Float)
    verdict: Mapped[str] = mapped_column(String(32))
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)


class PerformanceMetric(Base):
    """One metric (realised or estimated) with its interval and test against the reference."""

    __tablename__ = "performance_metrics"
    __table_args__ = (UniqueConstraint("report_id", "metric", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("performance_reports.id", ondelete="CASCADE")
    )
    metric: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="realised")
    value: Mapped[float | None] = mapped_column(Float)
    ci_low: Mapped[float | None] = mapped_column(Float)
    ci_high: Mapped[float | None] = mapped_column(Float)
    reference_value: Mapped[float | None] = mapped_column(Float)
    p_value: Mapped[float | None] = mapped_column(Float)
    verdict: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ChangePoint(Base):
    """Where an error-stream detector located a change."""

    __tablename__ = "change_points"
    __table_args__ = (
        UniqueConstraint("model_id", "detector", "ts"),
        Index(None, "model_id", "ts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(_model_fk())
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("performance_reports.id", ondelete="SET NULL")
    )
    detector: Mapped[str] = mapped_column(String(32))
    ts: Mapped[datetime]
    stream_index: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


# --------------------------------------------------------------------------- alerts


class Alert(Base):
    """A persisted, deduplicated alert. ``open_key`` is unique while the alert is live."""

    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'acknowledged', 'resolved')", name="status"
        ),
        Index(None, "model_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(_model_fk())
    kind: Mapped[str] = mapped_column(String(32))
    feature: Mapped[str | None] = mapped_column(String(255))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    open_key: Mapped[str | None] = mapped_column(String(400), unique=True)
    message: Mapped[str] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    source_report_id: Mapped[int | None] = mapped_column(Integer)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AlertDelivery(Base):
    """One delivery attempt of an alert to a channel (log, webhook)."""

    __tablename__ = "alert_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --------------------------------------------------------------------------- jobs


class JobRun(Base):
    """One execution of a scheduled (or manual) job."""

    __tablename__ = "job_runs"
    __table_args__ = (Index(None, "job_name", "started_at"), Index(None, "model_name", "status"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_name: Mapped[str] = mapped_column(String(100))
    model_name: Mapped[str | None] = mapped_column(String(200))
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(200))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    duration_s: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)


class JobLease(Base):
    """Claims one (job, model, window) so that many schedulers run it exactly once."""

    __tablename__ = "job_leases"
    __table_args__ = (UniqueConstraint("job_name", "model_name", "window_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_name: Mapped[str] = mapped_column(String(100))
    model_name: Mapped[str] = mapped_column(String(200))
    window_key: Mapped[str] = mapped_column(String(100))
    owner: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class JobRequest(Base):
    """Work asked for outside the schedule (a retrain, "run this check now"), run by a scheduler.

    Whoever asks (the retrain trigger, the dashboard, the CLI) only inserts a row; a scheduler
    process claims it under a lease (``claimed_by`` / ``expires_at``) and runs it, so no long
    work runs inside a drift window's lease or a Streamlit process. ``open_key`` is set while
    the request is pending or running and cleared when it ends: its unique index allows one live
    request per (kind, model, window), so asking twice queues once.
    """

    __tablename__ = "job_requests"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'running', 'done', 'failed')", name="status"
        ),
        Index(None, "status", "id"),
        Index(None, "model_name", "requested_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(100))
    model_name: Mapped[str] = mapped_column(String(200))
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    open_key: Mapped[str | None] = mapped_column(String(400), unique=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime | None]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)


# --------------------------------------------------------------------------- lifecycle


class RetrainRun(Base):
    """One retraining attempt (MLflow run, registered version, or the reason it failed)."""

    __tablename__ = "retrain_runs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('running', 'done', 'failed', 'skipped', 'lost')", name="status"
        ),
        Index(None, "model_id", "started_at"),
        Index(None, "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(_model_fk())
    trigger: Mapped[str] = mapped_column(String(32))
    trigger_alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alerts.id", ondelete="SET NULL")
    )
    drift_report_id: Mapped[int | None] = mapped_column(
        ForeignKey("drift_reports.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    mlflow_run_id: Mapped[str | None] = mapped_column(String(64))
    registered_version: Mapped[str | None] = mapped_column(String(64))
    n_rows: Mapped[int | None] = mapped_column(Integer)
    dataset_hash: Mapped[str | None] = mapped_column(String(64))
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    #: revision 0006: what asked for it, what it challenged, and everything else it measured
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("job_requests.id", ondelete="SET NULL")
    )
    performance_report_id: Mapped[int | None] = mapped_column(
        ForeignKey("performance_reports.id", ondelete="SET NULL")
    )
    champion_version: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200), default="scheduler",
                                       server_default="scheduler")
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")


class ShadowEvaluation(Base):
    """A paired champion-vs-challenger comparison on labelled shadow traffic."""

    __tablename__ = "shadow_evaluations"
    __table_args__ = (Index(None, "model_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(_model_fk())
    champion_version: Mapped[str] = mapped_column(String(64))
    challenger_version: Mapped[str] = mapped_column(String(64))
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    n_paired: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(16))
    test: Mapped[str] = mapped_column(String(64))
    statistic: Mapped[float | None] = mapped_column(Float)
    p_value: Mapped[float | None] = mapped_column(Float)
    metric_delta: Mapped[float | None] = mapped_column(Float)
    ci_low: Mapped[float | None] = mapped_column(Float)
    ci_high: Mapped[float | None] = mapped_column(Float)
    guardrails: Mapped[dict[str, Any]] = mapped_column(default=dict)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class PromotionEvent(Base):
    """Promotion / rollback intent and outcome (the reconciler finishes half-done moves)."""

    __tablename__ = "promotion_events"
    __table_args__ = (Index(None, "model_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(_model_fk())
    action: Mapped[str] = mapped_column(String(16))
    from_version: Mapped[str | None] = mapped_column(String(64))
    to_version: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    evaluation_id: Mapped[int | None] = mapped_column(
        ForeignKey("shadow_evaluations.id", ondelete="SET NULL")
    )
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AuditEvent(Base):
    """Who changed what, when (every state-changing action from the CLI or the dashboard)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index(None, "ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    model_id: Mapped[int | None] = mapped_column(_model_fk("SET NULL"))
    target: Mapped[str | None] = mapped_column(String(400))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
