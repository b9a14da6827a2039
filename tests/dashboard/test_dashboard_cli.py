"""``lifecycle dashboard``: the command line it runs, its refusals (bad database, busy port),
and the installed package's name (``lifecycle.dashboard``, not a top-level ``dashboard``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from lifecycle.cli import COMMAND_MODULES, main
from lifecycle.cli.dashboard import app_path, port_problem, streamlit_command

REPO = Path(__file__).resolve().parents[2]


def test_streamlit_command_is_headless_without_telemetry() -> None:
    cmd = streamlit_command("127.0.0.1", 8501)
    assert cmd[1:4] == ["-m", "streamlit", "run"]
    app = app_path()
    # the installed package lifecycle.dashboard is the repository's dashboard/ folder
    assert Path(cmd[4]) == app == REPO / "dashboard" / "app.py" and app.is_file()
    pairs = dict(zip(cmd[5::2], cmd[6::2], strict=True))
    assert pairs["--server.address"] == "127.0.0.1"
    assert pairs["--server.port"] == "8501"
    assert pairs["--server.headless"] == "true"
    assert pairs["--browser.gatherUsageStats"] == "false"
    assert pairs["--theme.primaryColor"] != "#ff4b4b"  # red is reserved for trouble


def test_dashboard_is_registered() -> None:
    assert "dashboard" in COMMAND_MODULES
    result = CliRunner().invoke(main, ["dashboard", "--help"])
    assert result.exit_code == 0 and "--port" in result.output


def test_dashboard_refuses_an_unmigrated_database(tmp_home: Path, empty_sqlite_url: str) -> None:
    result = CliRunner().invoke(main, ["dashboard"],
                                env={"LIFECYCLE_DATABASE_URL": empty_sqlite_url})
    assert result.exit_code != 0
    assert "lifecycle db upgrade" in result.output


def _cli_env(url: str, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIFECYCLE_")}
    env.update({"LIFECYCLE_DATABASE_URL": url, "LIFECYCLE_HOME": str(home)})
    return env


def test_dashboard_on_a_busy_port_says_so_without_announcing_a_url(
        sqlite_url: str, tmp_path: Path) -> None:
    """A port another program listens on is refused before the "dashboard on http://..."
    line (a real process: on success the command replaces itself with Streamlit)."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert port_problem("127.0.0.1", port) is not None
        proc = subprocess.run(
            [sys.executable, "-m", "lifecycle.cli", "dashboard", "--port", str(port)],
            env=_cli_env(sqlite_url, tmp_path), cwd=tmp_path, capture_output=True,
            text=True, timeout=120)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output  # an error, never the "drift" code 1
    assert f"cannot listen on 127.0.0.1:{port}" in output and "--port" in output
    assert "http://" not in output
    assert port_problem("127.0.0.1", port) is None  # free again once the socket closed


def test_a_users_own_dashboard_module_does_not_collide(tmp_path: Path) -> None:
    """A user's top-level ``dashboard`` module (first on sys.path) and lifecycle's dashboard
    import side by side: lifecycle's is ``lifecycle.dashboard``."""
    (tmp_path / "dashboard.py").write_text("WHOSE = 'the user'\n")
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "import dashboard\n"
        "from lifecycle.dashboard import charts\n"
        "from lifecycle.dashboard.views import overview\n"
        "import lifecycle.dashboard as ours\n"
        "assert dashboard.WHOSE == 'the user', dashboard.__file__\n"
        "assert callable(overview.render) and charts.status_level('drift') == 'bad'\n"
        "print(dashboard.__file__, ours.__file__)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    user_file, ours_file = proc.stdout.split()
    assert Path(user_file) == tmp_path / "dashboard.py"
    assert Path(ours_file) == REPO / "dashboard" / "__init__.py"
