"""Journeys through the web pages, driven the way a person would: links and buttons by their
accessible names, inputs by their labels, the keyboard where a keyboard user would use it.

The live server is shared by every test (one demo store), so each test that writes uses
unique text, and the one test that revokes a consent checks everything that depends on it
itself, then gives the consent again as the demo gave it. Every page a test visits is
checked for inputs without a label.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Locator, Page, expect

from domain.directory import entry_id_for
from tests.browser.conftest import (
    ARTIFACTS,
    LiveServer,
    api_get,
    api_post,
    screenshot,
    sign_in,
    unlabelled_inputs,
)

AVA, BEN = "DEMO-1001", "DEMO-1002"
AVA_NAME = "Ava Moreno"
# The demo's own psychotherapy note about Ava (api/demo/depression.py).
DEMO_PSYCHOTHERAPY_NOTE = "letting the team down"


def unique(what: str) -> str:
    return f"{what} {uuid.uuid4().hex[:8]}"


def focused(page: Page) -> str:
    """The focused element as tag:id-or-name:type."""
    return str(
        page.evaluate(
            "() => { const e = document.activeElement;"
            " return [e.tagName.toLowerCase(), e.id || e.getAttribute('name') || '',"
            " e.getAttribute('type') || ''].join(':'); }"
        )
    )


def assert_labelled(page: Page) -> None:
    missing = unlabelled_inputs(page)
    assert missing == [], f"inputs without a label on {page.url}: {missing}"


def choose(select: Locator, starting: str) -> str:
    """Pick the option whose visible text starts with `starting`, as a person reads them."""
    label = next(t for t in select.locator("option").all_inner_texts() if t.startswith(starting))
    select.select_option(label=label)
    return label


def open_from_caseload(page: Page, live_server: LiveServer, mrn: str) -> None:
    """From the caseload (where a clinician lands), open a patient by the link of their name."""
    expect(page).to_have_url(re.compile(r"/caseload$"))
    name = live_server.names[mrn]
    page.get_by_role("link", name=name, exact=True).click()
    expect(page).to_have_url(re.compile(rf"/patients/{live_server.patients[mrn]}"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    assert_labelled(page)


def open_ava_from_caseload(page: Page, live_server: LiveServer) -> None:
    open_from_caseload(page, live_server, AVA)


def open_alerts_on(page: Page) -> Locator:
    """The open alerts of a patient page's "Needs attention"."""
    return page.get_by_role("region", name="Needs attention").locator("li.alert")


# --- signing in ------------------------------------------------------------------------------


def test_login_page_is_labelled(page: Page) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))  # no session: sent to sign in
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_labelled(page)
    screenshot(page, "login")


def test_keyboard_tab_order_and_enter_submits(page: Page) -> None:
    page.goto("/login")
    order = []
    for _ in range(8):  # skip link and home link come first
        page.keyboard.press("Tab")
        order.append(focused(page))
        if order[-1].startswith("button"):
            break
    assert "input:email:email" in order, order
    at = order.index("input:email:email")
    assert order[at + 1 : at + 3] == ["input:password:password", "button::submit"], order
    # back to the email input, type what a person types, and Enter on the button submits
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert focused(page) == "input:email:email"
    page.keyboard.type("therapist@demo")
    page.keyboard.press("Tab")
    page.keyboard.type("demo-password-1")
    page.keyboard.press("Tab")
    assert focused(page) == "button::submit"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/caseload$"))
    expect(page.get_by_role("heading", name="Caseload")).to_be_visible()
    # on the next page the first Tab offers the skip link, and it moves focus to the content
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()


def test_wrong_password_is_refused_with_an_alert(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill("nobody@demo")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong email or password")
    expect(page.get_by_label("Email")).to_have_value("nobody@demo")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    assert_labelled(page)


def test_sign_out_ends_the_session(page: Page) -> None:
    sign_in(page, "therapist@demo")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto("/caseload")
    expect(page).to_have_url(re.compile(r"/login\?next=/caseload"))


# --- the therapist -----------------------------------------------------------------------------


def test_therapist_caseload_shows_real_work(page: Page, live_server: LiveServer) -> None:
    sign_in(page, "therapist@demo")
    expect(page).to_have_url(re.compile(r"/caseload$"))
    expect(page.get_by_role("heading", name="Caseload")).to_be_visible()
    table = page.get_by_role("table")
    expect(table).to_be_visible()
    # the demo stories end with work waiting: alerts, due and overdue items, a handoff
    expect(table.get_by_role("link", name=AVA_NAME)).to_be_visible()
    expect(table.locator(".tag-alert, .tag-overdue").first).to_be_visible()
    status = page.get_by_role("status").first.inner_text()
    counts = [int(n) for n in re.findall(r"(\d+) (?:open alert|overdue|due)", status)]
    assert sum(counts) > 0, status
    assert_labelled(page)
    screenshot(page, "caseload-therapist")

    page.get_by_label("Show").select_option(label="Everything on my patients")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"scope=team"))
    expect(page.get_by_label("Show")).to_have_value("team")
    assert_labelled(page)


def test_therapist_opens_ava_and_messages_the_prescriber(
    page: Page, new_page: Callable[[], Page], live_server: LiveServer
) -> None:
    subject = unique("Sleep worse since the dose change")
    sign_in(page, "therapist@demo")
    open_ava_from_caseload(page, live_server)
    expect(page.get_by_role("heading", name="Needs attention")).to_be_visible()
    screenshot(page, "patient-therapist-DEMO-1001")

    form = page.get_by_role("form", name="Message the team")
    form.get_by_label(re.compile(r"^prescriber@demo")).check()
    form.get_by_label("Subject").fill(subject)
    form.get_by_label("Message", exact=True).fill("Ava reports waking at 4 am most nights.")
    form.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Message sent.")).to_be_visible()
    waiting = page.locator("#attention")
    expect(waiting.get_by_text(subject)).to_be_visible()
    assert_labelled(page)

    # the prescriber finds it waiting and acknowledges it
    other = new_page()
    sign_in(other, "prescriber@demo")
    open_ava_from_caseload(other, live_server)
    other.get_by_role("button", name=f"Acknowledge “{subject}”").click()
    expect(other.get_by_text("Message acknowledged.")).to_be_visible()
    expect(other.locator("#attention").get_by_text(subject)).to_have_count(0)


def test_therapist_records_a_session_attended_with_a_note(
    page: Page, live_server: LiveServer
) -> None:
    note = unique("Reviewed activity schedule; two anchors kept this week")
    ava = live_server.patients[AVA]
    # The demo's only open session is next week; today's was booked at the front desk.
    starts = (datetime.now(UTC) - timedelta(minutes=50)).replace(second=0, microsecond=0)
    api_post(
        live_server,
        "therapist@demo",
        f"/patients/{ava}/sessions",
        {
            "starts_at": starts.isoformat(),
            "duration_minutes": 50,
            "mode": "in-person",
            "modality": "behavioral-activation",
        },
    )
    sign_in(page, "therapist@demo")
    open_ava_from_caseload(page, live_server)
    form = page.get_by_role("form", name="Session attended, with progress note")
    session = form.get_by_label("Session")
    # No clinic zone is set here: the page shows the time in UTC, with its abbreviation.
    label = choose(session, f"{starts:%Y-%m-%d %H:%M} UTC, behavioral-activation")
    form.get_by_label("Progress note").fill(note)
    form.get_by_label("Modality").select_option("behavioral-activation")
    form.get_by_role("button", name="Record attendance and note").click()
    expect(page.get_by_text("Attendance and progress note recorded.")).to_be_visible()
    timeline = page.get_by_role("table", name=re.compile("newest first"))
    expect(timeline.get_by_role("row").filter(has_text=f"progress note: {note}")).to_have_count(1)
    # the session is no longer offered
    expect(
        page.get_by_role("form", name="Session attended, with progress note")
        .get_by_label("Session")
        .locator("option", has_text=label)
    ).to_have_count(0)
    assert_labelled(page)


# --- the prescriber ----------------------------------------------------------------------------


def test_prescriber_changes_a_dose_and_sees_it_on_the_timeline(
    page: Page, live_server: LiveServer
) -> None:
    reason = unique("Partial response at 8 weeks; well tolerated")
    sign_in(page, "prescriber@demo")
    open_ava_from_caseload(page, live_server)
    form = page.get_by_role("form", name="Change a dose")
    choose(form.get_by_label("Medication"), "sertraline")
    form.get_by_label("Amount").fill("150")
    form.get_by_label("Unit").select_option("mg")
    form.get_by_label("Reason", exact=True).fill(reason)
    form.get_by_role("button", name="Record dose change").click()
    expect(page.get_by_text("Dose change recorded.")).to_be_visible()
    changes = page.get_by_role("table", name=re.compile(r"sertraline: dose changes", re.I))
    row = changes.get_by_role("row").filter(has_text=reason)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("150")
    expect(page.get_by_role("img", name=re.compile("sertraline", re.I)).first).to_be_visible()
    assert_labelled(page)
    screenshot(page, "patient-prescriber-DEMO-1001")


def test_a_refused_form_shows_the_reason_beside_the_field_and_records_nothing(
    page: Page, live_server: LiveServer
) -> None:
    reason = unique("Should never be recorded")
    sign_in(page, "prescriber@demo")
    open_ava_from_caseload(page, live_server)
    form = page.get_by_role("form", name="Change a dose")
    choose(form.get_by_label("Medication"), "sertraline")
    form.get_by_label("Amount").fill("-5")
    form.get_by_label("Reason", exact=True).fill(reason)
    form.get_by_role("button", name="Record dose change").click()

    summary = page.get_by_role("alert").filter(has_text="Nothing was recorded")
    expect(summary).to_be_visible()
    amount = page.get_by_role("form", name="Change a dose").get_by_label("Amount")
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(amount).to_have_accessible_description(re.compile(r"\S"))  # the reason, linked
    error = page.locator(f"#{amount.get_attribute('id')}-error")
    expect(error).to_be_visible()
    # the message sits beside the field: in the same field wrapper, just above the input
    same_field = amount.locator("xpath=ancestor::div[contains(@class,'field')][1]")
    expect(same_field.locator(".field-error")).to_have_text(error.inner_text())
    expect(amount).to_have_value("-5")  # what was typed is kept
    # the summary links to the field
    summary.get_by_role("link").first.click()
    expect(amount).to_be_focused()
    assert_labelled(page)
    screenshot(page, "form-error-summary", summary)
    screenshot(page, "form-error-dose-form", page.locator("#form-dose"))

    page.goto(f"/patients/{live_server.patients[AVA]}")
    assert reason not in page.content()


# --- the patient and her consents --------------------------------------------------------------


def test_patient_sees_her_progress_charts(page: Page) -> None:
    sign_in(page, "ava@demo")
    expect(page).to_have_url(re.compile(r"/me"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("My progress")
    progress = page.get_by_role("region", name="How I am doing")
    expect(progress.get_by_role("img", name=re.compile("PHQ-9")).first).to_be_visible()
    expect(progress.get_by_role("heading", name=re.compile("PHQ-9"))).to_be_visible()
    progress.get_by_text(re.compile(r"All \d+ scores")).first.click()
    expect(progress.get_by_role("table").first).to_be_visible()
    assert_labelled(page)
    screenshot(page, "me-ava")

    # her progress report, as a download
    with page.expect_download() as download:
        page.get_by_role("link", name="Download my progress report (PDF)").click()
    report = ARTIFACTS / "progress-report-DEMO-1001.pdf"
    download.value.save_as(report)
    assert report.read_bytes().startswith(b"%PDF-")


OFTEN = ("Not at all", "Several days", "More than half the days", "Nearly every day")


def phq9_item(form: Locator, n: int) -> Locator:
    return form.get_by_role("group", name=re.compile(rf"^{n}\. "))


def answer_phq9(page: Page, answers: dict[int, int]) -> None:
    """Tick each of items 1-9 on the patient's PHQ-9 (0 to 3; missing: left blank) and send."""
    form = page.get_by_role("region", name=re.compile("How my mood has been"))
    for n, score in answers.items():
        phq9_item(form, n).get_by_label(OFTEN[score], exact=True).check()
    form.get_by_role("button", name="Send my answers").click()


def phq9_on_the_chart(page: Page) -> Locator:
    """The PHQ-9 card of the patient page's outcomes (summary line, chart and table)."""
    outcomes = page.get_by_role("region", name="Outcomes", exact=True)
    return outcomes.get_by_role("article").filter(
        has=page.get_by_role("heading", name="PHQ-9", exact=True)
    )


def test_patient_answers_a_phq9_on_her_phone(
    page: Page, new_page: Callable[[], Page], live_server: LiveServer
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "ava@demo")
    expect(page.get_by_role("complementary", name="Need help now?")).to_contain_text("988")
    form = page.get_by_role("region", name=re.compile("How my mood has been"))
    expect(form).to_contain_text("not watched around the clock")

    # item 5 left out: refused beside it, what she chose kept
    answer_phq9(page, {1: 0, 2: 1, 3: 0, 4: 0, 6: 0, 7: 0, 8: 0, 9: 0})
    expect(page.get_by_role("alert").filter(has_text="Nothing was saved")).to_be_visible()
    expect(phq9_item(form, 5)).to_have_attribute("aria-invalid", "true")
    expect(phq9_item(form, 5)).to_contain_text("is required")
    expect(phq9_item(form, 2).get_by_label("Several days")).to_be_checked()
    assert_labelled(page)
    screenshot(page, "me-ava-phq9-refused-phone", form)

    phq9_item(form, 5).get_by_label("Several days").check()
    form.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("status")).to_contain_text("Your PHQ-9 answers are recorded")
    expect(page.locator("#crisis")).to_have_count(0)  # item 9 answered "Not at all"
    screenshot(page, "me-ava-phq9-done-phone", full_page=False)

    # her therapist finds the answer on her chart: total 2, the latest point
    therapist = new_page()
    sign_in(therapist, "therapist@demo")
    open_ava_from_caseload(therapist, live_server)
    card = phq9_on_the_chart(therapist)
    expect(card).to_contain_text("latest 2 (minimal)")
    chart = card.get_by_role("img", name=re.compile("PHQ-9 totals over time"))
    expect(chart).to_have_accessible_name(re.compile(r"\b2 \(minimal\) latest"))
    expect(open_alerts_on(therapist).filter(has_text="suicide-risk")).to_have_count(0)

    # the next time she answers item 9 above 0: the crisis resources first, 988 at the top
    answer_phq9(page, {1: 1, 2: 2, 3: 1, 4: 1, 5: 0, 6: 0, 7: 0, 8: 0, 9: 1})
    expect(page.get_by_role("status")).to_contain_text("Your PHQ-9 answers are recorded")
    crisis = page.get_by_role("alert").filter(has_text="988 Suicide & Crisis Lifeline")
    expect(crisis).to_be_visible()
    expect(crisis.get_by_role("link", name="call 988")).to_have_attribute("href", "tel:988")
    expect(crisis.get_by_role("link", name="text 988")).to_have_attribute("href", "sms:988")
    box = crisis.bounding_box()
    assert box is not None and box["y"] < 844, box  # in the first screen of her phone
    screenshot(page, "me-ava-phq9-crisis-phone", full_page=False)

    # ...and her therapist sees it, flagged, with the same-day alert it raised
    therapist.reload()
    card = phq9_on_the_chart(therapist)
    expect(card).to_contain_text("latest 6 (mild)")
    chart = card.get_by_role("img", name=re.compile("PHQ-9 totals over time"))
    expect(chart).to_have_accessible_name(re.compile(r"\b6 \(mild\) latest"))
    card.get_by_text("PHQ-9 as a table").click()
    latest = card.get_by_role("table", name="PHQ-9 totals").get_by_role("row").last
    expect(latest.get_by_role("cell").nth(1)).to_have_text("6")
    expect(latest).to_contain_text("phq9-item9")
    alert = open_alerts_on(therapist).filter(has_text="same-day suicide-risk assessment due")
    expect(alert).to_have_count(1)
    screenshot(therapist, "patient-therapist-DEMO-1001-after-phq9", therapist.locator("#attention"))


def test_patient_consent_form_refusal_is_shown_beside_the_field(page: Page) -> None:
    sign_in(page, "ava@demo")
    consents = page.get_by_role("region", name="Who I share my record with")
    in_force = consents.get_by_role("row").count()
    form = consents.get_by_role("form", name="Give a new consent")
    form.get_by_label("Who receives it").select_option(label="Maple Family Practice, primary care")
    form.get_by_label("Why").select_option(label="Treatment")
    form.get_by_role("button", name="Give consent").click()  # nothing chosen to share

    refused = page.get_by_role("alert").filter(
        has_text=re.compile("consent was not recorded", re.I)
    )
    expect(refused.first).to_be_visible()
    group = page.get_by_role("group", name="What they may see")
    expect(group.get_by_role("alert")).to_contain_text("choose at least one")
    expect(group).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Who receives it")).to_have_value(
        str(entry_id_for("organisation", "Maple Family Practice"))
    )
    assert_labelled(page)
    page.goto("/me")
    consents = page.get_by_role("region", name="Who I share my record with")
    expect(consents.get_by_role("row")).to_have_count(in_force)


def test_revoking_primary_care_consent_closes_the_medication_list(
    page: Page, new_page: Callable[[], Page], live_server: LiveServer
) -> None:
    # before: Maple Family Practice sees Ava's medication list under her consent
    pcp = new_page()
    sign_in(pcp, "pcp@demo")
    pcp.goto(f"/patients/{live_server.patients[AVA]}")
    medications = pcp.get_by_role("table", name="Medication list")
    expect(medications).to_be_visible()
    expect(medications).to_contain_text("sertraline")
    assert_labelled(pcp)
    screenshot(pcp, "patient-pcp-DEMO-1001")

    sign_in(page, "ava@demo")
    consents = page.get_by_role("region", name="Who I share my record with")
    expect(consents.get_by_role("row").filter(has_text="Maple Family Practice")).to_have_count(1)
    consents.get_by_role("button", name="Revoke consent for Maple Family Practice").click()
    expect(page.get_by_role("status")).to_contain_text("revoked")
    consents = page.get_by_role("region", name="Who I share my record with")
    expect(consents.get_by_role("row").filter(has_text="Maple Family Practice")).to_have_count(0)
    assert_labelled(page)

    # after: the same page shows Maple no medication list (the revocation counts at once)
    pcp.reload()
    expect(pcp.get_by_role("table", name="Medication list")).to_have_count(0)
    assert "sertraline" not in pcp.content().lower()
    assert_labelled(pcp)
    screenshot(pcp, "patient-pcp-DEMO-1001-after-revocation")

    # given again as the demo gave it (her name and birth date with her medications), so
    # that the tests after this one find Maple's consent as the demo left it
    consents = page.get_by_role("region", name="Who I share my record with")
    form = consents.get_by_role("form", name="Give a new consent")
    form.get_by_label("Who receives it").select_option(label="Maple Family Practice, primary care")
    form.get_by_label("Demographics (name, birth date, language)").check()
    form.get_by_label("Medications", exact=True).check()
    form.get_by_label("Why").select_option(label="Treatment")
    form.get_by_role("button", name="Give consent").click()
    expect(page.get_by_role("status")).to_contain_text("Your consent is recorded")
    consents = page.get_by_role("region", name="Who I share my record with")
    expect(consents.get_by_role("row").filter(has_text="Maple Family Practice")).to_have_count(1)
    pcp.reload()
    expect(pcp.get_by_role("table", name="Medication list")).to_contain_text("sertraline")
    expect(pcp.get_by_role("heading", level=1)).to_contain_text(AVA_NAME)


# --- psychotherapy notes -----------------------------------------------------------------------


def test_psychotherapy_notes_never_reach_another_reader(
    page: Page, new_page: Callable[[], Page], live_server: LiveServer
) -> None:
    secret = unique("Processing guilt about the promotion; transference noted")
    ava = live_server.patients[AVA]
    # the therapist's pages have no psychotherapy-note form: write it through the JSON API
    api_post(
        live_server, "therapist@demo", f"/patients/{ava}/psychotherapy-notes", {"text": secret}
    )
    readers = [
        ("prescriber@demo", f"/patients/{ava}"),
        ("pcp@demo", f"/patients/{ava}"),
        ("employer@demo", f"/patients/{ava}"),
        ("ava@demo", "/me"),
        ("compliance@demo", f"/compliance/access-log?patient={AVA}"),
    ]
    for index, (email, path) in enumerate(readers):
        reader = page if index == 0 else new_page()
        sign_in(reader, email)
        reader.goto(path)
        html = reader.content()
        assert secret not in html, f"{email} saw the psychotherapy note on {path}"
        assert DEMO_PSYCHOTHERAPY_NOTE not in html, f"{email} saw the demo's note on {path}"
        assert_labelled(reader)


# --- break the glass and compliance ------------------------------------------------------------


def test_break_the_glass_is_recorded_and_reviewed(
    page: Page, new_page: Callable[[], Page], live_server: LiveServer
) -> None:
    reason = unique("Unresponsive in clinic, need current medications")
    sign_in(page, "pcp@demo")
    page.goto(f"/patients/{live_server.patients[BEN]}")  # no consent from Ben to Maple
    expect(page.get_by_role("heading", name="This record is not available to you")).to_be_visible()
    assert_labelled(page)
    page.get_by_role("button", name="Break the glass and open the record").click()
    reason_box = page.get_by_label("Nature of the emergency")
    expect(reason_box).to_have_attribute("aria-invalid", "true")  # a reason is required
    reason_box.fill(reason)
    page.get_by_role("button", name="Break the glass and open the record").click()
    expect(page.get_by_role("alert").filter(has_text="Emergency access")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ben")
    assert_labelled(page)
    screenshot(page, "break-glass-pcp-DEMO-1002")

    compliance = new_page()
    sign_in(compliance, "compliance@demo")
    compliance.get_by_role("link", name=re.compile("Break-the-glass review queue")).click()
    card = compliance.get_by_role("article").filter(has_text=reason)
    expect(card).to_have_count(1)
    assert_labelled(compliance)
    card.get_by_label("Outcome").select_option(label="Appropriate")
    card.get_by_label("Note").fill("Emergency confirmed with the ED record.")
    card.get_by_role("button", name="Record review").click()
    expect(compliance.get_by_text("Review recorded")).to_be_visible()
    expect(compliance.get_by_role("article").filter(has_text=reason)).to_have_count(0)


def test_compliance_sees_verification_and_the_access_log(
    page: Page, live_server: LiveServer
) -> None:
    api_get(live_server, "therapist@demo", f"/patients/{live_server.patients[AVA]}/view")
    sign_in(page, "compliance@demo")
    expect(page).to_have_url(re.compile(r"/compliance$"))
    expect(page.get_by_role("heading", name="Compliance", level=1)).to_be_visible()
    integrity = page.get_by_role("region", name="Integrity of the log")
    expect(integrity).to_contain_text("Intact.")
    assert_labelled(page)
    screenshot(page, "compliance-index")

    page.get_by_role("link", name=re.compile("^Access log")).click()
    page.get_by_label("Patient id or MRN").fill(AVA)
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name=re.compile(r"\d+ access records?"))).to_be_visible()
    rows = page.get_by_role("row").filter(has_text="therapist@demo")
    expect(rows.first).to_be_visible()
    assert "sertraline" not in page.content().lower()  # access records, never content
    assert_labelled(page)
    screenshot(page, "compliance-access-log", full_page=False)

    rows.first.get_by_role("button", name=re.compile("^Replay the read")).click()
    expect(page.get_by_role("heading", name="Replay of a past read")).to_be_visible()
    expect(page.locator("#replay-result")).to_contain_text("Matches.")
    assert_labelled(page)
