"""Shared plumbing for CLI commands: settings, engines, time parsing, tables."""

from __future__ import annotations

import os
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import click
from sqlalchemy import Engine

from lifecycle.config import Settings, load_settings
from lifecycle.errors import LifecycleError
from lifecycle.storage.audit import os_actor

#: Exit code of every failed command (bad input, bad state, or a bug); 1 is reserved for a
#: verdict that needs a person (drift, degraded performance), so a pipeline never mistakes an
#: error for drift.
EXIT_ERROR = 2


def error_line(exc: BaseException) -> str:
    """The one line a failed command prints to stderr.

    Our own errors (:class:`~lifecycle.errors.LifecycleError`) already name the problem and
    the fix; anything else is unexpected, so the line names the exception type and the first
    line of its message and says how to get the traceback.
    """
    text = (str(exc).strip().splitlines() or [""])[0][:500]
    if isinstance(exc, LifecycleError):
        return f"error: {text}"
    return (f"error: unexpected {type(exc).__name__}: {text or '(no message)'} - this is a "
            "bug in lifecycle; rerun with LIFECYCLE_DEBUG=1 to print the traceback and report it")


def fail(ctx: click.Context, exc: BaseException) -> None:
    """Print :func:`error_line` (plus the traceback when ``LIFECYCLE_DEBUG=1``), exit 2."""
    if not isinstance(exc, LifecycleError) and os.environ.get("LIFECYCLE_DEBUG") == "1":
        click.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)
    click.echo(error_line(exc), err=True)
    ctx.exit(EXIT_ERROR)


def default_actor() -> str:
    """Who runs an audited command when ``--actor`` is not given: ``cli:<OS user>``."""
    return os_actor("cli")


def get_settings(ctx: click.Context) -> Settings:
    """Load settings once per invocation (validated at the entry point)."""
    root = ctx.find_root()
    root.ensure_object(dict)
    if "settings" not in root.obj:
        root.obj["settings"] = load_settings(root.obj.get("config_path"))
    settings: Settings = root.obj["settings"]
    return settings


def open_registry(settings: Settings) -> Any:
    """The configured model registry (imported here, not at start-up: only the commands
    that use MLflow pay for it)."""
    from lifecycle.registry.mlflow_store import registry_for

    return registry_for(settings)


def open_engine(settings: Settings, *, check_schema: bool = True) -> Engine:
    """An engine for the configured database; refuses an out-of-date schema."""
    from lifecycle.storage.engine import make_engine
    from lifecycle.storage.migrate import ensure_schema_current

    engine = make_engine(settings.database_url)
    if check_schema:
        try:
            ensure_schema_current(engine)
        except Exception:
            engine.dispose()
            raise
    return engine


def parse_time(value: str | None, *, name: str, now: datetime | None = None) -> datetime | None:
    """Parse ``--since`` / ``--until``: ISO-8601 (UTC if no offset), ``now``, or a time
    relative to now written as minus a duration in the units durations accept everywhere
    (:func:`lifecycle.windows.parse_duration`): ``-30s``, ``-30m``, ``-24h``, ``-7d``, ``-2w``."""
    from lifecycle.windows import parse_duration

    if value is None:
        return None
    now = now or datetime.now(UTC)
    text = value.strip()
    if text == "now":
        return now
    if text.startswith("-") and text[-1:] in {"s", "m", "h", "d", "w"}:
        try:
            return now - parse_duration(text[1:], key=name)
        except ValueError:
            pass  # not a duration: reported below with every accepted form
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a time; use ISO-8601 (2026-01-31T12:00:00Z), 'now', "
            "or a relative time like -30s, -30m, -24h, -7d, -2w",
            param_hint=name,
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_window(since: str, until: str) -> tuple[datetime, datetime]:
    """``--since`` / ``--until`` as an ordered, half-open window ``[since, until)``."""
    start = parse_time(since, name="--since")
    end = parse_time(until, name="--until")
    if start is None or end is None:
        raise click.BadParameter("both --since and --until are needed")
    if start >= end:
        raise click.BadParameter(f"--since ({since}) must be before --until ({until})")
    return start, end


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a plain aligned text table (no dependency, pipes well)."""
    cells = [[_fmt(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return str(value)
