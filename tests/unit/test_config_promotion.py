"""``[models.NAME.shadow]`` (the promotion gate's policy) and ``[models.NAME.promotion]``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from lifecycle.config import load_settings
from lifecycle.errors import ConfigError
from lifecycle.evaluation.policy import ShadowPolicy


def _load(tmp_path: Path, body: str) -> object:
    path = tmp_path / "lifecycle.toml"
    path.write_text(f'[models.churn]\ntask = "classification"\n{body}')
    return load_settings(path, env={}, cwd=tmp_path).model("churn")


def test_defaults_are_the_gate_defaults_and_acting(tmp_path: Path) -> None:
    model = _load(tmp_path, "")
    assert model.shadow.to_policy() == ShadowPolicy()  # type: ignore[attr-defined]
    assert model.promotion.auto is True and model.promotion.reject is True  # type: ignore[attr-defined]


def test_every_policy_key_maps_to_the_policy(tmp_path: Path) -> None:
    model = _load(tmp_path, """
[models.churn.shadow]
metric = "roc_auc"
alpha = 0.025
min_effect = 0.01
noninferiority_margin = 0.02
noninferiority_when_degraded = false
min_pairs = 100
max_pairs = 5000
spending = "pocock"
max_duration = "7d"
latency_ratio = 2
error_rate_tolerance = 0.05
n_boot = 500
seed = 3
power = 0.9
[models.churn.promotion]
auto = false
reject = false
""")
    policy = model.shadow.to_policy()  # type: ignore[attr-defined]
    assert policy == ShadowPolicy(
        metric="roc_auc", alpha=0.025, min_effect=0.01, noninferiority_margin=0.02,
        noninferiority_when_degraded=False, min_pairs=100, max_pairs=5000, spending="pocock",
        max_duration=timedelta(days=7), latency_ratio=2.0, error_rate_tolerance=0.05,
        n_boot=500, seed=3, power=0.9)
    assert model.promotion.auto is False and model.promotion.reject is False  # type: ignore[attr-defined]
    assert set(ShadowPolicy.__dataclass_fields__) == set(
        model.shadow.overrides)  # type: ignore[attr-defined]


def test_max_duration_false_means_no_limit(tmp_path: Path) -> None:
    model = _load(tmp_path, "[models.churn.shadow]\nmax_duration = false\n")
    assert model.shadow.to_policy().max_duration is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(("body", "match"), [
    ("[models.churn.shadow]\nalpah = 0.05\n", r"unknown key\(s\) models\.churn\.shadow\.alpah"),
    ("[models.churn.shadow]\nalpha = 0.7\n", r"models\.churn\.shadow: .*alpha = 0\.7"),
    ("[models.churn.shadow]\nmetric = \"auc\"\n", r"models\.churn\.shadow: .*metric"),
    ("[models.churn.shadow]\nmax_pairs = 100\n", r"max_pairs .* above min_pairs"),
    ("[models.churn.shadow]\nmax_duration = \"soon\"\n", r"models\.churn\.shadow\.max_duration"),
    ("[models.churn.shadow]\nmin_pairs = \"many\"\n", r"must be an integer"),
    ("[models.churn.promotion]\nauto = \"yes\"\n", r"models\.churn\.promotion\.auto must be"),
    ("[models.churn.promotion]\nmanual = true\n", r"unknown key"),
])
def test_bad_values_name_the_key(tmp_path: Path, body: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        _load(tmp_path, body)


def test_a_shadow_section_is_validated_without_numpy_or_scipy(tmp_path: Path) -> None:
    """Every command loads settings: checking [models.NAME.shadow] must not import the
    statistics (scipy alone cost ~0.6 s per command)."""
    import subprocess
    import sys

    path = tmp_path / "lifecycle.toml"
    path.write_text('[models.m.shadow]\nmin_pairs = 100\nspending = "pocock"\n')
    code = ("import sys; from lifecycle.config import load_settings; "
            f"s = load_settings({str(path)!r}, env={{}}); "
            "assert s.model('m').shadow.to_policy().spending == 'pocock'; "
            "heavy = sorted(m for m in ('scipy', 'lifecycle.evaluation.spending', "
            "'lifecycle.evaluation.bootstrap') if m in sys.modules); print(heavy)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
