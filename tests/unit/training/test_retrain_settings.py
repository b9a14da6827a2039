"""``[models.NAME.retrain]``: defaults, every key parsed, and every bad value named with its fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lifecycle.config import ModelSettings, RetrainSettings, load_settings
from lifecycle.errors import ConfigError


def _load(tmp_path: Path, text: str) -> RetrainSettings:
    (tmp_path / "lifecycle.toml").write_text(text)
    return load_settings(env={}, cwd=tmp_path).model("churn").retrain


def test_defaults_without_a_section(tmp_path: Path) -> None:
    rs = _load(tmp_path, "[models.churn]\ntask = 'classification'\n")
    assert rs == RetrainSettings()
    assert ModelSettings(name="x").retrain == RetrainSettings()
    assert rs.trainer is None and rs.data_loader is None
    assert rs.window == timedelta(days=30) and not rs.since_drift
    assert rs.min_rows == 500 and rs.holdout == pytest.approx(0.2) and rs.target == "label"
    assert dict(rs.params) == {} and rs.window_text == "30d"


def test_every_key_parsed(tmp_path: Path) -> None:
    rs = _load(tmp_path, """
[models.churn]
features = ["age", "plan"]
[models.churn.retrain]
trainer = "churn.training:train"
data_loader = "churn.training:load_rows"
window = "10d"
min_rows = 50
holdout = "25%"
target = "churned"
[models.churn.retrain.params]
max_iter = 200
learning_rate = 0.1
grid = { depth = [3, 5] }
""")
    assert rs.trainer == "churn.training:train"
    assert rs.data_loader == "churn.training:load_rows"
    assert rs.window == timedelta(days=10) and rs.window_text == "10d"
    assert rs.min_rows == 50 and rs.holdout == pytest.approx(0.25) and rs.target == "churned"
    assert dict(rs.params) == {"max_iter": 200, "learning_rate": 0.1,
                               "grid": {"depth": [3, 5]}}


def test_params_are_read_only(tmp_path: Path) -> None:
    rs = _load(tmp_path, "[models.churn.retrain.params]\nmax_iter = 200\n")
    with pytest.raises(TypeError):
        rs.params["max_iter"] = 1  # type: ignore[index]


@pytest.mark.parametrize(("value", "expected"), [("'20%'", 0.2), ("'5 %'", 0.05),
                                                 ("'50%'", 0.5), ("0.3", 0.3), ("0.5", 0.5)])
def test_holdout_as_percent_or_fraction(tmp_path: Path, value: str, expected: float) -> None:
    rs = _load(tmp_path, f"[models.churn.retrain]\nholdout = {value}\n")
    assert rs.holdout == pytest.approx(expected)


def test_since_drift_and_its_fallback(tmp_path: Path) -> None:
    rs = _load(tmp_path, "[models.churn.retrain]\nwindow = 'since_drift'\n"
                         "fallback_window = '7d'\n")
    assert rs.since_drift and rs.window_text == "since_drift"
    assert rs.fallback_window == timedelta(days=7) and rs.window == timedelta(days=7)
    until = datetime(2026, 3, 31, tzinfo=UTC)
    began = datetime(2026, 3, 20, tzinfo=UTC)
    assert rs.start(until, began) == began
    assert rs.start(until, None) == until - timedelta(days=7)
    assert rs.start(until, until + timedelta(hours=1)) == until - timedelta(days=7)
    default = _load(tmp_path, "[models.churn.retrain]\nwindow = 'since_drift'\n")
    assert default.fallback_window == timedelta(days=30)


def test_a_duration_window_ignores_the_drift_start(tmp_path: Path) -> None:
    rs = _load(tmp_path, "[models.churn.retrain]\nwindow = '2d'\n")
    until = datetime(2026, 3, 31, tzinfo=UTC)
    assert rs.start(until, datetime(2026, 3, 1, tzinfo=UTC)) == until - timedelta(days=2)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("trainer = 'train'", r"models.churn.retrain.trainer = 'train' must look like "
                              r"'package.module:function'"),
        ("trainer = 3", r"models.churn.retrain.trainer = 3 must look like"),
        ("data_loader = 'pkg.mod:'", r"models.churn.retrain.data_loader = 'pkg.mod:' must "
                                     r"look like"),
        ("window = 'monthly'", r"models.churn.retrain.window must be a duration.*"
                               r"or window = 'since_drift'"),
        ("window = '0d'", r"models.churn.retrain.window = '0d' must be longer than zero"),
        ("window = 'since_drift'\nfallback_window = 'soon'",
         r"models.churn.retrain.fallback_window must be a duration"),
        ("window = '30d'\nfallback_window = '7d'",
         r"models.churn.retrain.fallback_window only applies with "
         r"models.churn.retrain.window = 'since_drift'"),
        ("min_rows = 5", r"models.churn.retrain.min_rows = 5 is out of range; it must be >= 10"),
        ("min_rows = 'many'", r"models.churn.retrain.min_rows must be an integer"),
        ("holdout = '60%'", r"models.churn.retrain.holdout = '60%' is out of range.*at most "
                            r"0.5 \(50%\); e.g. holdout = '20%'"),
        ("holdout = 0", r"models.churn.retrain.holdout = 0 is out of range"),
        ("holdout = 0.75", r"models.churn.retrain.holdout = 0.75 is out of range"),
        ("holdout = 'a fifth'", r"models.churn.retrain.holdout = 'a fifth' is not a "
                                r"percentage or a fraction; e.g. holdout = '20%'"),
        ("holdout = true", r"models.churn.retrain.holdout must be a percentage or a fraction"),
        ("target = ''", r"models.churn.retrain.target must be a non-empty string"),
        ("target = ' y'", r"models.churn.retrain.target = ' y' has leading or trailing spaces"),
        ("params = 3", r"models.churn.retrain.params must be a table"),
        ("epochs = 3", r"unknown key\(s\) models.churn.retrain.epochs; allowed keys in "
                       r"\[models.churn.retrain\]: data_loader, fallback_window"),
    ],
)
def test_bad_values_name_the_key_and_the_fix(tmp_path: Path, body: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        _load(tmp_path, f"[models.churn.retrain]\n{body}\n")


def test_target_must_not_be_a_feature(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"models.churn.retrain.target = 'age' is one of "
                                          r"models.churn.features.*name the target column"):
        _load(tmp_path, "[models.churn]\nfeatures = ['age', 'plan']\n"
                        "[models.churn.retrain]\ntarget = 'age'\n")


def test_retrain_must_be_a_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[models.churn.retrain\] must be a table"):
        _load(tmp_path, "[models.churn]\nretrain = 'yes'\n")


def test_old_trainer_key_names_its_new_place(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"models.churn.trainer has moved: set it as "
                                          r"\[models.churn.retrain\] trainer = 'a.b:c'"):
        _load(tmp_path, "[models.churn]\ntrainer = 'a.b:c'\n")
