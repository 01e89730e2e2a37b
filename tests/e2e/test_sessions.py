"""Page sessions (issue 12, item 6): the cookie holds a random session id that the server
resolves on every request, never the API's bearer token. Signing out and deactivation end
it server-side (a restart does not bring it back), an idle session is signed out, the login
form carries a CSRF token, and a setting marks the cookies Secure."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli_app
from bootstrap import bootstrap_services
from bootstrap.settings import Settings
from tests.builders import appended_since, post_login
from tests.e2e.conftest import PASSWORD, Api

COOKIE = "tandem_session"


def signed_in(api: Api, email: str = "therapist@test") -> TestClient:
    browser = TestClient(api.client.app, follow_redirects=False)
    answer = post_login(browser, email, PASSWORD)
    assert answer.status_code == 303, answer.text
    return browser


def with_cookie(app: object, value: str) -> TestClient:
    browser = TestClient(app, follow_redirects=False)  # type: ignore[arg-type]
    browser.cookies.set(COOKIE, value)
    return browser


def sign_out(browser: TestClient) -> None:
    page = browser.get("/caseload")
    assert page.status_code == 200, page.text
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    assert browser.post("/logout", data={"csrf": csrf}).status_code == 303


def test_signing_out_ends_the_session_on_the_server(api: Api) -> None:
    browser = signed_in(api)
    cookie = browser.cookies[COOKIE]
    sign_out(browser)
    copied = with_cookie(api.client.app, cookie)  # the cookie kept, as an attacker would
    answer = copied.get("/caseload")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login")


def test_a_restart_does_not_bring_a_signed_out_session_back(api: Api, tmp_path: Path) -> None:
    browser, kept = signed_in(api), signed_in(api, "prescriber@test")
    cookie, live = browser.cookies[COOKIE], kept.cookies[COOKIE]
    sign_out(browser)
    again = bootstrap_services(Settings(data_dir=tmp_path / "data"))
    with TestClient(create_app(services=again)) as restarted:
        assert with_cookie(restarted.app, cookie).get("/caseload").status_code == 303
        assert with_cookie(restarted.app, live).get("/caseload").status_code == 200


def test_a_page_session_is_not_a_bearer_token_nor_a_token_a_page_session(api: Api) -> None:
    browser = signed_in(api)
    session_id = browser.cookies[COOKIE]
    assert api.tokens["therapist@test"] != session_id
    as_bearer = api.client.get("/me", headers={"Authorization": f"Bearer {session_id}"})
    assert as_bearer.status_code == 401
    token_as_cookie = with_cookie(api.client.app, api.tokens["therapist@test"])
    answer = token_as_cookie.get("/caseload")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login")


def test_an_idle_session_is_signed_out(api: Api) -> None:
    clock = [1_000_000.0]
    sessions = api.services.sessions
    sessions.clock = lambda: clock[0]  # type: ignore[attr-defined]
    browser = signed_in(api)
    idle = sessions.idle_seconds
    clock[0] += idle - 5
    assert browser.get("/caseload").status_code == 200  # in use: the idle time starts again
    clock[0] += idle - 5
    assert browser.get("/caseload").status_code == 200
    clock[0] += idle + 1
    answer = browser.get("/caseload")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login")
    clock[0] += 1  # and it stays ended
    assert browser.get("/caseload").status_code == 303


def test_the_idle_timeout_is_a_setting(tmp_path: Path) -> None:
    assert Settings().session_idle_minutes == 15
    services = bootstrap_services(Settings(data_dir=tmp_path, session_idle_minutes=2))
    assert services.sessions.idle_seconds == 120


def test_deactivation_ends_the_users_page_sessions_server_side(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = signed_in(api, "pcp@test")
    other = signed_in(api, "therapist@test")
    assert browser.get("/shared").status_code == 200
    monkeypatch.setenv("TANDEM_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(cli_app, ["user", "deactivate", "pcp@test", "--reason", "left"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "data" / "sessions.sqlite") as db:
        emails = [r[0] for r in db.execute("SELECT email FROM sessions")]
    assert "pcp@test" not in emails and "therapist@test" in emails
    assert browser.get("/shared").status_code == 303
    assert other.get("/caseload").status_code == 200


def test_the_login_form_needs_its_own_csrf_token(api: Api) -> None:
    before = api.position()
    browser = TestClient(api.client.app, follow_redirects=False)
    form = {"email": "therapist@test", "password": PASSWORD}
    answer = browser.post("/login", data=form)
    assert answer.status_code == 403
    assert COOKIE not in browser.cookies
    # A token from another browser's form does not do either (login CSRF).
    theirs = TestClient(api.client.app).get("/login").text
    token = theirs.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    browser.get("/login")
    assert browser.post("/login", data={**form, "csrf": token}).status_code == 403
    assert COOKIE not in browser.cookies
    assert appended_since(api.services.clinic, before) == []


@pytest.mark.parametrize("secure", [False, True])
def test_a_setting_marks_the_cookies_secure(tmp_path: Path, secure: bool, api: Api) -> None:
    services = bootstrap_services(Settings(data_dir=tmp_path / "data", secure_cookies=secure))
    base = "https://testserver" if secure else "http://testserver"  # TLS, as behind a proxy
    with TestClient(create_app(services=services), base, follow_redirects=False) as browser:
        form = browser.get("/login")
        answer = post_login(browser, "therapist@test", PASSWORD)
        assert answer.status_code == 303, answer.text
    for cookie in (form.headers["set-cookie"], answer.headers["set-cookie"]):
        assert ("; secure" in cookie.lower()) is secure, cookie
    assert "httponly" in answer.headers["set-cookie"].lower()
