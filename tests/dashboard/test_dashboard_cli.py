"""``lifecycle dashboard``: the command line it runs, and its refusal on a bad database."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from lifecycle.cli import COMMAND_MODULES, main
from lifecycle.cli.dashboard import APP, streamlit_command


def test_streamlit_command_is_headless_without_telemetry() -> None:
    cmd = streamlit_command("127.0.0.1", 8501)
    assert cmd[1:4] == ["-m", "streamlit", "run"]
    assert Path(cmd[4]) == APP and APP.is_file()
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
