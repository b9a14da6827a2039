"""[models.X.performance]: defaults, parsing and errors that name the key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lifecycle.config import PerformanceSettings, load_settings
from lifecycle.errors import ConfigError

P = "models.churn.performance"


def test_defaults() -> None:
    s = PerformanceSettings()
    assert (s.alpha, s.min_drop, s.min_relative_increase, s.min_labels) == (0.01, 0.02, 0.1, 30)
    assert s.detectors == ("page_hinkley", "ddm", "adwin")
    assert s.reference_since is None and s.calibration == "isotonic"


def test_parse_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "lifecycle.toml"
    path.write_text(
        "[models.churn.performance]\n"
        "reference_since = 2026-01-01T00:00:00Z\n"
        'reference_until = "2026-02-01"\n'
        "alpha = 0.05\n"
        'detectors = ["adwin"]\n'
        'calibration = "platt"\n'
        "positive_label = 1\n"
    )
    perf = load_settings(path, env={}, cwd=tmp_path).model("churn").performance
    assert perf.reference_since == datetime(2026, 1, 1, tzinfo=UTC)
    assert perf.reference_until == datetime(2026, 2, 1, tzinfo=UTC)
    assert perf.alpha == 0.05 and perf.detectors == ("adwin",)
    assert perf.calibration == "platt" and perf.positive_label == "1"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"alpah": 0.1}, "unknown key.*alpah.*allowed keys"),
        ({"alpha": 0.0}, f"{P}.alpha = 0.0 is out of range"),
        ({"detectors": ["cusum"]}, "unknown detector.*page_hinkley, ddm, adwin"),
        ({"calibration": "beta"}, f"{P}.calibration = 'beta' is not valid.*isotonic, platt"),
        ({"reference_since": "2026-01-01"}, "must both be set"),
        ({"reference_since": "2026-02-01", "reference_until": "2026-01-01"}, "before"),
        ({"reference_since": "yesterday", "reference_until": "2026-01-01"}, "is not a time"),
        ({"n_boot": 5}, f"{P}.n_boot = 5 is out of range"),
    ],
)
def test_invalid_values_name_the_key(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        PerformanceSettings.parse(data, P)


def test_rerun_after_default_list_and_off() -> None:
    day = timedelta(days=1)
    assert PerformanceSettings().rerun_after == (day, 3 * day, 7 * day)
    assert PerformanceSettings.parse({"rerun_after": ["6h", "2d"]}, P).rerun_after == (
        timedelta(hours=6), 2 * day)
    assert PerformanceSettings.parse({"rerun_after": []}, P).rerun_after == ()


@pytest.mark.parametrize(("value", "message"), [
    ("1d", "rerun_after must be a list of durations"),
    ([86400], "rerun_after[0] must be a duration string"),
    (["1d", "soon"], "rerun_after[1] must be a duration like"),
    (["0s"], "rerun_after[0] = '0s' must be positive"),
    (["3d", "1d"], "rerun_after must be increasing: '1d' does not come after '3d'"),
    (["1d", "1d"], "must be increasing"),
])
def test_bad_rerun_after_names_the_key(value: object, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        PerformanceSettings.parse({"rerun_after": value}, P)
    assert f"{P}." in str(caught.value) and message in str(caught.value)
