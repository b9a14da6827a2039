"""`lifecycle reference set` and `lifecycle drift check` through click's runner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from _drift_data import DAY, T0, frame, write_window
from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lifecycle.cli import main
from lifecycle.storage.tables import DriftReportRow, ReferenceProfileRow


def run(args: list[str], url: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args, env={"LIFECYCLE_DATABASE_URL": url},
                                catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def config(tmp_home: Path) -> Path:
    cfg = tmp_home.parent / "lifecycle.toml"
    cfg.write_text("[models.churn]\ntask = \"classification\"\ncategorical = [\"plan\"]\n")
    return cfg


def _reports(engine: Engine) -> int:
    with Session(engine) as s:
        return int(s.scalar(select(func.count()).select_from(DriftReportRow)) or 0)


def test_reference_from_window_then_check_exit_codes(config: Path, db_url: str,
                                                      engine: Engine) -> None:
    rng = np.random.default_rng(0)
    write_window(engine, "churn", T0, frame(rng, 3000))
    write_window(engine, "churn", T0 + DAY, frame(rng, 3000))
    write_window(engine, "churn", T0 + 2 * DAY, frame(rng, 3000, shift=1.0, new_level=0.1))
    write_window(engine, "churn", T0 + 3 * DAY, frame(rng, 20))

    code, out, err = run(["reference", "set", "churn", "--since", "2026-03-01T00:00:00Z",
                          "--until", "2026-03-02T00:00:00Z"], db_url)
    assert code == 0, err
    assert "data profile: 3000 rows" in out and "prediction profile" in out

    code, out, err = run(["drift", "check", "churn", "--since", "2026-03-02T00:00:00Z",
                          "--until", "2026-03-03T00:00:00Z"], db_url)
    assert code == 0, out + err
    assert "data drift: NO_DRIFT" in out

    code, out, err = run(["drift", "check", "churn", "--since", "2026-03-03T00:00:00Z",
                          "--until", "2026-03-04T00:00:00Z"], db_url)
    assert code == 1, out + err
    assert "data drift: DRIFT" in out and "x" in out and "psi" in out
    assert "new categories in plan: enterprise" in out

    code, out, _ = run(["drift", "check", "churn", "--since", "2026-03-03T00:00:00Z",
                        "--until", "2026-03-04T00:00:00Z", "--json"], db_url)
    assert code == 1
    assert json.loads(out)["data"]["verdict"] == "drift"

    n = _reports(engine)
    code, _, _ = run(["drift", "check", "churn", "--since", "2026-03-03T00:00:00Z",
                      "--until", "2026-03-04T00:00:00Z"], db_url)
    assert code == 1 and _reports(engine) == n  # rerun replaces, never duplicates

    code, out, _ = run(["drift", "check", "churn", "--since", "2026-03-04T00:00:00Z",
                        "--until", "2026-03-05T00:00:00Z"], db_url)
    assert code == 2 and "INSUFFICIENT_DATA" in out

    code, out, err = run(["drift", "check", "churn", "--since", "2026-04-01T00:00:00Z",
                          "--until", "2026-04-02T00:00:00Z"], db_url)
    assert code == 2 and "no served predictions" in err and "Traceback" not in err


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_reference_from_file(config: Path, sqlite_url: str, engine_for, fmt: str) -> None:  # noqa: ANN001
    rng = np.random.default_rng(1)
    path = config.parent / f"ref.{fmt}"
    df = frame(rng, 2000)
    df.to_csv(path, index=False) if fmt == "csv" else df.to_parquet(path)
    code, out, err = run(["reference", "set", "churn", "--from", str(path)], sqlite_url)
    assert code == 0, err
    assert "stored as reference profile #1 (data)" in out
    engine = engine_for(sqlite_url)
    with Session(engine) as s:
        row = s.scalar(select(ReferenceProfileRow))
        assert row is not None and row.n_rows == 2000 and row.source.startswith("file")
        assert row.profile["features"]["plan"]["kind"] == "categorical"


def test_reference_bad_input(config: Path, sqlite_url: str, engine_for) -> None:  # noqa: ANN001
    bad = config.parent / "bad.csv"
    bad.write_text("x,y\n1,2\n")
    code, _, err = run(["reference", "set", "churn", "--from", str(config.parent / "no.csv")],
                       sqlite_url)
    assert code == 2 and "does not exist" in err
    code, _, err = run(["reference", "set", "churn", "--from", str(config)], sqlite_url)
    assert code == 2 and "neither CSV" in err
    code, _, err = run(["reference", "set", "churn", "--from", str(bad)], sqlite_url)
    assert code == 2 and "constant" in err
    code, _, err = run(["reference", "set", "churn"], sqlite_url)
    assert code == 2 and "--from FILE or --since" in err
    engine = engine_for(sqlite_url)
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(ReferenceProfileRow)) == 0
