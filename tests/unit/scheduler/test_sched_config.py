"""Scheduler, schedule and alert settings: validated at start, errors name the key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from lifecycle.config import Settings, load_settings
from lifecycle.config.schedules import redact_webhook_url
from lifecycle.errors import ConfigError
from lifecycle.jobs.plan import build_plan


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Settings:
    path = tmp_path / "lifecycle.toml"
    path.write_text(text)
    return load_settings(path, env=env or {}, cwd=tmp_path)


def test_schedule_and_alerts_parse(tmp_path: Path) -> None:
    s = load(tmp_path, """
[models.churn.schedule.drift]
every = "1h"
delay = "5m"
catch_up = 48
[models.churn.schedule.performance]
cron = "15 3 * * *"
window = "1d"
max_attempts = 3
retry_backoff = "2m"
[models.churn.alerts]
persistence = "2 of 3"
cooldown = "12h"
severity = { warning = "info" }
retrain_on = ["data_drift"]
[scheduler]
retrain_function = "mypkg.retrain:start"
""")
    drift = s.models["churn"].schedule.jobs["drift"]
    assert (drift.every, drift.window, drift.delay, drift.catch_up) == (
        timedelta(hours=1), timedelta(hours=1), timedelta(minutes=5), 48)
    perf = s.models["churn"].schedule.jobs["performance"]
    assert perf.cron == "15 3 * * *" and perf.window == timedelta(days=1)
    assert perf.retry_backoff == timedelta(minutes=2) and perf.max_attempts == 3
    alerts = s.models["churn"].alerts
    assert (alerts.persistence_k, alerts.persistence_n) == (2, 3)
    assert alerts.cooldown == timedelta(hours=12)
    assert alerts.severity == {"warning": "info", "drift": "critical"}
    assert alerts.retrain_on == ("data_drift",)


@pytest.mark.parametrize(("text", "key"), [
    ('[models.m.schedule.drift]\ncron = "61 * * * *"\nwindow = "1h"',
     "models.m.schedule.drift.cron"),
    ('[models.m.schedule.drift]\ncron = "not a cron"\nwindow = "1h"',
     "models.m.schedule.drift.cron"),
    ('[models.m.schedule.drift]\nevery = "soon"', "models.m.schedule.drift.every"),
    ('[models.m.schedule.drift]\nevery = "7m"', "models.m.schedule.drift.every"),
    ('[models.m.schedule.drift]\nevery = "1h"\nwindow = "7m"',
     "models.m.schedule.drift.window"),
    ('[models.m.schedule.drift]\ncron = "5 * * * *"', "models.m.schedule.drift.window"),
    ('[models.m.schedule.drift]\nevery = "1h"\ncron = "5 * * * *"',
     "models.m.schedule.drift.every"),
    ('[models.m.schedule.drift]\nevery = "1h"\ncatch_up = 0', "models.m.schedule.drift.catch_up"),
    ('[models.m.schedule.drift]\nevry = "1h"', "models.m.schedule.drift.evry"),
    ('[models.m.alerts]\npersistence = "3 of 2"', "models.m.alerts.persistence"),
    ('[models.m.alerts]\nfire_on = ["panic"]', "models.m.alerts.fire_on"),
    ('[models.m.alerts]\nseverity = { drift = "apocalyptic" }', "models.m.alerts.severity.drift"),
    ('[models.m.alerts]\nretrain_on = ["sunspots"]', "models.m.alerts.retrain_on"),
    ('[scheduler]\nwebhook_url = "ftp://example.com/x"', "scheduler.webhook_url"),
    ('[scheduler]\nwebhook_url = "https://:99999/hook"', "scheduler.webhook_url"),
    ('[scheduler]\nwebhook_url = "not a url"', "scheduler.webhook_url"),
    ('[scheduler.jobs]\nmine = "no_colon"', "scheduler.jobs.mine"),
    ('[scheduler]\nretrain_function = "x"', "scheduler.retrain_function"),
    ('[scheduler]\nlease_seconds = 0', "scheduler.lease_seconds"),
])
def test_bad_values_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load(tmp_path, text)


def test_webhook_secret_is_never_in_errors_or_repr(tmp_path: Path) -> None:
    secret = "T000/B000/s3cr3tTOKEN"
    with pytest.raises(ConfigError) as err:
        load(tmp_path, f'[scheduler]\nwebhook_url = "gopher://hooks.example.com/{secret}"')
    assert secret not in str(err.value)
    s = load(tmp_path, f'[scheduler]\nwebhook_url = "https://hooks.example.com/{secret}"')
    assert secret not in repr(s) and secret not in repr(s.scheduler)
    assert redact_webhook_url(f"https://hooks.example.com:8443/{secret}?t=1") == \
        "https://hooks.example.com:8443/***"


def test_env_webhook_url_is_validated_with_its_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="LIFECYCLE_WEBHOOK_URL"):
        load(tmp_path, "", env={"LIFECYCLE_WEBHOOK_URL": "mailto:ops@example.com"})


def test_plan_rejects_unknown_model_kind_and_import(tmp_path: Path) -> None:
    s = load(tmp_path, '[scheduler]\nmodels = ["churn", "ghost"]\n'
                       '[models.churn]\ntask = "regression"')
    with pytest.raises(ConfigError, match=r"scheduler\.models.*ghost.*configured models: churn"):
        build_plan(s)
    s = load(tmp_path, '[models.churn.schedule.sunspots]\nevery = "1h"')
    with pytest.raises(ConfigError, match=r"models\.churn\.schedule\.sunspots.*known kinds"):
        build_plan(s)
    s = load(tmp_path, '[scheduler.jobs]\nmine = "nowhere.module:fn"\n'
                       '[models.churn.schedule.mine]\nevery = "1h"')
    with pytest.raises(ConfigError, match=r"scheduler\.jobs\.mine.*nowhere"):
        build_plan(s)
    s = load(tmp_path, '[models.churn]\ntask = "regression"')
    with pytest.raises(ConfigError, match=r"--model.*ghost"):
        build_plan(s, only_models=["ghost"])
    s = load(tmp_path, '[models.churn.alerts]\nretrain_on = ["data_drift"]')
    with pytest.raises(ConfigError, match=r"\[models\.churn\.retrain\] trainer.*"
                                          r"scheduler\.retrain_function"):
        build_plan(s)
    # the built-in retrain is enough: a trainer (checked at scheduler start, not here)
    s = load(tmp_path, '[models.churn.alerts]\nretrain_on = ["data_drift"]\n'
                       '[models.churn.retrain]\ntrainer = "train:fit"')
    assert build_plan(s) == []


def test_plan_ids_are_stable_and_custom_kinds_work(tmp_path: Path) -> None:
    s = load(tmp_path, """
[scheduler.jobs]
noop = "lifecycle.windows:parse_duration"
[models.b.schedule.noop]
every = "1h"
[models.a.schedule.noop]
every = "1h"
[models.c.schedule.noop]
every = "1h"
enabled = false
""")
    plan = build_plan(s)
    assert [j.job_id for j in plan] == ["noop:a", "noop:b"]
    assert [j.job_id for j in build_plan(s, only_models=["b"])] == ["noop:b"]


def test_builtin_job_kinds_and_evaluators_import() -> None:
    import inspect

    from lifecycle.jobs.kinds import ALERT_EVALUATORS, JOB_ALERTS, JOBS, import_path

    for kind, path in JOBS.items():
        params = list(inspect.signature(import_path(path)).parameters)
        assert params[:5] == ["engine", "settings", "model", "window_start", "window_end"], kind
        assert JOB_ALERTS.get(kind) in (None, *ALERT_EVALUATORS)
    for path in ALERT_EVALUATORS.values():
        assert "now" in inspect.signature(import_path(path)).parameters
