"""Accessibility: axe-core (axe-playwright-python) on every role's pages, at a desktop and a
phone width, with forms refused and shown again: no serious or critical violation."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.browser.conftest import LiveServer, sign_in
from tests.browser.test_phone_layout import PHONE, pages_for

AXE = Axe()
ROLES = ["therapist@demo", "prescriber@demo", "pcp@demo", "ava@demo", "compliance@demo"]


def serious(page: Page) -> list[dict[str, Any]]:
    """The serious and critical violations on the page as it stands: rule, impact, where."""
    results = AXE.run(page)
    return [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "where": [n["target"] for n in v["nodes"]][:5],
        }
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("width", ["desktop", "phone"])
@pytest.mark.parametrize("email", ROLES)
def test_no_serious_or_critical_violation_on_any_page(
    page: Page, live_server: LiveServer, email: str, width: str
) -> None:
    if width == "phone":
        page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    sign_in(page, email)
    for path in [*pages_for(live_server, email), "/login"]:
        page.goto(path)
        assert serious(page) == [], path


def test_a_refused_form_shown_again_has_no_serious_violation(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, "therapist@demo")
    page.goto(live_server.patient_url("DEMO-1002"))
    form = page.locator("#form-document")
    form.get_by_label("Length in minutes").fill("500")  # over 240, and no note
    form.get_by_role("button", name="Record session and note").click()
    assert page.locator(".error-summary").count() == 1
    assert serious(page) == []


def test_the_check_finds_a_violation_when_there_is_one(page: Page, live_server: LiveServer) -> None:
    # So that the tests above cannot pass by checking nothing: an input without a label is
    # what axe calls critical.
    page.goto("/login")
    page.evaluate(
        """() => {
        const main = document.querySelector('main');
        main.insertAdjacentHTML('beforeend',
          '<input type="text" id="no-label">');
    }"""
    )
    found = {v["rule"] for v in serious(page)}
    assert "label" in found, found
