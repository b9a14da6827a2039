"""The demo folder is only wiped when the demo made it; its settings load and validate."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lifecycle.config import load_settings
from lifecycle.demo.data import CATEGORICAL_FEATURES, FEATURES
from lifecycle.demo.folder import (
    MARKER,
    demo_environment,
    prepare_folder,
    write_config,
    write_trainer,
)
from lifecycle.demo.story import DemoOptions, timeline_start
from lifecycle.errors import ConfigError


def test_new_and_empty_folders_are_created_with_a_marker(tmp_path: Path) -> None:
    paths = prepare_folder(tmp_path / "new" / "demo")
    assert paths.marker.is_file() and paths.folder.is_dir()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert prepare_folder(empty).marker.is_file()


def test_a_demo_folder_is_wiped(tmp_path: Path) -> None:
    paths = prepare_folder(tmp_path / "demo")
    (paths.folder / "old.db").write_text("stale")
    (paths.folder / "sub").mkdir()
    again = prepare_folder(tmp_path / "demo")
    assert sorted(p.name for p in again.folder.iterdir()) == [MARKER]


def test_a_foreign_folder_is_refused_and_left_alone(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "precious.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="refusing to wipe .*--folder"):
        prepare_folder(project)
    assert (project / "precious.txt").read_text() == "keep me"
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        prepare_folder(a_file)


def test_written_settings_load_with_the_model_schedules_and_reference(tmp_path: Path) -> None:
    paths = prepare_folder(tmp_path / "demo")
    since = datetime(2026, 1, 5, tzinfo=UTC)
    write_config(paths, model="credit_default", reference_since=since,
                 reference_until=since + timedelta(days=7), tick_hours=6, n_boot=100)
    env: dict[str, str] = {"LIFECYCLE_WEBHOOK_URL": "https://hooks.example.com/x"}
    demo_environment(paths, env)
    assert "LIFECYCLE_WEBHOOK_URL" not in env
    settings = load_settings(env["LIFECYCLE_CONFIG"], env=env, cwd=tmp_path)
    assert settings.database_url == f"sqlite:///{paths.database}"
    assert settings.mlflow_tracking_uri == f"sqlite:///{paths.mlflow}"
    assert settings.home == paths.folder
    model = settings.model("credit_default")
    assert model.features == FEATURES and model.categorical == CATEGORICAL_FEATURES
    assert model.id_column == "application_id" and model.task == "classification"
    assert model.performance.reference_since == since
    assert model.performance.reference_until == since + timedelta(days=7)
    assert model.schedule.jobs["drift"].window == timedelta(hours=6)
    perf = model.schedule.jobs["performance"]
    assert (perf.window, perf.delay) == (timedelta(days=1), timedelta(days=2))
    assert model.alerts.per_feature
    assert model.performance.n_boot == 100
    # the lifecycle half: the team's trainer, retrain on performance alerts, the shadow gate
    assert model.schedule.jobs["shadow"].every == timedelta(days=1)
    assert model.schedule.jobs["shadow_score"].window == timedelta(hours=6)
    assert model.alerts.retrain_on == ("performance",)
    assert model.alerts.retrain_cooldown == timedelta(days=7)
    assert model.retrain.trainer == "credit_trainer:train" and model.retrain.target == "default"
    assert model.retrain.since_drift and model.retrain.fallback_window == timedelta(days=14)
    policy = model.shadow.to_policy()
    assert (policy.metric, policy.min_effect, policy.max_pairs) == ("roc_auc", 0.01, 6000)
    assert policy.max_duration == timedelta(days=7)
    assert model.promotion.auto and model.promotion.reject
    # the file alone (no environment) points at the same folder, for `cd demo; lifecycle ...`
    alone = load_settings(paths.config, env={}, cwd=tmp_path)
    assert (alone.database_url, alone.home) == (settings.database_url, settings.home)


def test_the_trainer_is_written_next_to_the_settings_and_imports_from_there(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lifecycle.config import RetrainSettings
    from lifecycle.training.trainer import load_trainer

    paths = prepare_folder(tmp_path / "demo")
    written = write_trainer(paths)
    repo = Path(__file__).resolve().parents[3]
    assert written.read_bytes() == (repo / "examples" / "credit_trainer.py").read_bytes()
    monkeypatch.chdir(paths.folder)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".")])
    try:
        trainer = load_trainer("credit_default", RetrainSettings(trainer="credit_trainer:train"))
        assert Path(trainer.function.__code__.co_filename) == written
    finally:
        sys.modules.pop("credit_trainer", None)


def test_options_scale_change_days_and_validate() -> None:
    default = DemoOptions.for_days(42)
    assert (default.shift_day, default.concept_day, default.reference_days) == (15, 29, 3)
    short = DemoOptions.for_days(14)
    assert 1 <= short.reference_days <= short.shift_day < short.concept_day < 14
    explicit = DemoOptions.for_days(20, shift_day=6, concept_day=12)
    assert (explicit.shift_day, explicit.concept_day, explicit.reference_days) == (6, 12, 3)
    with pytest.raises(ConfigError, match="concept_day"):
        DemoOptions.for_days(20, shift_day=12, concept_day=10)
    with pytest.raises(ConfigError, match="--days"):
        DemoOptions.for_days(10, concept_day=12)


def test_timeline_ends_at_midnight_today() -> None:
    start = timeline_start(42, today=datetime(2026, 3, 1, 15, 30, tzinfo=UTC))
    assert start == datetime(2026, 1, 18, tzinfo=UTC)
