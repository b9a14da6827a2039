"""Cached, read-only queries of the Jobs & alerts page: job runs, alerts, the audit log.

Same rules as :mod:`dashboard.data` (database URL first, bound parameters, TTL).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st
from sqlalchemy import and_, func, select

from lifecycle.dashboard.data import TTL_S, fetch
from lifecycle.storage.tables import Alert, AuditEvent, JobRun, ModelRow


@st.cache_data(ttl=TTL_S, show_spinner=False)
def job_runs(url: str, start: datetime, limit: int = 500) -> pd.DataFrame:
    """The most recent job runs started after ``start`` (at most ``limit``)."""
    stmt = (
        select(JobRun.id, JobRun.job_name, JobRun.model_name, JobRun.status,
               JobRun.started_at, JobRun.duration_s, JobRun.attempt, JobRun.window_start,
               JobRun.window_end, JobRun.error)
        .where(JobRun.started_at >= start)
        .order_by(JobRun.started_at.desc()).limit(limit)
    )
    return fetch(url, stmt, ["id", "job", "model", "status", "started_at", "duration_s",
                              "attempt", "window_start", "window_end", "error"])


@st.cache_data(ttl=TTL_S, show_spinner=False)
def job_summary(url: str, start: datetime) -> pd.DataFrame:
    """Per job and status since ``start``: runs, mean and max duration, last start."""
    stmt = (
        select(JobRun.job_name, JobRun.status, func.count(), func.avg(JobRun.duration_s),
               func.max(JobRun.duration_s), func.max(JobRun.started_at))
        .where(JobRun.started_at >= start)
        .group_by(JobRun.job_name, JobRun.status)
        .order_by(JobRun.job_name, JobRun.status)
    )
    return fetch(url, stmt, ["job", "status", "runs", "mean_duration_s", "max_duration_s",
                              "last_started"])


@st.cache_data(ttl=TTL_S, show_spinner=False)
def job_failures(url: str, start: datetime, limit: int = 20) -> pd.DataFrame:
    """The latest failed runs with their error and traceback."""
    stmt = (
        select(JobRun.id, JobRun.job_name, JobRun.model_name, JobRun.started_at,
               JobRun.attempt, JobRun.error, JobRun.traceback)
        .where(JobRun.started_at >= start, JobRun.status == "failed")
        .order_by(JobRun.started_at.desc()).limit(limit)
    )
    return fetch(url, stmt, ["id", "job", "model", "started_at", "attempt", "error",
                              "traceback"])


@st.cache_data(ttl=TTL_S, show_spinner=False)
def alerts(url: str, statuses: tuple[str, ...], limit: int = 500) -> pd.DataFrame:
    """Alerts in ``statuses``, most recently seen first."""
    stmt = (
        select(Alert.id, ModelRow.name, Alert.kind, Alert.feature, Alert.severity, Alert.status,
               Alert.message, Alert.first_seen, Alert.last_seen, Alert.occurrences,
               Alert.acknowledged_by, Alert.acknowledged_at, Alert.resolved_at)
        .join(ModelRow, and_(ModelRow.id == Alert.model_id))
        .where(Alert.status.in_(statuses))
        .order_by(Alert.last_seen.desc()).limit(limit)
    )
    return fetch(url, stmt, ["id", "model", "kind", "feature", "severity", "status",
                              "message", "first_seen", "last_seen", "occurrences",
                              "acknowledged_by", "acknowledged_at", "resolved_at"])


@st.cache_data(ttl=TTL_S, show_spinner=False)
def audit_events(url: str, limit: int = 50) -> pd.DataFrame:
    """The latest audit events (who changed what, when)."""
    stmt = (
        select(AuditEvent.ts, AuditEvent.actor, AuditEvent.action, AuditEvent.target,
               AuditEvent.details)
        .order_by(AuditEvent.ts.desc(), AuditEvent.id.desc()).limit(limit)
    )
    return fetch(url, stmt, ["ts", "actor", "action", "target", "details"])
