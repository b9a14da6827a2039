"""Alembic environment for lifecycle.

* Our own version table (``lifecycle_alembic_version``) so we can share a database with MLflow,
  which keeps its own ``alembic_version``.
* The URL comes from the caller (``config.attributes["url"]`` or an open connection in
  ``config.attributes["connection"]``), else from lifecycle's settings; it is never written
  into the ini file (``%`` in passwords breaks ``set_main_option``).
* Batch mode on SQLite so ALTERs work there.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from lifecycle.storage.tables import Base

VERSION_TABLE = "lifecycle_alembic_version"
config = context.config
target_metadata = Base.metadata


def _include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    # Tables that are not ours (MLflow's, if it shares the database) are none of our business.
    if type_ == "table" and reflected and compare_to is None:
        return False
    return True


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=_include_object,
    )


def _url() -> str:
    url = config.attributes.get("url")
    if url:
        return str(url)
    from lifecycle.config import load_settings

    return load_settings().database_url


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    from lifecycle.storage.engine import make_engine

    engine = make_engine(_url())
    try:
        with engine.connect() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
