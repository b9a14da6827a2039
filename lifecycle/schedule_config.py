"""Parsing and validation of the scheduler, schedule and alert settings.

The dataclasses live in :mod:`lifecycle.config`; this module turns TOML tables into them and
raises :class:`~lifecycle.errors.ConfigError` naming the full key on any bad value. Checks that
need the job registry (unknown job kind, function that cannot be imported, unknown model in
``scheduler.models``) run when the scheduler starts, in :mod:`lifecycle.jobs.plan`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from lifecycle.errors import ConfigError
from lifecycle.windows import format_duration, parse_duration, validate_window_size

if TYPE_CHECKING:
    from lifecycle.config import (
        AlertSettings,
        CustomJob,
        JobSchedule,
        SchedulerSettings,
        _Section,
    )

VERDICTS_THAT_FIRE = ("warning", "drift")
SEVERITIES = ("info", "warning", "critical")
ALERT_EVALUATORS = ("drift", "performance")
_IMPORT_PATH_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_KIND_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_SCHEDULE_KEYS = {"every", "cron", "window", "delay", "catch_up", "max_attempts",
                  "retry_backoff", "enabled"}


def redact_webhook_url(url: str) -> str:
    """``scheme://host[:port]/***``: never print a webhook's path or query (they hold tokens)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<malformed URL>"
    tail = "/***" if (parts.path not in ("", "/") or parts.query) else ""
    return f"{parts.scheme}://{host}{port}{tail}"


def validate_webhook_url(url: str, key: str) -> str:
    """Syntactic check at start. Reachability is checked at delivery time (and recorded)."""
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        port_ok = False
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise ConfigError(
            f"{key} = {redact_webhook_url(url)!r} is not a valid webhook URL; it must look like "
            "'https://hooks.example.com/path' (http or https, a host name, an optional port)"
        )
    return url


def check_webhook_scheme(url: str, key: str, allow_http: bool) -> None:
    """Refuse a plain ``http://`` webhook unless ``[scheduler] webhook_allow_http = true``."""
    if urlsplit(url).scheme == "http" and not allow_http:
        raise ConfigError(
            f"{key} = {redact_webhook_url(url)!r} uses plain http: alerts and any token in the "
            "URL would cross the network unencrypted; use an https:// URL, or set "
            "[scheduler] webhook_allow_http = true to allow it (e.g. a relay on localhost)"
        )


def _duration(s: _Section, name: str, default: timedelta | None) -> timedelta | None:
    value = s.get(name)
    if value is None:
        return default
    try:
        return parse_duration(value, key=s.key(name))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _import_path(value: Any, key: str) -> str:
    if not isinstance(value, str) or not _IMPORT_PATH_RE.match(value):
        raise ConfigError(f"{key} = {value!r} must look like 'package.module:function'")
    return value


def parse_scheduler(
    cls: type[SchedulerSettings], s: _Section, env: Mapping[str, str]
) -> SchedulerSettings:
    from lifecycle.config import CustomJob, _Section

    allowed = {"lease_seconds", "misfire_grace_time_s", "max_workers", "models", "jobs",
               "retrain_function", "webhook_url", "webhook_timeout_s", "webhook_retries",
               "webhook_backoff_s", "webhook_allow_http"}
    _Section(s.data, "scheduler", allowed)  # unknown keys
    url = env.get("LIFECYCLE_WEBHOOK_URL") or s.str_("webhook_url")
    allow_http = s.boolean("webhook_allow_http", cls.webhook_allow_http)
    if url is not None:
        key = ("LIFECYCLE_WEBHOOK_URL" if env.get("LIFECYCLE_WEBHOOK_URL")
               else "scheduler.webhook_url")
        validate_webhook_url(url, key)
        check_webhook_scheme(url, key, allow_http)
    jobs_section = _Section(s.get("jobs"), "scheduler.jobs")
    jobs: dict[str, CustomJob] = {}
    for kind, spec in jobs_section.data.items():
        key = f"scheduler.jobs.{kind}"
        if not _KIND_RE.match(kind):
            raise ConfigError(f"{key}: job kind names use lowercase letters, digits and '_'")
        if isinstance(spec, str):
            jobs[kind] = CustomJob(function=_import_path(spec, key))
            continue
        js = _Section(spec, key, {"function", "alerts"})
        jobs[kind] = CustomJob(
            function=_import_path(js.get("function"), f"{key}.function"),
            alerts=js.choice("alerts", None, ALERT_EVALUATORS),
        )
    models = s.get("models")
    retrain = s.get("retrain_function")
    return cls(
        lease_seconds=s.number("lease_seconds", cls.lease_seconds, minimum=1.0),
        misfire_grace_time_s=s.integer("misfire_grace_time_s", cls.misfire_grace_time_s,
                                       minimum=1),
        max_workers=s.integer("max_workers", cls.max_workers, minimum=1, maximum=64),
        models=None if models is None else s.str_list("models"),
        jobs=jobs,
        retrain_function=None if retrain is None
        else _import_path(retrain, "scheduler.retrain_function"),
        webhook_url=url,
        webhook_allow_http=allow_http,
        webhook_timeout_s=s.number("webhook_timeout_s", cls.webhook_timeout_s,
                                   minimum=0.0, exclusive_min=True, maximum=300.0),
        webhook_retries=s.integer("webhook_retries", cls.webhook_retries, minimum=0,
                                  maximum=10),
        webhook_backoff_s=s.number("webhook_backoff_s", cls.webhook_backoff_s, minimum=0.0,
                                   maximum=3600.0),
    )


def validate_cron(expr: Any, key: str) -> str:
    """Validate a 5-field crontab expression with APScheduler's own parser."""
    from apscheduler.triggers.cron import CronTrigger

    if not isinstance(expr, str) or not expr.strip():
        raise ConfigError(f"{key} must be a crontab expression like '5 * * * *', got {expr!r}")
    try:
        CronTrigger.from_crontab(expr, timezone="UTC")
    except ValueError as exc:
        raise ConfigError(
            f"{key} = {expr!r} is not a valid crontab expression ({exc}); use 5 fields "
            "'minute hour day month day_of_week', e.g. '5 * * * *' for 5 past every hour"
        ) from None
    return expr


def parse_job_schedule(kind: str, s: _Section) -> JobSchedule:
    from lifecycle.config import JobSchedule

    every = _duration(s, "every", None)
    cron = s.get("cron")
    if (every is None) == (cron is None):
        raise ConfigError(
            f"{s.prefix}: set exactly one of {s.key('every')} (e.g. '1h') or "
            f"{s.key('cron')} (e.g. '5 * * * *')"
        )
    if cron is not None:
        validate_cron(cron, s.key("cron"))
    if every is not None and every.total_seconds() < 1:
        raise ConfigError(f"{s.key('every')} must be at least 1s, got {format_duration(every)}")
    window = _duration(s, "window", every)
    if window is None:
        raise ConfigError(
            f"{s.key('window')} is required with {s.key('cron')}: the size of the aligned "
            "window each run computes, e.g. window = '1h'"
        )
    try:
        validate_window_size(window, key=s.key("window") if "window" in s.data
                             else s.key("every"))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return JobSchedule(
        kind=kind,
        window=window,
        every=every,
        cron=cron,
        delay=_duration(s, "delay", timedelta(0)) or timedelta(0),
        catch_up=s.integer("catch_up", JobSchedule.catch_up, minimum=1, maximum=10_000),
        max_attempts=s.integer("max_attempts", JobSchedule.max_attempts, minimum=1,
                               maximum=100),
        retry_backoff=_duration(s, "retry_backoff", JobSchedule.retry_backoff)
        or timedelta(0),
        enabled=s.boolean("enabled", True),
    )


def parse_schedule(s: _Section) -> dict[str, JobSchedule]:
    from lifecycle.config import _Section

    out: dict[str, JobSchedule] = {}
    for kind, data in s.data.items():
        key = s.key(kind)
        if not _KIND_RE.match(str(kind)):
            raise ConfigError(f"{key}: job kind names use lowercase letters, digits and '_'")
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"{key} must be a table, e.g. [{key}] with every = '1h'; got {data!r}"
            )
        out[kind] = parse_job_schedule(kind, _Section(data, key, _SCHEDULE_KEYS))
    return out


def _persistence(s: _Section) -> tuple[int, int]:
    value = s.get("persistence", 1)
    key = s.key("persistence")
    k: Any
    n: Any
    if isinstance(value, int) and not isinstance(value, bool):
        k, n = value, value
    elif isinstance(value, str) and (m := re.fullmatch(r"\s*(\d+)\s+of\s+(\d+)\s*", value)):
        k, n = int(m.group(1)), int(m.group(2))
    else:
        raise ConfigError(f"{key} must be 'K of N' (e.g. '2 of 3') or an integer K, "
                          f"got {value!r}")
    if not 1 <= k <= n <= 1000:
        raise ConfigError(f"{key} = {value!r}: need 1 <= K <= N <= 1000")
    return k, n


def parse_alerts(cls: type[AlertSettings], s: _Section) -> AlertSettings:
    from lifecycle.config import _Section

    allowed = {"enabled", "fire_on", "persistence", "resolve_after", "cooldown", "severity",
               "per_feature", "webhook", "retrain_on", "retrain_cooldown"}
    _Section(s.data, s.prefix, allowed)
    fire_on = s.str_list("fire_on", cls.fire_on)
    bad = sorted(set(fire_on) - set(VERDICTS_THAT_FIRE))
    if bad or not fire_on:
        raise ConfigError(
            f"{s.key('fire_on')} = {list(fire_on)!r}: choose from "
            f"{', '.join(VERDICTS_THAT_FIRE)} (at least one)"
        )
    sev = _Section(s.get("severity"), s.key("severity"), set(VERDICTS_THAT_FIRE))
    severity = {"warning": "warning", "drift": "critical"}
    for verdict in VERDICTS_THAT_FIRE:
        chosen = sev.choice(verdict, severity[verdict], SEVERITIES)
        severity[verdict] = chosen or severity[verdict]
    k, n = _persistence(s)
    retrain_on = s.str_list("retrain_on")
    for kind in retrain_on:
        if not (kind == "performance" or (_KIND_RE.match(kind) and kind.endswith("_drift"))):
            raise ConfigError(
                f"{s.key('retrain_on')}: {kind!r} is not an alert kind; use 'performance' or "
                "a drift kind such as 'data_drift', 'prediction_drift', 'concept_drift'"
            )
    return cls(
        enabled=s.boolean("enabled", True),
        fire_on=fire_on,
        persistence_k=k,
        persistence_n=n,
        resolve_after=s.integer("resolve_after", cls.resolve_after, minimum=1, maximum=1000),
        cooldown=_duration(s, "cooldown", cls.cooldown) or timedelta(0),
        severity=severity,
        per_feature=s.boolean("per_feature", False),
        webhook=s.boolean("webhook", True),
        retrain_on=retrain_on,
        retrain_cooldown=_duration(s, "retrain_cooldown", cls.retrain_cooldown)
        or timedelta(0),
    )
