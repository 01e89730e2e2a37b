"""One journey per role, each doing its real work end to end on the web pages (never the
JSON API), with screenshots kept as test artifacts (test-artifacts/screenshots/journey-*).

- The therapist sees Dev's same-day suicide-risk alert on the caseload and his page,
  documents today's session, then closes the alert with a risk assessment.
- The prescriber registers a new patient, starts lithium and orders its lithium level.
- Ben's partner (his supporter) records an early-warning sign; the therapist then reads it.
- Maple Family Practice opens Ava's shared record: her name and birth date, her medications,
  and nothing else.

(The patient's own journey, a PHQ-9 on her phone, is in test_journeys.py.)

The live server is shared by every browser test, so each journey writes unique text and
works on a patient no other test relies on for what it changes: Dev's demo alert is closed
here only; the prescriber's patient is new.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import LiveServer, screenshot, sign_in
from tests.browser.test_journeys import (
    AVA,
    BEN,
    assert_labelled,
    choose,
    open_alerts_on,
    open_from_caseload,
    unique,
)

DEV = "DEMO-1004"
RISK_ALERT = "same-day suicide-risk assessment due"
# What Ava's record holds beyond her demographics and medications (demo/depression.py): the
# sections of the patient page for them, a progress note, her sleep diary, a message between
# her clinicians, the functional recommendation she shares with her employer only.
BEYOND_MEDICATIONS = (
    "Needs attention",
    "Outcomes",
    "Messages",
    "Functional recommendations",
    "Record",
)
NOT_IN_AVAS_CONSENT = (
    "Avoidance of work email identified as a key TRAP pattern",
    "Sleep diary",
    "Sertraline side effects: she may stop it herself",
    "Graded return to work from next week",
)


def attention(page: Page) -> Locator:
    return page.get_by_role("region", name="Needs attention")


def timeline_row(page: Page, text: str) -> Locator:
    timeline = page.get_by_role("table", name=re.compile("newest first"))
    return timeline.get_by_role("row").filter(has_text=text)


# --- the therapist -----------------------------------------------------------------------------


def test_therapist_documents_todays_session_and_closes_the_risk_alert(
    page: Page, live_server: LiveServer
) -> None:
    note = unique("Exam stress; passive thoughts of death, no plan or intent")
    plan = unique("Safety plan reviewed with Dev; 988 saved in his phone; check-in Friday")
    dev_name = live_server.names[DEV]
    sign_in(page, "therapist@demo")

    # before: the alert from this morning's PHQ-9 (item 9 at 1) is on the board...
    board_row = page.get_by_role("row").filter(
        has=page.get_by_role("link", name=dev_name, exact=True)
    )
    expect(board_row.locator(".alert").filter(has_text=RISK_ALERT)).to_have_count(1)
    assert_labelled(page)
    screenshot(page, "journey-therapist-1-caseload-before")

    # ...and on his page, where the risk form names it as the alert it answers
    open_from_caseload(page, live_server, DEV)
    expect(open_alerts_on(page).filter(has_text=RISK_ALERT)).to_have_count(1)
    expect(page.locator("#risk-answers")).to_contain_text(RISK_ALERT)

    # today's session, held without a booking, with its progress note
    document = page.get_by_role("form", name="Document a session now")
    document.get_by_label("Held").select_option("in-person")
    document.get_by_label("Kind of session").select_option("standard")
    document.get_by_label("Modality").select_option("cbt")
    document.get_by_label("Length in minutes").fill("50")
    document.get_by_label("Progress note").fill(note)
    screenshot(page, "journey-therapist-2-document-form", page.locator("#form-document"))
    document.get_by_role("button", name="Record session and note").click()
    expect(page.get_by_text("Session recorded as held, with its progress note.")).to_be_visible()
    expect(timeline_row(page, f"progress note: {note}")).to_have_count(1)
    expect(timeline_row(page, "session attended").first).to_be_visible()
    # a session is contact, not a risk assessment: the alert is still open
    expect(open_alerts_on(page).filter(has_text=RISK_ALERT)).to_have_count(1)
    assert_labelled(page)

    # the risk assessment closes it
    risk = page.get_by_role("form", name="Suicide-risk assessment")
    risk.get_by_label("Risk level").select_option("low")
    risk.get_by_label("How it was assessed").select_option("c-ssrs")
    risk.get_by_label("Risk and protective factors").fill(
        "exam stress, passive thoughts only, no plan or intent, engaged in treatment"
    )
    risk.get_by_label("Plan").fill(plan)
    screenshot(page, "journey-therapist-3-risk-form", page.locator("#form-risk"))
    risk.get_by_role("button", name="Record risk assessment").click()
    expect(
        page.get_by_text("Risk assessment recorded; the alerts it answers are closed.")
    ).to_be_visible()
    expect(open_alerts_on(page).filter(has_text=RISK_ALERT)).to_have_count(0)
    expect(attention(page).get_by_text("suicide-risk assessment", exact=False)).to_have_count(0)
    expect(page.locator("#form-risk")).to_contain_text("No open alert waits for an assessment.")
    assert_labelled(page)
    screenshot(page, "journey-therapist-4-patient-after")

    # after: gone from the board too
    page.goto("/caseload")
    board_row = page.get_by_role("row").filter(
        has=page.get_by_role("link", name=dev_name, exact=True)
    )
    expect(board_row.locator(".alert").filter(has_text=RISK_ALERT)).to_have_count(0)
    screenshot(page, "journey-therapist-5-caseload-after")


# --- the prescriber ----------------------------------------------------------------------------


def register_new_patient(page: Page, mrn: str, given: str, family: str) -> None:
    """A new referral, registered from the patients page: the registrar joins the team."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    page.get_by_role("link", name="Register a patient").click()
    form = page.get_by_role("form", name="Register a patient")
    form.get_by_label("Medical record number (MRN)").fill(mrn)
    form.get_by_label("Given name").fill(given)
    form.get_by_label("Family name").fill(family)
    form.get_by_label("Birth date").fill("1991-04-17")
    choose(form.get_by_label("Sex assigned at birth"), "male")
    form.get_by_label("Needs an interpreter?").select_option(label="No")
    form.get_by_label("Telehealth").select_option("either")
    assert_labelled(page)
    form.get_by_role("button", name="Register").click()
    expect(page.get_by_role("status")).to_have_text("Patient registered; you are on the care team.")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{given} {family}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(mrn)


def test_prescriber_starts_lithium_and_orders_its_level(page: Page) -> None:
    mrn = f"JRN-{uuid.uuid4().hex[:8].upper()}"
    reason = unique("Trough 12 h after the evening dose, day 5-7 of lithium")
    due_by = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()
    sign_in(page, "prescriber@demo")
    register_new_patient(page, mrn, "Tomas", "Lindqvist")

    # lithium started: on the medication list, its monitoring on the page
    start = page.get_by_role("form", name="Start a medication")
    start.get_by_label("Drug").fill("lithium carbonate")
    start.get_by_label("RxNorm code").fill("42351")
    start.get_by_label("Amount").fill("400")
    start.get_by_label("Unit").select_option("mg")
    start.get_by_label("How often").select_option("at-bedtime")
    start.get_by_label("Route").select_option("oral")
    start.get_by_label("Indication").fill("Bipolar I disorder, maintenance")
    start.get_by_label("Substance use disorder treatment?").select_option(label="No")
    screenshot(page, "journey-prescriber-1-start-form", page.locator("#form-start"))
    start.get_by_role("button", name="Start medication").click()
    expect(
        page.get_by_text("Medication started; its monitoring is now on the board.")
    ).to_be_visible()
    medications = page.get_by_role("table", name="Medication list")
    row = medications.get_by_role("row").filter(has_text="lithium carbonate")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("400 mg")
    expect(row).to_contain_text("at-bedtime")
    expect(row).to_contain_text("active")
    level = (
        attention(page).get_by_role("listitem").filter(has_text="lithium carbonate: lithium level")
    )
    expect(level).to_have_count(1)
    expect(level).to_contain_text(f"by {due_by}")
    # the baseline tests were due before the first dose; the first level a week after it
    baseline = attention(page).locator("li.overdue").filter(has_text="lithium carbonate: eGFR")
    expect(baseline).to_contain_text("baseline")
    assert_labelled(page)
    screenshot(page, "journey-prescriber-2-started")

    # its lithium level ordered: an open order the lab result form offers
    order = page.get_by_role("form", name="Order a lab test")
    order.get_by_label("LOINC code").fill("14334-7")
    order.get_by_label("Test name").fill("lithium level")
    order.get_by_label("Reason").fill(reason)
    order.get_by_label("Due by").fill(due_by)
    order.get_by_role("button", name="Order test").click()
    expect(page.get_by_text("Lab test ordered.")).to_be_visible()
    expect(
        timeline_row(page, f"lab ordered: lithium level (LOINC 14334-7), due by {due_by}")
    ).to_have_count(1)
    result = page.get_by_role("form", name="Lab result for an open order")
    offered = result.get_by_label("Order").locator("option")
    expect(
        offered.filter(has_text=f"lithium level (LOINC 14334-7), due by {due_by}")
    ).to_have_count(1)
    # the monitoring item stays until a result meets it
    expect(level).to_have_count(1)
    assert_labelled(page)
    screenshot(page, "journey-prescriber-3-ordered")


# --- the supporter -----------------------------------------------------------------------------


def test_supporter_records_an_observation_the_therapist_then_reads(
    page: Page, new_page: Callable[[], Page], live_server: LiveServer
) -> None:
    seen = unique("Up at 4 am two nights running, talking fast")
    ben = live_server.patients[BEN]
    sign_in(page, "supporter@demo")
    expect(page).to_have_url(re.compile(r"/shared$"))
    # Ben's consent does not name his demographics: the record goes by its number
    page.get_by_role("link", name=f"Patient {str(ben)[:8]}").click()
    expect(page).to_have_url(re.compile(rf"/patients/{ben}"))
    expect(page.locator("#identity-note")).to_contain_text("Name and birth date not shared")
    form = page.get_by_role("form", name="What you noticed")
    form.get_by_label("What you noticed").select_option(label="sleep")
    form.get_by_label("Compared with usual").select_option(label="less than usual")
    form.get_by_label("What you saw").fill(seen)
    assert_labelled(page)
    screenshot(page, "journey-supporter-1-form", page.locator("#form-observe"))
    form.get_by_role("button", name="Send to the care team").click()
    expect(
        page.get_by_text("Thank you: your observation is recorded for the care team.")
    ).to_be_visible()
    expect(timeline_row(page, seen)).to_have_count(1)
    assert_labelled(page)
    screenshot(page, "journey-supporter-2-sent")

    therapist = new_page()
    sign_in(therapist, "therapist@demo")
    open_from_caseload(therapist, live_server, BEN)
    row = timeline_row(therapist, seen)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("supporter noticed sleep: less-than-usual")
    expect(row).to_contain_text("supporter@demo (supporter)")
    screenshot(therapist, "journey-supporter-3-therapist-reads", row)


# --- the primary-care reader -------------------------------------------------------------------


def not_covered_on(page: Page) -> set[str]:
    """What of Ava's record beyond her demographics and medications the page shows."""
    regions = {
        r for r in BEYOND_MEDICATIONS if page.get_by_role("region", name=r, exact=True).count()
    }
    html = page.content()
    texts = {t for t in NOT_IN_AVAS_CONSENT if t in html}
    team = page.get_by_role("region", name="Summary").get_by_role("heading", name="Care team")
    chart = page.get_by_role("img", name=re.compile("PHQ-9 totals"))
    return (
        regions
        | texts
        | ({"care team"} if team.count() else set())
        | ({"PHQ-9 chart"} if chart.count() else set())
    )


def test_primary_care_sees_who_the_shared_record_is_and_only_what_the_consent_covers(
    page: Page, new_page: Callable[[], Page], live_server: LiveServer
) -> None:
    ava = live_server.patients[AVA]
    ava_name = live_server.names[AVA]
    # What the treating therapist's page of Ava holds and the consent does not cover (so
    # that the checks below cannot pass by looking for what is not there at all).
    therapist = new_page()
    sign_in(therapist, "therapist@demo")
    therapist.goto(f"/patients/{ava}")
    beyond = not_covered_on(therapist)
    assert beyond == {*BEYOND_MEDICATIONS, *NOT_IN_AVAS_CONSENT, "care team", "PHQ-9 chart"}

    sign_in(page, "pcp@demo")
    expect(page).to_have_url(re.compile(r"/shared$"))
    listed = page.get_by_role("row").filter(has=page.get_by_role("link", name=ava_name))
    expect(listed).to_contain_text("1987-05-12")
    expect(listed).to_contain_text("demographics, medication")
    assert_labelled(page)
    screenshot(page, "journey-pcp-1-shared")

    listed.get_by_role("link", name=ava_name).click()
    expect(page).to_have_url(re.compile(rf"/patients/{ava}"))
    # identification: her name, MRN and birth date
    expect(page.get_by_role("heading", level=1)).to_contain_text(ava_name)
    expect(page.get_by_role("heading", level=1)).to_contain_text(AVA)
    summary = page.get_by_role("region", name="Summary")
    expect(summary.get_by_role("definition").first).to_have_text("1987-05-12")
    expect(page.locator("#identity-note")).to_have_count(0)
    expect(page.locator(".basis")).to_contain_text(
        "Shared with you by the patient's consent, for treatment: demographics, medication."
    )
    # what the consent covers: her medications...
    medications = page.get_by_role("table", name="Medication list")
    expect(medications.get_by_role("row").filter(has_text="sertraline")).to_have_count(1)
    # ...and nothing else: no care items, outcomes, messages, team, notes or forms
    assert not_covered_on(page) == set()
    kinds = page.get_by_role("table", name=re.compile("newest first")).locator(
        "tbody tr td:nth-child(4)"
    )
    expect(kinds.first).to_be_visible()
    assert set(kinds.all_inner_texts()) <= {"demographics", "medication"}
    assert_labelled(page)
    screenshot(page, "journey-pcp-2-patient")
