"""The ``lifecycle`` command.

Each command group lives in its own module listed in :data:`COMMAND_MODULES`; a module
defines ``register(main)``. Every error prints one line to stderr and exits 2, without a
traceback: our own errors (:class:`~lifecycle.errors.LifecycleError`) name the problem and the
fix, click's usage errors keep click's message, and an unexpected exception is named as a bug
(``LIFECYCLE_DEBUG=1`` prints its traceback). Exit 1 only ever means a verdict (drift,
degraded), never an error.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from typing import Any

import click

from lifecycle import __version__
from lifecycle.cli._common import fail

#: Modules under ``lifecycle.cli`` that add commands (order = order in --help).
COMMAND_MODULES: list[str] = [
    "db",
    "models",
    "reference",
    "drift",
    "rollup",
    "performance",
    "dashboard",
    "scheduler",
    "jobs",
    "alerts",
    "registry",
    "retrain",
    "shadow",
    "promotion",
    "retention",
    "demo",
]


#: Exit status when stdout's reader closed the pipe: 128 + SIGPIPE, as a shell reports it.
EXIT_BROKEN_PIPE = 141


class _Refused(click.ClickException):
    """A command refused to run: exit 2, like every other error."""

    exit_code = 2


class _Group(click.Group):
    """Turns every error into one clean line and exit code 2 (see the module docstring)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            # click's own errors: usage errors already exit 2; a plain ClickException would
            # exit 1, which this command reserves for drift / degraded
            if exc.exit_code == 1:
                raise _Refused(exc.format_message()) from None
            raise
        except (click.exceptions.Exit, click.Abort):
            raise  # ctx.exit(code), Ctrl-C
        except BrokenPipeError:
            # the reader went away (`lifecycle drift reports m | head`): not an error of
            # ours; stop quietly with the shell's SIGPIPE status, and point stdout at
            # /dev/null so the interpreter's final flush does not raise again
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(EXIT_BROKEN_PIPE)
        except Exception as exc:  # noqa: BLE001 - one line and exit 2, never a traceback
            fail(ctx, exc)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lifecycle")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Path to lifecycle.toml (default: $LIFECYCLE_CONFIG or ./lifecycle.toml).",
)
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """lifecycle: drift monitoring and model lifecycle for models in production."""
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    # A command prints its own outcome; lifecycle's log records would reach stderr a second
    # time through logging's last-resort handler. Commands that log on purpose (scheduler
    # run, demo) configure the root logger, which still receives them.
    if not logging.getLogger("lifecycle").handlers:
        logging.getLogger("lifecycle").addHandler(logging.NullHandler())


for _name in COMMAND_MODULES:
    importlib.import_module(f"lifecycle.cli.{_name}").register(main)


def run() -> None:  # pragma: no cover - thin wrapper for python -m
    sys.exit(main())
