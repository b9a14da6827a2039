"""A real browser against a running ``lifecycle dashboard`` (headless Chromium, Playwright).

Needs ``/usr/bin/chromium``: skipped with a visible reason when it is absent, and FAILS when
``CI=true`` (CI installs it and must run this test). Screenshots go to the test's temp folder,
and also to ``$LIFECYCLE_SCREENSHOT_DIR`` when set (that is how ``docs/images`` is refreshed).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_support import NOW, seed

CHROMIUM = "/usr/bin/chromium"
#: Read at import: the fixtures clear every inherited LIFECYCLE_* variable.
SCREENSHOT_DIR = os.environ.get("LIFECYCLE_SCREENSHOT_DIR")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
#: page path -> (title, a text the page must show once it has loaded its data)
PAGES = {
    "overview": ("Overview", "Traffic and latency"),
    "drift": ("Drift", "The numbers behind the verdict"),
    "performance": ("Performance", "Label coverage and delay"),
    "jobs": ("Jobs & alerts", "Audit log"),
    "retraining": ("Retraining", "Ask for a retrain"),
    "shadow": ("Shadow & promotions", "Promotions and rollbacks"),
    "lineage": ("Lineage", "Retrain run #"),
}
TOKEN = "browser-test-token"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        message = f"headless Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"{message}; CI=true: the browser test must run")
        pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"lifecycle dashboard exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"the dashboard did not answer at {url} within {timeout} s")


@pytest.fixture
def mlflow_uri(tmp_path: Path) -> str:
    """The seeded registry: a local MLflow store beside the test's database."""
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


@pytest.fixture
def dashboard_url(sqlite_url: str, mlflow_uri: str, tmp_path: Path) -> Iterator[str]:
    from lifecycle.registry.mlflow_store import MlflowRegistry

    _require_chromium()
    seed(sqlite_url, days=7, predictions=20_000, registry=MlflowRegistry(mlflow_uri))
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LIFECYCLE_") or k == "LIFECYCLE_TEST_POSTGRES_URL"}
    env.update({"LIFECYCLE_DATABASE_URL": sqlite_url, "LIFECYCLE_HOME": str(tmp_path / "home"),
                "LIFECYCLE_ADMIN_TOKEN": TOKEN, "LIFECYCLE_MLFLOW_TRACKING_URI": mlflow_uri,
                "LIFECYCLE_DASHBOARD_NOW": NOW.isoformat()})
    lifecycle = Path(sys.executable).with_name("lifecycle")
    log = (tmp_path / "dashboard.log").open("wb")
    proc = subprocess.Popen([str(lifecycle), "dashboard", "--port", str(port)], env=env,
                            cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_every_page_in_a_real_browser(dashboard_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    shots = tmp_path / "screenshots"
    shots.mkdir()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            for path, (title, marker) in PAGES.items():
                # the default page lives at "/" (st.navigation ignores its url_path)
                page.goto(f"{dashboard_url}/{'' if path == 'overview' else path}")
                page.locator("h1", has_text=title).first.wait_for(timeout=60_000)
                page.get_by_text(marker, exact=path != "lineage").first.wait_for(
                    timeout=60_000)
                if path not in ("jobs", "lineage"):
                    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(
                        timeout=60_000)
                page.wait_for_timeout(1500)  # let the charts draw before the screenshot
                assert page.locator('[data-testid="stException"]').count() == 0, path
                assert page.get_by_text("Page not found").count() == 0, path
                # the sidebar navigation lists every page
                nav = page.locator('[data-testid="stSidebarNav"]')
                for other_title, _ in PAGES.values():
                    assert nav.get_by_text(other_title, exact=True).count() == 1
                if path == "overview":
                    assert page.get_by_text("Needs a person —").count() == 1
                    assert page.locator('[data-testid="stDataFrame"]').count() >= 2
                    # the status table fits a 1400 px window: no column scrolled out of view
                    scroller = page.locator('[data-testid="stDataFrame"]').first.locator(
                        ".dvn-scroller").first
                    widths = scroller.evaluate("e => [e.scrollWidth, e.clientWidth]")
                    assert widths[0] <= widths[1], f"overview table cut: {widths}"
                if path == "drift":
                    assert page.get_by_role("tab", name="Label drift").count() == 1
                if path == "jobs":
                    assert page.get_by_role("button", name="Acknowledge").count() == 1
                if path == "shadow":
                    assert page.get_by_text("Current decision").count() == 1
                    assert page.get_by_role("button", name="Promote").count() == 1
                page.screenshot(path=str(shots / f"{path}.png"), full_page=True)
        finally:
            browser.close()
    for path in PAGES:
        assert (shots / f"{path}.png").stat().st_size > 10_000
    target = SCREENSHOT_DIR
    if target:
        for path in PAGES:
            shutil.copy(shots / f"{path}.png", Path(target) / f"dashboard-{path}.png")


def _aliases(mlflow_uri: str, model: str) -> dict[str, str]:
    """The aliases as MLflow's own client reads them."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_uri, registry_uri=mlflow_uri)
    return {a: str(v) for a, v in client.get_registered_model(model).aliases.items()}


def _audited(url: str, action: str) -> list[str]:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from lifecycle.storage.engine import make_engine
    from lifecycle.storage.tables import AuditEvent

    engine = make_engine(url)
    with Session(engine) as session:
        actors = session.scalars(select(AuditEvent.actor).where(AuditEvent.action == action)
                                 .order_by(AuditEvent.id)).all()
    engine.dispose()
    return list(actors)


def _idle(page: object) -> None:
    """Wait until Streamlit has finished rerunning: a form filled during a rerun can be
    replaced by its new copy and lose what was typed (seen under load)."""
    page.locator('[data-testid="stStatusWidget"]').wait_for(  # type: ignore[attr-defined]
        state="hidden", timeout=60_000)


def _submit(page: object, form_title: str, button: str, *, actor: str,
            reason: str | None) -> None:
    _idle(page)
    form = page.locator('[data-testid="stForm"]').filter(  # type: ignore[attr-defined]
        has_text=form_title)
    if reason is not None:
        form.get_by_label("Reason", exact=False).first.fill(reason)
    form.get_by_label("Your name (written to the audit log)").fill(actor)
    form.get_by_label("Admin token").fill(TOKEN)
    form.get_by_text("I confirm this action").click()
    form.get_by_role("button", name=button).click()


def test_promote_and_rollback_in_a_real_browser(dashboard_url: str, sqlite_url: str,
                                                mlflow_uri: str) -> None:
    """With the token: promote fraud's challenger (a reason: the gate said CONTINUE), then
    roll back; MLflow's own client sees the aliases move and the audit log has both."""
    from playwright.sync_api import sync_playwright

    assert _aliases(mlflow_uri, "fraud") == {"champion": "2", "previous": "1",
                                             "challenger": "3"}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.goto(f"{dashboard_url}/shadow")
            page.get_by_text("Promotions and rollbacks", exact=True).wait_for(timeout=60_000)
            page.locator('[data-testid="stSelectbox"]').filter(has_text="Model").first.click()
            page.get_by_role("option", name="fraud", exact=True).click()
            page.get_by_text("Champion v2").first.wait_for(timeout=60_000)
            _submit(page, "Promote the challenger", "Promote", actor="browser-alice",
                    reason="fixes the fuel-merchant bug")
            page.get_by_text("promoted by browser-alice", exact=False).wait_for(timeout=60_000)
            assert page.locator('[data-testid="stException"]').count() == 0
            assert _aliases(mlflow_uri, "fraud") == {"champion": "3", "previous": "2"}
            _submit(page, "Roll back", "Roll back", actor="browser-bob", reason="p95 doubled")
            page.get_by_text("rolled back by browser-bob", exact=False).wait_for(timeout=60_000)
            assert page.locator('[data-testid="stException"]').count() == 0
        finally:
            browser.close()
    assert _aliases(mlflow_uri, "fraud") == {"champion": "2", "previous": "3"}
    assert _audited(sqlite_url, "model.promote")[-1] == "browser-alice"
    assert _audited(sqlite_url, "model.promote.override")[-1] == "browser-alice"
    assert _audited(sqlite_url, "model.rollback")[-1] == "browser-bob"
