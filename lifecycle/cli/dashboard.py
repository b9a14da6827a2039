"""``lifecycle dashboard``: start the Streamlit dashboard."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

from lifecycle.cli._common import get_settings

#: The dashboard entry script (a source checkout or an editable install).
APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


def streamlit_command(host: str, port: int, app: Path = APP) -> list[str]:
    """The ``streamlit run`` command line: headless, no usage statistics."""
    return [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "viewer",
        # a blue primary colour: in this dashboard red means "a person is needed"
        "--theme.primaryColor", "#1f6feb",
    ]


def _ssl_cert_file() -> str | None:
    """Streamlit's ``server.sslCertFile`` (its config files or STREAMLIT_SERVER_SSL_CERT_FILE),
    None when it is not set or Streamlit cannot say."""
    try:
        from streamlit import config
    except ImportError:  # pragma: no cover - the dashboard extra is not installed
        return os.environ.get("STREAMLIT_SERVER_SSL_CERT_FILE") or None
    value = config.get_option("server.sslCertFile")
    return str(value) if value else None


@click.command("dashboard")
@click.option("--host", default=None, help="Address to listen on [default: dashboard.host, "
              "127.0.0.1].")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port to listen on [default: dashboard.port, 8501].")
@click.pass_context
def dashboard(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Start the monitoring dashboard (Streamlit) for this database."""
    from lifecycle.cli._common import open_engine

    settings = get_settings(ctx)
    open_engine(settings).dispose()  # refuse an unreachable or out-of-date database early
    if not APP.is_file():
        raise click.ClickException(
            f"dashboard app not found at {APP}; install lifecycle from a source checkout "
            "(pip install -e .)"
        )
    host = host or settings.dashboard.host
    port = port or settings.dashboard.port
    env = dict(os.environ)
    if settings.config_path is not None:
        env.setdefault("LIFECYCLE_CONFIG", str(Path(settings.config_path).resolve()))
    env.setdefault("LIFECYCLE_DATABASE_URL", settings.database_url)
    env.setdefault("LIFECYCLE_HOME", str(settings.home))
    cert = _ssl_cert_file()
    scheme = "https" if cert else "http"
    click.echo(f"lifecycle dashboard on {scheme}://{host}:{port} (Ctrl+C to stop)", err=True)
    if settings.admin_token:
        from dashboard.actions import plain_http_warning

        warning = plain_http_warning(host, cert)
        if warning:
            click.echo(f"WARNING: {warning}", err=True)
    command = streamlit_command(host, port)
    if os.name == "posix":
        # Replace this process: signals (Ctrl+C, SIGTERM from a supervisor) reach Streamlit
        # directly and no orphan server is left behind.
        os.execve(command[0], command, env)
    try:  # pragma: no cover - Windows
        code = subprocess.call(command, env=env)
    except KeyboardInterrupt:  # pragma: no cover
        code = 0
    ctx.exit(code)  # pragma: no cover


def register(main: click.Group) -> None:
    main.add_command(dashboard)
