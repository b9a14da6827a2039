"""``lifecycle dashboard``: start the Streamlit dashboard."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path

import click

from lifecycle.cli._common import get_settings


def app_path() -> Path:
    """The dashboard's entry script, found through the installed package
    ``lifecycle.dashboard`` (the repository's ``dashboard/`` folder; see pyproject.toml), so
    it is the same file in a wheel, an editable install and a source checkout."""
    spec = importlib.util.find_spec("lifecycle.dashboard")
    if spec is None or spec.origin is None:
        raise click.ClickException(
            "the dashboard package lifecycle.dashboard is not installed; reinstall lifecycle "
            "(pip install -e . in a source checkout)"
        )
    return Path(spec.origin).resolve().parent / "app.py"


def streamlit_command(host: str, port: int, app: Path | None = None) -> list[str]:
    """The ``streamlit run`` command line: headless, no usage statistics."""
    return [
        sys.executable, "-m", "streamlit", "run", str(app or app_path()),
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


def port_problem(host: str, port: int) -> str | None:
    """None when ``host:port`` can be listened on, else why not (checked before the URL is
    announced, so a busy port is reported instead of a URL that serves something else).

    The probe sets ``SO_REUSEADDR`` as Streamlit's server does, so a port left in TIME_WAIT
    by a previous run is not mistaken for a busy one."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"cannot listen on {host!r}: {exc.strerror}; check --host / dashboard.host"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            return (f"cannot listen on {host}:{port} ({exc.strerror}): another program uses "
                    "that port; stop it or pick a free one with --port (or dashboard.port)")
    return None


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
    app = app_path()
    if not app.is_file():
        raise click.ClickException(
            f"dashboard app not found at {app}; reinstall lifecycle (pip install -e . in a "
            "source checkout)"
        )
    host = host or settings.dashboard.host
    port = port or settings.dashboard.port
    problem = port_problem(host, port)
    if problem is not None:
        raise click.ClickException(problem)
    env = dict(os.environ)
    if settings.config_path is not None:
        env.setdefault("LIFECYCLE_CONFIG", str(Path(settings.config_path).resolve()))
    env.setdefault("LIFECYCLE_DATABASE_URL", settings.database_url)
    env.setdefault("LIFECYCLE_HOME", str(settings.home))
    cert = _ssl_cert_file()
    scheme = "https" if cert else "http"
    click.echo(f"lifecycle dashboard on {scheme}://{host}:{port} (Ctrl+C to stop)", err=True)
    if settings.admin_token:
        from lifecycle.dashboard.actions import plain_http_warning

        warning = plain_http_warning(host, cert)
        if warning:
            click.echo(f"WARNING: {warning}", err=True)
    command = streamlit_command(host, port, app)
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
