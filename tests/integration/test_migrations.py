"""Alembic owns the schema: upgrade/downgrade on real SQLite and PostgreSQL, one head, and no
difference between the SQLAlchemy models and the migrations."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from lifecycle.errors import SchemaOutOfDateError
from lifecycle.storage.engine import SQLITE_CHECKPOINT_BYTES, SQLITE_PAGE_SIZE
from lifecycle.storage.migrate import (
    VERSION_TABLE,
    alembic_config,
    current_revision,
    downgrade,
    ensure_schema_current,
    head_revision,
    upgrade,
)
from lifecycle.storage.tables import Base

EXPECTED_TABLES = {t.name for t in Base.metadata.sorted_tables}


def test_one_head_only() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert heads == [head_revision()]
    assert len(heads) == 1


def test_upgrade_downgrade_upgrade(blank_url: str, engine_for: Callable[[str], Engine]) -> None:
    engine = engine_for(blank_url)
    assert current_revision(engine) is None
    with pytest.raises(SchemaOutOfDateError, match="lifecycle db upgrade"):
        ensure_schema_current(engine)

    upgrade(blank_url)
    assert current_revision(engine) == head_revision()
    ensure_schema_current(engine)
    tables = set(inspect(engine).get_table_names())
    assert EXPECTED_TABLES <= tables
    assert VERSION_TABLE in tables
    assert "alembic_version" not in tables  # MLflow's name stays free

    downgrade(blank_url, "base")
    engine.dispose()
    remaining = set(inspect(engine).get_table_names()) - {VERSION_TABLE}
    assert remaining == set()
    assert current_revision(engine) is None

    upgrade(blank_url)
    assert current_revision(engine) == head_revision()


def test_models_match_migrations(db_url: str, engine_for: Callable[[str], Engine]) -> None:
    engine = engine_for(db_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_sqlite_pragmas(sqlite_url: str, engine_for: Callable[[str], Engine]) -> None:
    engine = engine_for(sqlite_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000


def test_new_sqlite_file_gets_large_pages(sqlite_url: str,
                                          engine_for: Callable[[str], Engine]) -> None:
    """A file lifecycle creates has 64 KiB pages; the WAL is checkpointed past 8 MiB."""
    assert (SQLITE_PAGE_SIZE, SQLITE_CHECKPOINT_BYTES) == (65_536, 8 * 1024 * 1024)
    engine = engine_for(sqlite_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 65_536
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 128


def test_existing_sqlite_file_keeps_its_pages(tmp_path: Path,
                                              engine_for: Callable[[str], Engine]) -> None:
    """A WAL file made with 4 KiB pages (before this setting) keeps them and its rows; its
    checkpoint threshold is converted with its own page size (8 MiB = 2,048 pages)."""
    path = tmp_path / "old.db"
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA page_size=4096")
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("CREATE TABLE kept (x INTEGER)")
    raw.execute("INSERT INTO kept VALUES (7)")
    raw.commit()
    raw.close()
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = engine_for(url)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 4096
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 2048
        assert conn.exec_driver_sql("SELECT x FROM kept").scalar() == 7


def test_shares_database_with_an_alembic_version_table(
    blank_url: str, engine_for: Callable[[str], Engine]
) -> None:
    """A foreign ``alembic_version`` (MLflow's) neither blocks nor confuses our migrations."""
    engine = engine_for(blank_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        conn.exec_driver_sql("INSERT INTO alembic_version VALUES ('mlflow_rev_xyz')")
    upgrade(blank_url)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == (
            "mlflow_rev_xyz"
        )
