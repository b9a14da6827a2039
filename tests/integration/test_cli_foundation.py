"""`lifecycle db ...` and `lifecycle models` through click's runner, on real databases, and
bad input: one clear line, non-zero exit, no traceback, nothing changed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, inspect
from sqlalchemy.orm import Session

from lifecycle.cli import main
from lifecycle.storage.migrate import current_revision, head_revision
from lifecycle.storage.models_repo import get_or_create_model


def run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args, env=env or {}, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_help_on_every_command() -> None:
    code, out, _ = run(["--help"])
    assert code == 0 and "db" in out and "models" in out
    for group, commands in main.commands.items():
        code, out, _ = run([group, "--help"])
        assert code == 0, group
        assert "Usage:" in out
        for sub in getattr(commands, "commands", {}):
            code, out, _ = run([group, sub, "--help"])
            assert code == 0 and "Usage:" in out, f"{group} {sub}"


def test_upgrade_current_models_on_default_sqlite(tmp_home: Path) -> None:
    code, out, _ = run(["db", "current"])
    assert code == 1 and "OUT OF DATE" in out and "lifecycle db upgrade" in out
    code, out, _ = run(["models"])
    assert code == 2
    code, out, _ = run(["db", "upgrade"])
    assert code == 0, out
    assert f"at revision {head_revision()}" in out
    assert (tmp_home / "lifecycle.db").exists()
    code, out, _ = run(["db", "current"])
    assert code == 0 and "up to date" in out
    code, out, _ = run(["models"])
    assert code == 0 and "no models yet" in out


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql",
                                                            marks=pytest.mark.postgres)])
def test_models_lists_what_exists(
    backend: str, request: pytest.FixtureRequest, tmp_home: Path,
    engine_for: Callable[[str], Engine],
) -> None:
    url = str(request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url"))
    with Session(engine_for(url)) as session, session.begin():
        get_or_create_model(session, "churn", task="classification")
        get_or_create_model(session, "churn")  # idempotent
    code, out, _ = run(["models"], env={"LIFECYCLE_DATABASE_URL": url})
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].split()[:3] == ["model", "task", "predictions"]
    assert lines[1].split()[:4] == ["churn", "classification", "0", "0"]
    assert len(lines) == 2


def test_out_of_date_schema_is_refused_and_untouched(tmp_home: Path) -> None:
    db = tmp_home / "old.db"
    url = f"sqlite:///{db}"
    code, _, err = run(["models"], env={"LIFECYCLE_DATABASE_URL": url})
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "lifecycle db upgrade" in err


def test_malformed_database_url(tmp_home: Path) -> None:
    code, out, err = run(["db", "upgrade"], env={"LIFECYCLE_DATABASE_URL": "postgres//oops"})
    assert code == 2
    assert "cannot parse database URL" in err and "Traceback" not in err
    assert list(tmp_home.iterdir()) == []


def test_unreachable_postgresql(tmp_home: Path) -> None:
    url = "postgresql://postgres:hunter2@127.0.0.1:1/nowhere"
    code, out, err = run(["db", "upgrade"], env={"LIFECYCLE_DATABASE_URL": url})
    assert code == 2
    assert "cannot connect to the database" in err
    assert "hunter2" not in err  # secrets are never printed
    assert "Traceback" not in err


def test_malformed_toml(tmp_home: Path) -> None:
    (tmp_home.parent / "lifecycle.toml").write_text("[models.churn\ntask=1")
    code, _, err = run(["db", "upgrade"])
    assert code == 2
    assert "lifecycle.toml is not valid TOML" in err
    assert not (tmp_home / "lifecycle.db").exists()


def test_config_option_and_unknown_key(tmp_home: Path) -> None:
    conf = tmp_home.parent / "custom.toml"
    conf.write_text("[dashboard]\nprot = 1\n")
    code, _, err = run(["--config", str(conf), "models"])
    assert code == 2
    assert "dashboard.prot" in err and "allowed keys in [dashboard]: host, port" in err


@pytest.mark.postgres
def test_upgrade_postgresql_via_cli(empty_pg_url: str, tmp_home: Path,
                                    engine_for: Callable[[str], Engine]) -> None:
    code, out, err = run(["db", "upgrade"], env={"LIFECYCLE_DATABASE_URL": empty_pg_url})
    assert code == 0, err
    engine = engine_for(empty_pg_url)
    assert current_revision(engine) == head_revision()
    assert "prediction_keys" in inspect(engine).get_table_names()


def test_status_commands_do_not_create_a_database(tmp_home: Path) -> None:
    url = f"sqlite:///{tmp_home / 'never.db'}"
    for args in (["db", "current"], ["models"]):
        code, _, _ = run(args, env={"LIFECYCLE_DATABASE_URL": url})
        assert code != 0
    assert not (tmp_home / "never.db").exists()
