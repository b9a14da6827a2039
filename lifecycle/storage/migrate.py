"""Alembic, driven from Python: upgrade, downgrade, and the schema check every entry point runs."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from lifecycle.errors import DatabaseError, SchemaOutOfDateError
from lifecycle.storage.engine import make_engine, redact_url

VERSION_TABLE = "lifecycle_alembic_version"
FIX_COMMAND = "lifecycle db upgrade"

_ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at our migrations; the URL travels as an attribute."""
    ini = _ROOT / "alembic.ini"
    script_location = _ROOT / "migrations"
    if not script_location.is_dir():
        raise DatabaseError(
            f"migrations folder not found at {script_location}; install lifecycle from a "
            "source checkout (pip install -e .) so the Alembic scripts are available"
        )
    cfg = Config(str(ini)) if ini.exists() else Config()
    cfg.set_main_option("script_location", str(script_location))
    if url is not None:
        cfg.attributes["url"] = url
    return cfg


def head_revision() -> str:
    """The single head revision shipped with this version of lifecycle."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise DatabaseError(f"expected one migration head, found {len(heads)}: {heads}")
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty or missing database).

    A SQLite file that does not exist is reported as empty without being created.
    """
    url = engine.url
    if (
        url.get_backend_name() == "sqlite"
        and url.database not in (None, "", ":memory:")
        and not Path(str(url.database)).exists()
    ):
        return None
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            return ctx.get_current_revision()
    except OperationalError as exc:
        raise DatabaseError(
            f"cannot connect to the database {redact_url(engine.url)}: "
            f"{_first_line(exc)}. Check that the server is running and "
            "LIFECYCLE_DATABASE_URL is right"
        ) from None


def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision`` (default: head)."""
    engine = make_engine(url)
    try:
        current_revision(engine)  # fail early with a clear message if unreachable
        with engine.begin() as conn:
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"upgrade failed: {_first_line(exc)}") from exc
    finally:
        engine.dispose()


def downgrade(url: str, revision: str) -> None:
    """Downgrade the database at ``url`` to ``revision`` (``base`` removes every table)."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)
    finally:
        engine.dispose()


def ensure_schema_current(engine: Engine) -> str:
    """Refuse to run on a database whose schema is not at head; name the fix.

    Returns the current revision.
    """
    current = current_revision(engine)
    head = head_revision()
    if current != head:
        state = "empty (no lifecycle tables)" if current is None else f"at revision {current}"
        raise SchemaOutOfDateError(
            f"the database {redact_url(engine.url)} is {state}, but this version of lifecycle "
            f"needs revision {head}. Run `{FIX_COMMAND}` to migrate it"
        )
    return current


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
