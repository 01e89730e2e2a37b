"""Browser fixtures: the demo served by a real uvicorn process, driven by Debian's Chromium
through Playwright (playwright's own browser download is not used).

- `live_server` (session): a fresh data dir with the demo loaded, `uvicorn` serving
  `api.app:create_app` on 127.0.0.1:<free port> in a subprocess. Tests share it, so each
  writes its own unique data.
- `browser` (session): headless Chromium at /usr/bin/chromium. Missing: with CI=true the
  test fails, elsewhere it is skipped with how to get it (`bash scripts/chromium.sh`).
- `page` (per test): a fresh browser context (no cookies) on the live server; `new_page`
  opens more, each in its own context (a second person signed in at the same time). A failed
  test's page is saved to test-artifacts/screenshots/failures/.
- `sign_in`, `screenshot` (test-artifacts/screenshots/, gitignored), `unlabelled_inputs`,
  and `api_post` / `api_get` (the JSON API with a bearer token, for setup a page cannot do).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    ViewportSize,
    expect,
    sync_playwright,
)

from tests.conftest import service_missing

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"  # gitignored
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
DEMO_PASSWORD = "demo-password-1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    # Without these Chromium reaches for Google's services and this closed network refuses
    # its connections (and, with them, the page loads).
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_MS = 10_000
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}


@dataclass(frozen=True)
class LiveServer:
    url: str
    data_dir: Path
    patients: dict[str, UUID]  # MRN -> patient id
    names: dict[str, str]  # MRN -> display name
    log: Path

    def patient_url(self, mrn: str) -> str:
        return f"{self.url}/patients/{self.patients[mrn]}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _load_demo(data_dir: Path) -> tuple[dict[str, UUID], dict[str, str]]:
    from bootstrap import Settings, bootstrap_services
    from demo import load_demo

    services = bootstrap_services(Settings(data_dir=data_dir), with_tokens=False)
    try:
        result = load_demo(services, DEMO_PASSWORD)
    finally:
        services.clinic.close()
    return (
        {p.mrn: p.patient_id for p in result.patients},
        {p.mrn: p.name for p in result.patients},
    )


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("browser")
    data_dir = root / "data"
    patients, names = _load_demo(data_dir)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = root / "uvicorn.log"
    env = {**os.environ, "TANDEM_DATA_DIR": str(data_dir)}
    env.pop("TANDEM_STORE", None)  # always the embedded store in its own fresh dir
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                pytest.fail(f"uvicorn exited ({server.returncode}):\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"uvicorn did not answer /health in 30 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield LiveServer(url, data_dir, patients, names, log)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        service_missing(f"Chromium ({CHROMIUM})", "run `make test` or `bash scripts/chromium.sh`")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(SCREENSHOTS / "failures", ignore_errors=True)  # only this run's failures
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":  # the page fixture keeps a screenshot of a failed test's page
        item.stash[_FAILED] = report.failed
    return report


@pytest.fixture
def page(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
        if request.node.stash.get(_FAILED, False):  # the page as the test left it, for the log
            failures = SCREENSHOTS / "failures"
            failures.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=failures / f"{request.node.name}.png", full_page=True)
        assert not errors, f"JavaScript errors on the page: {errors}"
    finally:
        context.close()


@pytest.fixture
def new_page(browser: Browser, live_server: LiveServer) -> Iterator[Callable[[], Page]]:
    """Opens more pages, each in its own fresh context: a second person at another desk."""
    contexts: list[BrowserContext] = []

    def open_page() -> Page:
        context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    try:
        yield open_page
    finally:
        for context in contexts:
            context.close()


def sign_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Open /login, fill the form by its labels and submit it with the button."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page, f"{email} could not sign in").not_to_have_url(re.compile(r"/login(\?|$)"))


def screenshot(
    page: Page, name: str, part: Locator | None = None, *, full_page: bool = True
) -> Path:
    """Save a screenshot as a test artifact, test-artifacts/screenshots/<name>.png: the whole
    page (or only the window, for very long pages), or only `part` of it."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if part is not None:
        part.screenshot(path=path)
    else:
        page.screenshot(path=path, full_page=full_page)
    return path


UNLABELLED_JS = """
() => {
  const named = (el) => {
    if ((el.getAttribute('aria-label') || '').trim()) return true;
    const ids = (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean);
    if (ids.some((id) => (document.getElementById(id)?.textContent || '').trim())) return true;
    if (el.labels && Array.from(el.labels).some((l) => l.textContent.trim())) return true;
    const type = (el.getAttribute('type') || '').toLowerCase();
    if (['submit', 'button', 'reset'].includes(type) && (el.value || '').trim()) return true;
    if (type === 'image' && (el.getAttribute('alt') || '').trim()) return true;
    return false;
  };
  return Array.from(document.querySelectorAll('input, select, textarea'))
    .filter((el) => (el.getAttribute('type') || '').toLowerCase() !== 'hidden')
    .filter((el) => !named(el))
    .map((el) => el.outerHTML.slice(0, 200));
}
"""


def unlabelled_inputs(page: Page) -> list[str]:
    """Every input, select and textarea (but type=hidden) without a label or aria-label."""
    result = page.evaluate(UNLABELLED_JS)
    assert isinstance(result, list)
    return [str(r) for r in result]


def api_token(server: LiveServer, email: str, password: str = DEMO_PASSWORD) -> str:
    """A bearer token from the JSON API's password flow."""
    answer = httpx.post(
        f"{server.url}/auth/token", data={"username": email, "password": password}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def api_post(
    server: LiveServer, email: str, path: str, body: dict[str, object]
) -> dict[str, object]:
    """A JSON API write as `email` (bearer token); asserts it was accepted."""
    answer = httpx.post(
        f"{server.url}{path}",
        json=body,
        headers={"Authorization": f"Bearer {api_token(server, email)}"},
        timeout=10,
    )
    assert answer.status_code in (200, 201), answer.text
    result = answer.json()
    assert isinstance(result, dict)
    return result


def api_get(server: LiveServer, email: str, path: str) -> dict[str, object]:
    """A JSON API read as `email` (recorded like any read)."""
    answer = httpx.get(
        f"{server.url}{path}",
        headers={"Authorization": f"Bearer {api_token(server, email)}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert isinstance(result, dict)
    return result
