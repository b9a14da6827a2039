"""No secret in a repr, a log line or CLI output: planted secrets are grepped for everywhere.

Secrets planted: the admin token, the hash key, a PostgreSQL password (in the user part and
in ``?password=``), an MLflow tracking URI password next to a SQLite database, and user data
bound as SQL parameters of a statement the database refuses.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from lifecycle.capture.batch import encode
from lifecycle.capture.build import build_batch
from lifecycle.capture.records import CaptureSpec
from lifecycle.capture.writer import Writer
from lifecycle.cli import main
from lifecycle.config import CaptureSettings, load_settings
from lifecycle.storage.capture_repo import StoredBatch
from lifecycle.storage.codec import encode_table
from lifecycle.storage.engine import make_engine, redact_url

ADMIN = "ADMIN-TOKEN-planted-7f3a9c"
HASH_KEY = "HASH-KEY-planted-41d2e8"
DB_PASSWORD = "DBPW-planted-90ab12"
QUERY_PASSWORD = "QPW-planted-55cc01"
MLFLOW_PASSWORD = "MLPW-planted-3e7d44"
USER_DATA = "PII-planted-customer@example.invalid"
SECRETS = (ADMIN, HASH_KEY, DB_PASSWORD, QUERY_PASSWORD, MLFLOW_PASSWORD, USER_DATA)


def _clean(text_: str) -> None:
    leaked = [s for s in SECRETS if s in text_]
    assert not leaked, f"secrets leaked: {leaked} in {text_!r}"


def _with_password(url: str, password: str = DB_PASSWORD) -> str:
    """The same database with a password (trust auth on the test server ignores it)."""
    return make_url(url).set(password=password).render_as_string(hide_password=False)


def test_settings_repr_hides_token_key_and_passwords(tmp_path: Path) -> None:
    env = {
        "LIFECYCLE_ADMIN_TOKEN": ADMIN,
        "LIFECYCLE_HASH_KEY": HASH_KEY,
        "LIFECYCLE_DATABASE_URL":
            f"postgresql://app:{DB_PASSWORD}@db.internal:5432/prod?password={QUERY_PASSWORD}",
        "MLFLOW_TRACKING_URI": f"https://ml:{MLFLOW_PASSWORD}@mlflow.internal/",
    }
    s = load_settings(env=env, cwd=tmp_path)
    assert s.admin_token == ADMIN and s.hash_key == HASH_KEY  # the values are still there
    for shown in (repr(s), str(s), f"{s}", repr([s])):
        _clean(shown)
    assert "admin_token='***'" in repr(s) and "hash_key='***'" in repr(s)
    # what is not secret is still shown, so the repr stays useful
    assert "postgresql://app:***@db.internal:5432/prod?password=***" in repr(s)
    assert "https://ml:***@mlflow.internal/" in repr(s)


def test_settings_repr_with_sqlite_and_secrets_in_the_file(tmp_path: Path) -> None:
    (tmp_path / "lifecycle.toml").write_text(
        f'admin_token = "{ADMIN}"\nhash_key = "{HASH_KEY}"\n'
        f'mlflow_tracking_uri = "http://ml:{MLFLOW_PASSWORD}@127.0.0.1:5000"\n')
    s = load_settings(env={}, cwd=tmp_path)
    assert s.database_url.startswith("sqlite:///")
    _clean(repr(s))
    assert s.database_url in repr(s)  # a SQLite path has no secret: shown as it is
    empty = tmp_path / "no-config"
    empty.mkdir()
    assert "admin_token=None, hash_key=None" in repr(load_settings(env={}, cwd=empty))


def test_a_secret_of_the_wrong_type_is_not_echoed(tmp_path: Path) -> None:
    (tmp_path / "lifecycle.toml").write_text("hash_key = 4417120419\n")
    from lifecycle.errors import ConfigError

    with pytest.raises(ConfigError, match="hash_key must be a non-empty string") as info:
        load_settings(env={}, cwd=tmp_path)
    assert "4417120419" not in str(info.value)


def test_capture_spec_repr_hides_hash_key_and_url_password() -> None:
    spec = CaptureSpec(name="churn", hash_key=HASH_KEY.encode(), hash_columns=frozenset({"email"}),
                       database_url=f"postgresql://app:{DB_PASSWORD}@db/prod")
    for shown in (repr(spec), str(spec), repr([spec])):
        _clean(shown)
    assert "hash_key='***'" in repr(spec)
    assert "postgresql://app:***@db/prod" in repr(spec)
    assert "hash_columns=['email']" in repr(spec)


def test_redact_url_hides_user_and_query_passwords() -> None:
    url = f"postgresql://app:{DB_PASSWORD}@db:5432/prod?sslmode=require&password={QUERY_PASSWORD}"
    shown = redact_url(url)
    _clean(shown)
    assert shown == "postgresql://app:***@db:5432/prod?password=***&sslmode=require"


def test_failed_statement_message_has_no_parameters(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    insert = text("INSERT INTO models (name, created_at, details) VALUES (:n, :t, '{}')")
    try:
        with engine.begin() as conn:
            conn.execute(insert, {"n": USER_DATA, "t": "2025-01-01 00:00:00"})
        with pytest.raises(IntegrityError) as info, engine.begin() as conn:
            conn.execute(insert, {"n": USER_DATA, "t": "2025-01-01 00:00:00"})
    finally:
        engine.dispose()
    assert "UNIQUE" in str(info.value)
    _clean(str(info.value))
    _clean(repr(info.value))


def _refused_batch(n: int) -> StoredBatch:
    """A batch PostgreSQL refuses for its content: a join key longer than the column, made of
    user data."""
    spec = CaptureSpec(name="secrets")
    rec = (spec, np.arange(n * 2.0).reshape(n, 2), np.zeros(n), 1.7e9, 0.001, 7, "call", None)
    batch = encode(build_batch([rec], lambda kind, msg: None))
    outputs = batch.outputs()
    idx = outputs.column_names.index("_join_key")
    outputs = outputs.set_column(idx, "_join_key", pa.array([USER_DATA * 10] * n))
    batch.outputs_table, batch.outputs_blob = outputs, encode_table(outputs)
    return batch


@pytest.mark.postgres
def test_writer_logs_of_a_refused_batch_and_an_outage_hold_no_secret(
        pg_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    writer = Writer(_with_password(pg_url), CaptureSettings(batch_size=100), tmp_path)
    try:
        writer._deliver(_refused_batch(3))
    finally:
        writer.close()
    assert writer.snapshot()["rejected"] == 3
    assert "refused a batch of 3 rows" in caplog.text
    _clean(caplog.text)

    caplog.clear()
    away = make_url(_with_password(pg_url)).set(port=1).render_as_string(hide_password=False)
    writer = Writer(away, CaptureSettings(db_timeout_s=1.0), tmp_path / "away")
    try:
        writer._deliver(_refused_batch(2))
    finally:
        writer.close()
    assert writer.snapshot()["spilled"] == 2
    assert "cannot write predictions to postgresql://postgres:***@127.0.0.1:1/" in caplog.text
    _clean(caplog.text)


@pytest.mark.postgres
def test_cli_output_hides_the_database_password(pg_url: str, tmp_home: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    monkeypatch.setenv("LIFECYCLE_DATABASE_URL", _with_password(pg_url))
    for args in (["db", "upgrade"], ["db", "current"], ["models"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
        _clean(result.output)
    assert ":***@" in runner.invoke(main, ["db", "current"]).output

    away = make_url(_with_password(pg_url)).set(port=1).render_as_string(hide_password=False)
    monkeypatch.setenv("LIFECYCLE_DATABASE_URL", away)
    result = runner.invoke(main, ["db", "current"])
    assert result.exit_code != 0
    _clean(result.output + repr(result.exception))
    monkeypatch.setenv("LIFECYCLE_DATABASE_URL", f"mysql://app:{DB_PASSWORD}@db/prod")
    result = runner.invoke(main, ["db", "current"])
    assert result.exit_code == 2 and "unsupported database backend" in result.output
    _clean(result.output)
