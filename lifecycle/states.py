"""The product's vocabulary, defined once: roles, statuses, verdicts and decisions.

Every other module (the pure core, storage, jobs, the dashboard) imports these names from here
instead of spelling the strings again, so a word means one thing everywhere and a rename is one
edit. Standard library only: the pure core imports it.
"""

from __future__ import annotations

# --------------------------------------------------------------------------- roles
#: The model version that serves predictions (``models:/name@champion``).
CHAMPION = "champion"
#: A candidate version scored in shadow beside the champion; never served.
CHALLENGER = "challenger"
#: A predictor wrapped with ``@lifecycle.monitor`` outside a ManagedModel.
UNMANAGED = "unmanaged"
ROLES = (CHAMPION, CHALLENGER, UNMANAGED)
#: Roles whose predictions reached the caller: the traffic that drift and performance judge.
SERVED_ROLES = (CHAMPION, UNMANAGED)

# --------------------------------------------------------------------------- job statuses
#: A lease, a run or a queued request being worked on.
RUNNING = "running"
#: Finished without error.
DONE = "done"
#: Finished with an error (retried later while attempts remain).
FAILED = "failed"
#: A run whose process died while it held the lease; another process took the window over.
LOST = "lost"
#: A window that another process had claimed, or that was already done.
SKIPPED = "skipped"
#: A queued request no process has claimed yet.
PENDING = "pending"
#: A window with nothing to check (no traffic): a normal outcome, never retried.
EMPTY = "empty"
#: Statuses of ``job_leases`` rows.
LEASE_STATUSES = (RUNNING, DONE, FAILED)
#: Statuses of ``job_runs`` rows.
RUN_STATUSES = (RUNNING, DONE, EMPTY, FAILED, LOST)
#: Statuses of ``job_requests`` rows.
REQUEST_STATUSES = (PENDING, RUNNING, DONE, FAILED)
#: Statuses of ``retrain_runs`` rows: ``skipped`` when the training window had too few
#: labelled rows, ``lost`` when the process running it died (its request was taken over or
#: gave up).
RETRAIN_STATUSES = (RUNNING, DONE, FAILED, SKIPPED, LOST)

# --------------------------------------------------------------------------- drift verdicts
NO_DRIFT = "no_drift"
WARNING = "warning"
DRIFT = "drift"
INSUFFICIENT_DATA = "insufficient_data"
#: Most severe first.
DRIFT_VERDICTS = (DRIFT, WARNING, INSUFFICIENT_DATA, NO_DRIFT)

# --------------------------------------------------------------------------- performance verdicts
FINE = "fine"
DEGRADED = "degraded"
NO_DATA = "no data"
NO_LABELS = "no labels"
INSUFFICIENT_LABELS = "insufficient labels"
PERFORMANCE_VERDICTS = (DEGRADED, FINE, INSUFFICIENT_LABELS, NO_LABELS, NO_DATA)

# --------------------------------------------------------------------------- alerts
ALERT_OPEN = "open"
ALERT_ACKNOWLEDGED = "acknowledged"
ALERT_RESOLVED = "resolved"
ALERT_STATUSES = (ALERT_OPEN, ALERT_ACKNOWLEDGED, ALERT_RESOLVED)

# --------------------------------------------------------------------------- promotion decisions
#: The challenger is better: move the ``champion`` alias to it.
PROMOTE = "promote"
#: The challenger is not better (or breaks a guardrail): drop its ``challenger`` alias.
REJECT = "reject"
#: Not enough labelled shadow traffic to decide yet.
CONTINUE = "continue"
DECISIONS = (PROMOTE, REJECT, CONTINUE)

# --------------------------------------------------------------------------- version statuses
#: ``lifecycle.status`` tag of a challenger the shadow evaluation rejected (alias removed).
REJECTED = "rejected"
#: ``lifecycle.status`` tag of a champion replaced by a rollback.
ROLLED_BACK = "rolled_back"

__all__ = [
    "ALERT_ACKNOWLEDGED", "ALERT_OPEN", "ALERT_RESOLVED", "ALERT_STATUSES", "CHALLENGER",
    "EMPTY",
    "CHAMPION", "CONTINUE", "DECISIONS", "DEGRADED", "DONE", "DRIFT", "DRIFT_VERDICTS",
    "FAILED", "FINE", "INSUFFICIENT_DATA", "INSUFFICIENT_LABELS", "LEASE_STATUSES", "LOST",
    "NO_DATA", "NO_DRIFT", "NO_LABELS", "PENDING", "PERFORMANCE_VERDICTS", "PROMOTE",
    "REJECT", "REJECTED", "REQUEST_STATUSES", "RETRAIN_STATUSES", "ROLES", "ROLLED_BACK",
    "RUNNING", "RUN_STATUSES", "SERVED_ROLES", "SKIPPED", "UNMANAGED", "WARNING",
]
