"""Sign-in without lockout, and log-in monitoring (issue 12, items 3 and 4): failures are
throttled per (account, address) and per address with a growing delay, never for the
account as a whole; every failure is an event compliance can list (no password kept); a
username too long is refused before anything is counted or stored, so the throttle's memory
stays bounded whatever arrives."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from domain.audit import SignInFailed
from tests.builders import appended_since
from tests.e2e.conftest import PASSWORD, Api

WRONG = "wrong-guess-Zq81"


def from_address(api: Api, address: str) -> TestClient:
    return TestClient(api.client.app, client=(address, 40000))


def failures(api: Api, **query: str) -> list[dict[str, str]]:
    answer = api.client.get(
        "/compliance/sign-ins",
        params={"min_position": str(api.position()), **query},
        headers=api.auth("compliance@test"),
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def test_wrong_passwords_from_one_address_never_lock_the_account_for_another(api: Api) -> None:
    attacker = from_address(api, "203.0.113.66")
    limit = api.services.throttle.max_failures
    for _ in range(limit):
        answer = attacker.post(
            "/auth/token", data={"username": "prescriber@test", "password": WRONG}
        )
        assert answer.status_code == 401
    blocked = attacker.post(
        "/auth/token", data={"username": "prescriber@test", "password": PASSWORD}
    )
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) >= 1
    # The prescriber, from the clinic's own address, signs in as usual.
    clinic = from_address(api, "198.51.100.7")
    answer = clinic.post("/auth/token", data={"username": "prescriber@test", "password": PASSWORD})
    assert answer.status_code == 200, answer.text


def test_the_delay_grows_with_each_further_failure(api: Api) -> None:
    clock = [1000.0]
    api.services.throttle.clock = lambda: clock[0]
    attacker = from_address(api, "203.0.113.67")
    form = {"username": "therapist@test", "password": WRONG}
    for _ in range(api.services.throttle.max_failures):
        assert attacker.post("/auth/token", data=form).status_code == 401
    waits = []
    for _ in range(3):
        refused = attacker.post("/auth/token", data=form)
        assert refused.status_code == 429
        wait = int(refused.headers["Retry-After"])
        waits.append(wait)
        clock[0] += wait
        assert attacker.post("/auth/token", data=form).status_code == 401  # allowed again
    assert waits == [1, 2, 4]


def test_failed_sign_ins_are_listed_for_compliance_without_the_password(api: Api) -> None:
    before = api.position()
    client = from_address(api, "192.0.2.44")
    client.post("/auth/token", data={"username": " Therapist@Test ", "password": WRONG})
    client.post("/auth/token", data={"username": "nobody@test", "password": WRONG})
    assert appended_since(api.services.clinic, before) == [SignInFailed, SignInFailed]

    found = failures(api)
    assert [(f["username"], f["address"], f["reason"]) for f in found] == [
        ("therapist@test", "192.0.2.44", "wrong-password"),
        ("nobody@test", "192.0.2.44", "unknown-account"),
    ]
    assert all(f["at"] for f in found)
    assert [f["reason"] for f in failures(api, username="nobody@test")] == ["unknown-account"]
    assert WRONG not in str(found)
    stored = Path(api.services.clinic.env["SQLITE_DBNAME"])
    assert WRONG.encode() not in stored.read_bytes()

    as_csv = api.client.get(
        "/compliance/sign-ins", params={"format": "csv"}, headers=api.auth("compliance@test")
    )
    assert as_csv.status_code == 200
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["username"] for r in rows] == ["therapist@test", "nobody@test"]
    assert WRONG not in as_csv.text

    # Only compliance sees them.
    denied = api.client.get("/compliance/sign-ins", headers=api.auth("therapist@test"))
    assert denied.status_code == 403


def page_login(page: TestClient, email: str, password: str) -> Any:
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.get("/login").text)
    form = {"email": email, "password": password, "csrf": csrf.group(1) if csrf else ""}
    return page.post("/login", data=form, follow_redirects=False)


def test_the_login_page_delays_with_429_and_refuses_a_long_email_with_422(api: Api) -> None:
    page = from_address(api, "203.0.113.68")
    for _ in range(api.services.throttle.max_failures):
        assert page_login(page, "pcp@test", WRONG).status_code == 200  # the form again
    refused = page_login(page, "pcp@test", PASSWORD)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "Too many failed sign-ins" in refused.text
    before = api.position()
    long = page_login(from_address(api, "203.0.113.69"), "b" * 300, WRONG)
    assert long.status_code == 422
    assert "username: is longer than 254 characters" in long.text
    assert appended_since(api.services.clinic, before) == []


def test_the_compliance_page_has_a_line_on_failed_sign_ins(api: Api) -> None:
    from_address(api, "192.0.2.45").post(
        "/auth/token", data={"username": "pcp@test", "password": WRONG}
    )
    api.services.reflect(api.position())
    page = TestClient(api.client.app)
    assert page_login(page, "compliance@test", PASSWORD).status_code == 303
    text = page.get("/compliance").text
    line = re.search(r'<p id="sign-ins-status">(.*?)</p>', text, re.S)
    assert line is not None
    assert "1 failed sign-in(s) in the last 24 hours" in line.group(1)
    assert "pcp@test from 192.0.2.45, wrong-password" in line.group(1)


def test_a_username_too_long_is_refused_naming_the_field_and_nothing_is_kept(api: Api) -> None:
    before = api.position()
    size = len(api.services.throttle)
    answer = api.client.post("/auth/token", data={"username": "a" * 255, "password": WRONG})
    assert answer.status_code == 422
    assert [f["field"] for f in answer.json()["fields"]] == ["username"]
    assert "254" in answer.json()["fields"][0]["reason"]
    assert appended_since(api.services.clinic, before) == []
    assert len(api.services.throttle) == size


def test_many_distinct_long_usernames_leave_the_throttle_bounded(api: Api) -> None:
    throttle = api.services.throttle
    for n in range(200):  # 100 KB each, as in the attack run
        name = f"{n}-" + "x" * 100_000
        answer = api.client.post("/auth/token", data={"username": name, "password": WRONG})
        assert answer.status_code == 422
    assert len(throttle) == 0
    # Names within the bound, each from its own address: kept up to the capacity, no more.
    throttle.capacity = 6
    for n in range(12):
        client = from_address(api, f"10.9.{n // 250}.{n % 250}")
        name = f"{n}-" + "y" * 240 + "@test"
        assert (
            client.post("/auth/token", data={"username": name, "password": WRONG}).status_code
            == 401
        )
        assert len(throttle) <= 6
    assert len(throttle) == 6
