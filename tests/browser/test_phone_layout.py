"""Every page fits a phone: at 390 CSS pixels wide no page scrolls sideways (a wide table
scrolls inside its own box instead), for each role's pages on the demo."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import LiveServer, screenshot, sign_in

PHONE = {"width": 390, "height": 844}
AVA, BEN = "DEMO-1001", "DEMO-1002"

# What the page's widest box needs beyond the window: 0 when nothing sticks out.
OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  // Inside a box that scrolls sideways itself (a wide table): that box is what must fit.
  const scrolls = e => { for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (['auto', 'scroll'].includes(getComputedStyle(a).overflowX)) return true; } return false; };
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width + 1 && !scrolls(e))
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
              + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ')[0] : ''));
  return {scroll: document.documentElement.scrollWidth - width, wide: wide.slice(0, 8)};
}"""


def pages_for(live_server: LiveServer, email: str) -> list[str]:
    ava, ben = live_server.patients[AVA], live_server.patients[BEN]
    return {
        "therapist@demo": [
            "/caseload",
            "/patients",
            "/register",
            f"/patients/{ava}",
            f"/patients/{ben}",
        ],
        "prescriber@demo": ["/caseload", f"/patients/{ben}"],
        "pcp@demo": ["/shared", f"/patients/{ava}"],
        "ava@demo": ["/me"],
        "compliance@demo": ["/compliance"],
    }[email]


@pytest.mark.parametrize(
    "email", ["therapist@demo", "prescriber@demo", "pcp@demo", "ava@demo", "compliance@demo"]
)
def test_no_page_scrolls_sideways_on_a_phone(
    page: Page, live_server: LiveServer, email: str
) -> None:
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    sign_in(page, email)
    for path in pages_for(live_server, email):
        page.goto(path)
        found = page.evaluate(OVERFLOW_JS)
        name = path.strip("/").replace("/", "-")[:40] or "home"
        screenshot(page, f"phone-{email.split('@', maxsplit=1)[0]}-{name}", full_page=False)
        assert found["scroll"] <= 0 and not found["wide"], (path, found)
