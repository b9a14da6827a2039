"""A reader that closes the pipe early (``lifecycle drift reports m | head``) is not a bug of
ours: the command stops quietly with the shell's SIGPIPE status, and nothing is printed to
stderr (it used to print "unexpected BrokenPipeError ... this is a bug in lifecycle")."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from lifecycle.cli import EXIT_BROKEN_PIPE


def test_a_closed_pipe_stops_quietly(tmp_path: Path) -> None:
    script = tmp_path / "spew.py"
    script.write_text(textwrap.dedent("""
        import click
        from lifecycle.cli import main

        @main.command("spew")
        def spew() -> None:
            for _ in range(200_000):
                click.echo("x" * 80)

        main()
    """))
    proc = subprocess.Popen([sys.executable, str(script), "spew"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=tmp_path)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # the reader goes away, like `| head -1`
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == EXIT_BROKEN_PIPE
    assert first.startswith(b"xxxx")
    assert err == ""
