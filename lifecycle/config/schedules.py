"""Scheduler, per-model schedule and alert settings: the dataclasses beside their parsers.

``[scheduler]``, ``[models.NAME.schedule.KIND]`` and ``[models.NAME.alerts]`` of
``lifecycle.toml`` become :class:`SchedulerSettings`, :class:`ScheduleSettings` (job kind ->
:class:`JobSchedule`) and :class:`AlertSettings`; every bad value raises
:class:`~lifecycle.errors.ConfigError` naming the full key. Checks that need the job kinds
(unknown job kind, function that cannot be imported, unknown model in ``scheduler.models``) run
when the scheduler starts, in :mod:`lifecycle.jobs.plan`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from lifecycle.config.section import Section, import_path_setting
from lifecycle.errors import ConfigError
from lifecycle.windows import format_duration, validate_window_size

__all__ = [
    "ALERT_EVALUATORS", "SEVERITIES", "VERDICTS_THAT_FIRE", "AlertSettings", "CustomJob",
    "JobSchedule", "ScheduleSettings", "SchedulerSettings", "redact_webhook_url",
    "validate_cron", "validate_webhook_url",
]

VERDICTS_THAT_FIRE = ("warning", "drift")
SEVERITIES = ("info", "warning", "critical")
ALERT_EVALUATORS = ("drift", "performance")
_KIND_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_SCHEDULE_KEYS = {"every", "cron", "window", "delay", "catch_up", "max_attempts",
                  "retry_backoff", "enabled"}



@dataclass(frozen=True)
class CustomJob:
    """A job kind added in ``[scheduler.jobs]`` (``kind = "package.module:function"``)."""

    function: str
    alerts: str | None = None


@dataclass(frozen=True)
class SchedulerSettings:
    """Scheduler process settings (owned by the scheduler layer; ``docs/operations.md``)."""

    lease_seconds: float = 300.0
    misfire_grace_time_s: int = 300
    max_workers: int = 4
    request_poll_seconds: float = 5.0
    models: tuple[str, ...] | None = None
    jobs: Mapping[str, CustomJob] = field(default_factory=dict)
    retrain_function: str | None = None
    webhook_url: str | None = field(default=None, repr=False)  # may hold a token
    webhook_allow_http: bool = False  # plain http:// webhook URLs are refused unless true
    webhook_timeout_s: float = 5.0
    webhook_retries: int = 3
    webhook_backoff_s: float = 1.0

    @classmethod
    def parse(cls, data: Any, env: Mapping[str, str]) -> SchedulerSettings:
        return parse_scheduler(cls, Section(data, "scheduler"), env)


@dataclass(frozen=True)
class JobSchedule:
    """When one job kind runs for one model: ``[models.NAME.schedule.KIND]``."""

    kind: str
    window: timedelta
    every: timedelta | None = None
    cron: str | None = None
    delay: timedelta = timedelta(0)
    catch_up: int = 24
    max_attempts: int = 5
    retry_backoff: timedelta = timedelta(seconds=60)
    enabled: bool = True


@dataclass(frozen=True)
class ScheduleSettings:
    """When a model's jobs run (owned by the scheduler layer): job kind -> schedule."""

    jobs: Mapping[str, JobSchedule] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: Any, prefix: str) -> ScheduleSettings:
        return cls(jobs=parse_schedule(Section(data, prefix)))


@dataclass(frozen=True)
class AlertSettings:
    """Alert policy for a model (owned by the alerting layer; ``docs/operations.md``)."""

    enabled: bool = True
    fire_on: tuple[str, ...] = ("drift",)
    persistence_k: int = 1
    persistence_n: int = 1
    resolve_after: int = 1
    cooldown: timedelta = timedelta(hours=6)
    severity: Mapping[str, str] = field(
        default_factory=lambda: {"warning": "warning", "drift": "critical"}
    )
    per_feature: bool = False
    webhook: bool = True
    retrain_on: tuple[str, ...] = ()
    retrain_cooldown: timedelta = timedelta(hours=24)

    @classmethod
    def parse(cls, data: Any, prefix: str) -> AlertSettings:
        return parse_alerts(cls, Section(data, prefix))


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


def parse_scheduler(
    cls: type[SchedulerSettings], s: Section, env: Mapping[str, str]
) -> SchedulerSettings:
    allowed = {"lease_seconds", "misfire_grace_time_s", "max_workers", "request_poll_seconds",
               "models", "jobs",
               "retrain_function", "webhook_url", "webhook_timeout_s", "webhook_retries",
               "webhook_backoff_s", "webhook_allow_http"}
    Section(s.data, "scheduler", allowed)  # unknown keys
    url = env.get("LIFECYCLE_WEBHOOK_URL") or s.str_("webhook_url")
    allow_http = s.boolean("webhook_allow_http", cls.webhook_allow_http)
    if url is not None:
        key = ("LIFECYCLE_WEBHOOK_URL" if env.get("LIFECYCLE_WEBHOOK_URL")
               else "scheduler.webhook_url")
        validate_webhook_url(url, key)
        check_webhook_scheme(url, key, allow_http)
    jobs_section = Section(s.get("jobs"), "scheduler.jobs")
    jobs: dict[str, CustomJob] = {}
    for kind, spec in jobs_section.data.items():
        key = f"scheduler.jobs.{kind}"
        if not _KIND_RE.match(kind):
            raise ConfigError(f"{key}: job kind names use lowercase letters, digits and '_'")
        if isinstance(spec, str):
            jobs[kind] = CustomJob(function=import_path_setting(spec, key))
            continue
        js = Section(spec, key, {"function", "alerts"})
        jobs[kind] = CustomJob(
            function=import_path_setting(js.get("function"), f"{key}.function"),
            alerts=js.choice("alerts", None, ALERT_EVALUATORS),
        )
    models = s.get("models")
    retrain = s.get("retrain_function")
    return cls(
        lease_seconds=s.number("lease_seconds", cls.lease_seconds, minimum=1.0),
        misfire_grace_time_s=s.integer("misfire_grace_time_s", cls.misfire_grace_time_s,
                                       minimum=1),
        max_workers=s.integer("max_workers", cls.max_workers, minimum=1, maximum=64),
        request_poll_seconds=s.number("request_poll_seconds", cls.request_poll_seconds,
                                      minimum=0.1, maximum=3600.0),
        models=None if models is None else s.str_list("models"),
        jobs=jobs,
        retrain_function=None if retrain is None
        else import_path_setting(retrain, "scheduler.retrain_function"),
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


def parse_job_schedule(kind: str, s: Section) -> JobSchedule:
    every = s.duration("every", None)
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
    window = s.duration("window", every)
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
        delay=s.duration("delay", timedelta(0)) or timedelta(0),
        catch_up=s.integer("catch_up", JobSchedule.catch_up, minimum=1, maximum=10_000),
        max_attempts=s.integer("max_attempts", JobSchedule.max_attempts, minimum=1,
                               maximum=100),
        retry_backoff=s.duration("retry_backoff", JobSchedule.retry_backoff)
        or timedelta(0),
        enabled=s.boolean("enabled", True),
    )


def parse_schedule(s: Section) -> dict[str, JobSchedule]:
    out: dict[str, JobSchedule] = {}
    for kind, data in s.data.items():
        key = s.key(kind)
        if not _KIND_RE.match(str(kind)):
            raise ConfigError(f"{key}: job kind names use lowercase letters, digits and '_'")
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"{key} must be a table, e.g. [{key}] with every = '1h'; got {data!r}"
            )
        out[kind] = parse_job_schedule(kind, Section(data, key, _SCHEDULE_KEYS))
    return out


def _persistence(s: Section) -> tuple[int, int]:
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


def parse_alerts(cls: type[AlertSettings], s: Section) -> AlertSettings:
    allowed = {"enabled", "fire_on", "persistence", "resolve_after", "cooldown", "severity",
               "per_feature", "webhook", "retrain_on", "retrain_cooldown"}
    Section(s.data, s.prefix, allowed)
    fire_on = s.str_list("fire_on", cls.fire_on)
    bad = sorted(set(fire_on) - set(VERDICTS_THAT_FIRE))
    if bad or not fire_on:
        raise ConfigError(
            f"{s.key('fire_on')} = {list(fire_on)!r}: choose from "
            f"{', '.join(VERDICTS_THAT_FIRE)} (at least one)"
        )
    sev = Section(s.get("severity"), s.key("severity"), set(VERDICTS_THAT_FIRE))
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
        cooldown=s.duration("cooldown", cls.cooldown) or timedelta(0),
        severity=severity,
        per_feature=s.boolean("per_feature", False),
        webhook=s.boolean("webhook", True),
        retrain_on=retrain_on,
        retrain_cooldown=s.duration("retrain_cooldown", cls.retrain_cooldown)
        or timedelta(0),
    )
