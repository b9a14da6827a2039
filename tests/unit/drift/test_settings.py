"""[models.NAME.drift] settings: parsing, validation with the key named, policy mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.config import DriftSettings, load_settings
from lifecycle.drift import DriftPolicy, Thresholds
from lifecycle.errors import ConfigError


def _load(tmp_path: Path, body: str):  # noqa: ANN202
    cfg = tmp_path / "lifecycle.toml"
    cfg.write_text("[models.churn]\n" + body)
    return load_settings(cfg, env={"LIFECYCLE_HOME": str(tmp_path)}).model("churn").drift


def test_defaults_map_to_default_policy() -> None:
    assert DriftSettings().to_policy() == DriftPolicy()


def test_full_section(tmp_path: Path) -> None:
    drift = _load(tmp_path, """
[models.churn.drift]
alpha = 0.01
min_samples = 500
numeric_tests = ["psi", "ks"]
bins = 20
ks_method = "asymp"
[models.churn.drift.thresholds]
psi = { warning = 0.05, drift = 0.2 }
[models.churn.drift.features.age]
tests = ["wasserstein"]
thresholds = { wasserstein = { warning = 0.2, drift = 0.4 } }
min_samples = 1000
""")
    policy = drift.to_policy()
    assert policy.alpha == 0.01 and policy.min_samples == 500 and policy.bins == 20
    assert policy.numeric_tests == ("psi", "ks") and policy.ks_method == "asymp"
    assert policy.thresholds_for("x", "psi") == Thresholds(0.05, 0.2)
    assert policy.thresholds_for("age", "wasserstein") == Thresholds(0.2, 0.4)
    assert policy.tests_for("age", "numeric") == ("wasserstein",)
    assert policy.min_samples_for("age") == 1000 and policy.min_samples_for("x") == 500


@pytest.mark.parametrize(("body", "match"), [
    ("alpha = 2", "models.churn.drift.alpha"),
    ("numeric_tests = [\"psy\"]", "unknown drift statistic 'psy'"),
    ("categorical_tests = [\"ks\"]", "does not apply to categorical"),
    ("ks_method = \"fast\"", "models.churn.drift.ks_method"),
    ("colour = 1", "models.churn.drift.colour"),
    ("[models.churn.drift.thresholds]\npsi = { warning = 0.3, drift = 0.1 }", "warning"),
    ("[models.churn.drift.thresholds]\npsi = { warning = 0.3 }", "needs both"),
    ("[models.churn.drift.thresholds]\nnope = { warning = 0.1, drift = 0.2 }", "nope"),
])
def test_invalid_settings_name_the_key(tmp_path: Path, body: str, match: str) -> None:
    prefix = "" if body.startswith("[") else "[models.churn.drift]\n"
    with pytest.raises(ConfigError, match=match):
        _load(tmp_path, prefix + body)
