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


# The words of each cell that are broken across lines: a word whose characters do not all sit
# on one line (measured with a Range per character, so wrapping between words, or after a
# hyphen, is fine).
BROKEN_WORDS_JS = """(cells) => cells.flatMap(cell => {
  const broken = [];
  const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const match of node.textContent.matchAll(/[^\\s-]+/g)) {
      const tops = new Set();
      for (let i = match.index; i < match.index + match[0].length; i++) {
        const range = document.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const rect = range.getBoundingClientRect();
        if (rect.height) tops.add(Math.round(rect.top));
      }
      if (tops.size > 1) broken.push(match[0]);
    }
  }
  return broken;
})"""


def test_the_timeline_breaks_no_word_at_desktop_width(page: Page, live_server: LiveServer) -> None:
    # A long entry in one column must not squeeze the short ones (#, kind, author) until
    # their words break mid-word ("meas-ure", "supporte-r@demo").
    sign_in(page, "therapist@demo")
    page.goto(live_server.patient_url(BEN))
    rows = page.locator("table.timeline tbody tr")
    cells = rows.locator("td:nth-child(1), td:nth-child(4), td:nth-child(5)")
    assert cells.count() > 0
    broken = cells.evaluate_all(BROKEN_WORDS_JS)
    screenshot(page, "timeline-desktop-DEMO-1002", page.locator("table.timeline"))
    assert broken == [], sorted(set(broken))[:10]
