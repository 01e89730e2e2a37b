"""The clinician pages over HTTP, against the demo: the caseload, the patient page and its
charts, the forms (validated and run exactly as the API's routes), break-the-glass, and the
access records every page leaves. All data synthetic."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from adapters.passwords import hash_password
from api.app import create_app
from bootstrap import Services, bootstrap_services
from bootstrap.settings import Settings
from demo import load_demo
from demo.common import THERAPIST
from domain.audit import ReadRefused
from domain.events import Actor, now
from domain.registration import patient_id_for
from domain.vocabulary import Role
from tests.builders import act, appended_since, create_user, post_login, register_patient

PASSWORD = "demo-password-1"
AVA = patient_id_for("DEMO-1001")  # recurrent depression: sertraline, PHQ-9 every 2 weeks
BEN = patient_id_for("DEMO-1002")  # bipolar II: lithium, open lab orders
ACCESS_TOPIC = "domain.audit:AccessRecorded"
UUID_PATTERN = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@dataclass
class Web:
    client: TestClient
    services: Services

    def sign_in(self, email: str) -> Any:
        self.client.cookies.clear()
        answer = post_login(self.client, email, PASSWORD)
        assert answer.status_code == 200, answer.text
        assert "tandem_session" in self.client.cookies
        return answer

    def token(self, email: str) -> dict[str, str]:
        answer = self.client.post("/auth/token", data={"username": email, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def page(self, path: str, status: int = 200) -> str:
        answer = self.client.get(path)
        text: str = answer.text
        assert answer.status_code == status, text[:2000]
        return text

    def position(self) -> int:
        return self.services.clinic.position()

    def recorded_since(self, before: int) -> list[str]:
        """The topics of every event stored after `before`."""
        found = self.services.clinic.recorder.select_notifications(start=before + 1, limit=10_000)
        return [n.topic for n in found]

    def clinical_since(self, before: int) -> list[str]:
        """Everything stored after `before` but access records (which reads leave)."""
        return [t for t in self.recorded_since(before) if t != ACCESS_TOPIC]

    def events(self, patient_id: UUID) -> list[Any]:
        """The patient's events in the record index, once it has caught up with the log."""
        index = self.services.reader.index
        assert index.wait_for(self.position())
        return list(index.view.patient_events(patient_id))

    def accesses(self, **query: Any) -> list[Any]:
        index = self.services.reader.index
        assert index.wait_for(self.position())
        return list(index.view.accesses(**query))


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    yield from served_demo(tmp_path_factory, "web-clinician")


def served_demo(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Web]:
    """The demo served in a store of its own (with an outside therapist as a user)."""
    data = Path(tmp_path_factory.mktemp(name)) / "data"
    services = bootstrap_services(Settings(data_dir=data))
    load_demo(services, PASSWORD)
    create_user(
        services.clinic,
        Actor.system("tests"),
        email="outsider@test",
        display_name="Olive Outsider",
        role=Role.THERAPIST,
        organisation="Elsewhere Clinic",
        password_hash=hash_password(PASSWORD),
    )
    with TestClient(create_app(services=services)) as client:
        yield Web(client, services)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def options(page: str, select_id: str) -> list[tuple[str, str]]:
    """(value, label) of a <select>'s non-empty options."""
    found = re.search(rf'<select id="{select_id}".*?</select>', page, re.S)
    assert found, f"no select #{select_id}"
    return [
        (value, html.unescape(label).strip())
        for value, label in re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)', found.group(0))
    ]


def element(page: str, element_id: str) -> str:
    found = re.search(rf'<(\w+)[^>]*\bid="{re.escape(element_id)}"[^>]*>(.*?)</\1>', page, re.S)
    assert found, f"no element #{element_id}"
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(2)))


def tag_of(page: str, element_id: str) -> str:
    found = re.search(
        rf'<(?:input|select|textarea|fieldset)[^>]*\bid="{re.escape(element_id)}"[^>]*>', page
    )
    assert found, f"no input #{element_id}"
    return found.group(0)


def field_error(page: str, input_id: str) -> str:
    """The refusal shown beside an input, which the input must point to."""
    error_id = f"{input_id}-error"
    tag = tag_of(page, input_id)
    assert error_id in (re.search(r'aria-describedby="([^"]*)"', tag) or ["", ""])[1], tag
    assert 'aria-invalid="true"' in tag
    return element(page, error_id)


def svg(page: str, chart_id: str) -> str:
    found = re.search(rf'<svg[^>]*id="{chart_id}".*?</svg>', page, re.S)
    assert found, f"no chart #{chart_id}"
    return found.group(0)


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


# --- the caseload ---------------------------------------------------------------------------


def test_the_caseload_shows_the_demos_real_due_items_and_alerts(web: Web) -> None:
    web.sign_in("therapist@demo")
    page = web.page("/caseload")
    board = web.client.get("/board", headers=web.token("therapist@demo")).json()

    assert board["totals"]["alerts"] >= 1 and board["totals"]["due"] >= 1  # the demo's stories
    for patient in board["patients"]:
        assert f'href="/patients/{patient["patient_id"]}"' in page
        assert str(escape(patient["name"])) in page
        for item in patient["due"] + patient["overdue"] + patient["alerts"]:
            assert str(escape(item["title"])) in page
    # Alerts are marked in words, not only in colour: one tag per open alert.
    assert page.count('class="tag tag-alert">Alert<') == board["totals"]["alerts"]
    assert f"{board['totals']['alerts']} open alert" in text_of(page)


def test_caseload_filters_are_the_boards_filters(web: Web) -> None:
    web.sign_in("prescriber@demo")
    headers = web.token("prescriber@demo")
    for query in ("scope=team", "scope=team&status=due&kind=review", "status=overdue"):
        page = web.page(f"/caseload?{query}")
        board = web.client.get(f"/board?{query}", headers=headers).json()
        totals = board["totals"]
        assert f"{totals['overdue']} overdue, {totals['due']} due" in text_of(page)
    page = web.page("/caseload?scope=nonsense&kind=%3Cscript%3E")  # ignored, not reflected
    assert "<script>" not in page and 'value="mine" selected' in page


def test_the_caseload_leaves_one_care_access_record_per_patient_read(web: Web) -> None:
    web.sign_in("therapist@demo")
    before = web.position()
    web.page("/caseload")
    new = [a for a in web.accesses(user_id="therapist@demo") if a.position > before]
    caseload = {p for p, _ in web.services.reader.index.view.caseload("therapist@demo")}
    # One board-items read per patient the page's board query found (each on the
    # caseload), none of anyone else.
    read = [a.patient_id for a in new]
    assert read and len(read) == len(set(read)) and set(read) <= caseload
    assert {a.view for a in new} == {"board-items"}


# --- the patient page -----------------------------------------------------------------------


def test_the_patient_page_draws_instrument_trends_with_bands_and_the_dose_timeline(
    web: Web,
) -> None:
    web.sign_in("therapist@demo")
    page = web.page(f"/patients/{AVA}")

    phq9 = svg(page, "chart-phq-9")
    bands = re.findall(r'<rect class="band band-([a-z-]+)"', phq9)
    assert bands == ["minimal", "mild", "moderate", "moderately-severe", "severe"]
    assert '<title id="chart-phq-9-title">PHQ-9 totals over time</title>' in phq9
    assert "Shaded bands: minimal 0-4, mild 5-9" in phq9  # the <desc>
    assert 'aria-labelledby="chart-phq-9-title chart-phq-9-desc"' in phq9
    assert phq9.count('<circle class="point') == 9  # Ava's nine PHQ-9s
    assert "PHQ-9 as a table" in page  # the text fallback

    doses = svg(page, "doses-0")
    assert 'class="dose-line"' in doses and "sertraline: dose over time" in doses
    assert "25 mg from" in doses and "100 mg from" in doses
    words = text_of(page)
    assert "sertraline: dose changes and reasons" in words
    assert "Tolerating 25 mg; nausea mild and settling." in words  # a reason
    assert "low libido and delayed orgasm" in words  # a side effect
    assert "Sertraline side effects: she may stop it herself" in words  # waiting handoff
    assert "Timeline" in words and "Older entries" in words  # her newest page of entries


def test_every_patient_page_view_leaves_one_access_record_naming_its_sections(web: Web) -> None:
    web.sign_in("therapist@demo")
    before = web.position()
    web.page(f"/patients/{AVA}")
    (new,) = [
        a for a in web.accesses(patient_id=AVA, user_id="therapist@demo") if a.position > before
    ]
    assert new.view == "patient-page" and new.basis == "treating-team"
    assert new.sections == ("view", "care", "outcomes", "medications", "events")
    assert web.clinical_since(before) == []
    # Its one answer replays to the very bytes shown.
    replay = web.services.reader.replay(new.access_id)
    assert replay.matches and replay.original_sha256 == new.response_sha256

    before = web.position()
    web.page(f"/patients/{AVA}")
    again = [a for a in web.accesses(patient_id=AVA) if a.position > before]
    assert len(again) == 1  # every view, every time


def timeline_versions(page: str) -> list[int]:
    """The record versions in the patient page's timeline table, top to bottom."""
    section = page.split('id="timeline"', 1)[1].split("</table>", 1)[0]
    return [
        int(v) for v in re.findall(r"<tr(?: class=\"entered-in-error\")?><td>(\d+)</td>", section)
    ]


def test_the_patient_pages_timeline_comes_a_page_at_a_time_each_page_recorded(web: Web) -> None:
    """Newest first, 50 entries at a time, 'Older entries' to the next page until the
    registration; each page's access record names the page it showed."""
    web.sign_in("therapist@demo")
    path, pages, seen = f"/patients/{AVA}", 0, []
    while True:
        before = web.position()
        page = web.page(path)
        versions = timeline_versions(page)
        assert versions == sorted(versions, reverse=True) and 0 < len(versions) <= 50
        (mine,) = [
            a
            for a in web.accesses(patient_id=AVA, user_id="therapist@demo")
            if a.position > before and a.view == "patient-page"
        ]
        (recorded,) = web.services.clinic.events.get(mine.access_id)
        assert recorded.page_size == 50
        asked = int(path.split("before=")[1]) if "before=" in path else None
        assert recorded.page_before == asked
        seen += versions
        pages += 1
        older = re.search(r'href="([^"]*before=\d+)#timeline">Older entries', page)
        if older is None:
            break
        path = html.unescape(older.group(1))
    assert pages >= 2 and seen == sorted(set(seen), reverse=True)
    assert "registered Ava Moreno" in text_of(page) and "Newest entries" in page
    # The treating team sees every entry of her record, once, over the pages.
    assert seen[-1] == 1 and len(seen) == len({e.version for e in web.events(AVA)})


@pytest.mark.parametrize("before", ["0", "-3", "soon", "9" * 40])
def test_a_timeline_page_that_names_no_log_position_is_refused_and_appends_nothing(
    web: Web, before: str
) -> None:
    web.sign_in("therapist@demo")
    start = web.position()
    page = web.page(f"/patients/{AVA}?before={before}", status=422)
    assert "No such page" in page and "before: must be a log position" in page
    assert web.recorded_since(start) == []


def test_a_psychotherapy_note_never_reaches_the_prescribers_page(web: Web) -> None:
    secret = f"Synthetic process note {uuid4().hex}: shame links to her father's view"
    act(
        web.services.clinic,
        AVA,
        lambda r: r.write_psychotherapy_note(THERAPIST, now(), text=secret),
    )
    web.services.reader.index.catch_up()
    web.sign_in("prescriber@demo")
    page = web.page(f"/patients/{AVA}?min_position={web.position()}")
    assert "Ava Moreno" in page  # the page is there...
    assert secret not in html.unescape(page)
    assert "psychotherapy note" not in text_of(page)  # ...without even the entry
    # The therapist who wrote it sees the entry, but timelines never show its text either.
    web.sign_in("therapist@demo")
    mine = web.page(f"/patients/{AVA}")
    assert "psychotherapy note (kept apart" in text_of(mine) and secret not in html.unescape(mine)


def test_primary_care_identifies_the_patient_and_sees_her_medications_only(web: Web) -> None:
    web.sign_in("pcp@demo")
    before = web.position()
    page = web.page(f"/patients/{AVA}")
    words = text_of(page)
    assert "sertraline" in words and "sertraline: dose over time" in words
    # Her consent names her demographics with her medications: whom the list is about.
    assert re.search(r"<h1>Ava Moreno", page) and "Born 1987-" in words
    assert (
        "Shared with you by the patient's consent, for treatment: demographics, medication."
        in words
    )
    assert 'id="identity-note"' not in page
    for absent in (
        "Needs attention",
        "Outcomes",
        "Care team",
        "progress note",
        "Functional recommendations",
        "session",
    ):
        assert absent not in words, absent
    assert 'id="chart-phq-9"' not in page  # (a dose's reason may quote a PHQ-9 total)
    assert 'action="/patients/' + str(AVA) + "/forms/" not in page  # no forms: not the team
    new = [a for a in web.accesses(patient_id=AVA, user_id="pcp@demo") if a.position > before]
    (record,) = new  # one page view, one access record
    assert record.view == "patient-page" and record.sections == ("view", "medications")
    assert set(record.classes) == {"medication", "demographics"} and record.basis == "consent"
    # ...and one row in her accounting of disclosures, naming the page's sections.
    accounting = web.client.get(
        f"/compliance/disclosures/{AVA}",
        params={"min_position": web.position()},
        headers=web.token("compliance@demo"),
    ).json()
    rows = [d for d in accounting["disclosures"] if d["access_id"] == str(record.access_id)]
    assert [d["description"] for d in rows] == [
        "patient page (view, medications) of the record: demographics, medication"
    ]
    assert web.services.reader.replay(record.access_id).matches


def test_without_demographics_in_the_consent_the_reader_is_told_what_it_covers(web: Web) -> None:
    cara = patient_id_for("DEMO-1003")  # her Part 2 consent names her medications alone
    web.sign_in("pcp@demo")
    listing = text_of(web.page("/shared"))
    assert f"Patient {str(cara)[:8]} (name and birth date not shared)" in listing
    assert "Ava Moreno" in listing and "not shared" in listing
    page = web.page(f"/patients/{cara}")
    assert re.search(rf"<h1>Patient {str(cara)[:8]}", page)
    note = element(page, "identity-note")
    assert "Name and birth date not shared." in note
    assert "It covers medication, for treatment." in " ".join(note.split())
    assert "Born" not in text_of(page)


def test_a_school_counselor_sees_the_consented_functional_and_measure_data(web: Web) -> None:
    web.sign_in("counselor@demo")
    page = web.page(f"/patients/{patient_id_for('DEMO-1004')}")
    words = text_of(page)
    assert "Functional recommendations" in words and "school:" in words
    assert "Medications" not in words and "Needs attention" not in words
    assert "education-support" in words  # read for the consent's purpose by default


# --- forms ----------------------------------------------------------------------------------


def sertraline(page: str) -> str:
    return next(
        v for v, label in options(page, "dose-medication-id") if label.startswith("sertraline")
    )


def test_a_dose_change_through_the_form_is_recorded_and_shown(web: Web) -> None:
    web.sign_in("prescriber@demo")
    page = web.page(f"/patients/{AVA}")
    reason = f"Residual sexual side effects; reduce (form test {uuid4().hex[:8]})"
    answer = web.client.post(
        f"/patients/{AVA}/forms/dose",
        data={
            "csrf": csrf_of(page),
            "medication_id": sertraline(page),
            "dose.amount": "75",
            "dose.unit": "mg",
            "reason": reason,
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:2000]
    location = answer.headers["location"]
    found = re.search(r"min_position=(\d+)", location)
    assert found, location
    position = int(found.group(1))
    assert position <= web.position()
    stored = web.events(AVA)
    change = next(r for r in reversed(stored) if r.kind == "DoseChanged")
    assert change.payload["reason"] == reason and change.author == "prescriber@demo"
    assert change.position == position

    shown = web.page(location)
    assert "Dose change recorded." in shown
    assert f"75 mg</td><td>{escape(reason)}" in shown  # in the table of changes
    assert "75 mg from" in svg(shown, "doses-0")


def test_a_negative_dose_is_refused_beside_the_dose_input_and_nothing_is_recorded(
    web: Web,
) -> None:
    web.sign_in("prescriber@demo")
    page = web.page(f"/patients/{AVA}")
    version = web.services.clinic.patient(AVA).version
    before = web.position()
    answer = web.client.post(
        f"/patients/{AVA}/forms/dose",
        data={
            "csrf": csrf_of(page),
            "medication_id": sertraline(page),
            "dose.amount": "-25",
            "dose.unit": "mg",
            "reason": "typed the wrong sign",
        },
    )
    assert answer.status_code == 422
    shown = answer.text
    assert field_error(shown, "dose-dose-amount") == "must be greater than 0"
    assert 'value="-25"' in tag_of(shown, "dose-dose-amount")  # the input is kept...
    assert element(shown, "dose-reason") == "typed the wrong sign"  # ...all of it
    assert 'role="alert"' in shown and 'href="#dose-dose-amount"' in shown  # the summary
    assert "aria-invalid" not in tag_of(shown, "dose-reason")  # only the refused field
    # Nothing recorded: the record did not move, and only the re-read page's access records
    # were stored.
    assert web.services.clinic.patient(AVA).version == version
    assert web.clinical_since(before) == []


def test_an_out_of_range_answer_is_refused_on_its_item_and_nothing_is_recorded(web: Web) -> None:
    web.sign_in("therapist@demo")
    page = web.page(f"/patients/{AVA}")
    version = web.services.clinic.patient(AVA).version
    before = web.position()
    answers = {f"answers.{n}": "1" for n in range(1, 9)}
    answer = web.client.post(
        f"/patients/{AVA}/forms/phq-9",
        data={"csrf": csrf_of(page), **answers, "answers.9": "5"},
    )
    assert answer.status_code == 422
    shown = answer.text
    assert field_error(shown, "phq-9-answers-9") == "5 is outside 0-3"
    assert 'data-field="answers.9"' in shown
    assert 'value="5"' in tag_of(shown, "phq-9-answers-9")
    assert 'value="1"' in tag_of(shown, "phq-9-answers-3")
    assert "aria-invalid" not in tag_of(shown, "phq-9-answers-8")

    # Not a number (the schema refuses it), then a required item left out (the domain does).
    gad7 = {f"answers.{n}": "1" for n in range(1, 8)}
    answer = web.client.post(
        f"/patients/{AVA}/forms/gad-7", data={"csrf": csrf_of(page), **gad7, "answers.2": "two"}
    )
    assert answer.status_code == 422
    assert field_error(answer.text, "gad-7-answers-2") == "is not a whole number"
    answer = web.client.post(
        f"/patients/{AVA}/forms/gad-7", data={"csrf": csrf_of(page), **gad7, "answers.7": ""}
    )
    assert answer.status_code == 422
    assert field_error(answer.text, "gad-7-answers-7") == "is required"
    assert web.services.clinic.patient(AVA).version == version
    assert web.clinical_since(before) == []


def test_a_questionnaire_through_the_form_reaches_the_chart(web: Web) -> None:
    # A patient of its own: Ava's chart keeps the demo's nine PHQ-9s for the tests that read it.
    patient = register_patient(
        web.services.clinic,
        THERAPIST,
        now() - timedelta(days=30),
        join_team=True,
        mrn=f"T-{uuid4().hex[:10]}",
        given_name="Quinn",
        family_name="Synthetic",
        birth_date=date(1990, 5, 6),
        sex_at_birth="female",
    ).aggregate_id
    baseline = {str(n): 1 for n in range(1, 9)} | {"9": 0}  # no item-9 alert
    act(
        web.services.clinic,
        patient,
        lambda r: r.answer_questionnaire(
            THERAPIST, now() - timedelta(days=14), instrument="phq-9", answers=baseline
        ),
    )
    web.sign_in("therapist@demo")
    page = web.page(f"/patients/{patient}?min_position={web.position()}")
    assert svg(page, "chart-phq-9").count("<circle") == 1
    answers = {f"answers.{n}": "0" for n in range(1, 10)}
    answer = web.client.post(
        f"/patients/{patient}/forms/phq-9",
        data={"csrf": csrf_of(page), **answers, "answers.10": ""},
    )
    assert answer.status_code == 200 and "PHQ-9 recorded." in answer.text  # after the 303
    assert svg(answer.text, "chart-phq-9").count("<circle") == 2


def test_attendance_and_its_note_are_validated_together_then_recorded_together(web: Web) -> None:
    web.sign_in("therapist@demo")
    page = web.page(f"/patients/{BEN}")
    session = options(page, "attended-session-id")[0][0]  # booked in the past, still open
    before = web.position()
    refused = web.client.post(
        f"/patients/{BEN}/forms/attended",
        data={"csrf": csrf_of(page), "session_id": "", "text": "", "clinical_time": "yesterday"},
    )
    assert refused.status_code == 422
    assert field_error(refused.text, "attended-session-id") == "is required"
    assert field_error(refused.text, "attended-text") == "is required"
    # In plain words, once (both commands of the form refuse the same time).
    assert field_error(refused.text, "attended-clinical-time") == (
        "is not a date and time: write it as 2026-03-02T10:50-05:00"
    )
    assert web.clinical_since(before) == []

    note = f"Social rhythm metric reviewed (form test {uuid4().hex[:8]})"
    done = web.client.post(
        f"/patients/{BEN}/forms/attended",
        data={
            "csrf": csrf_of(page),
            "session_id": session,
            "text": note,
            "modality": "interpersonal-social-rhythm",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text[:2000]
    kinds = [r.kind for r in web.events(BEN)[-2:]]
    assert kinds == ["SessionAttended", "ProgressNoteWritten"]
    shown = web.page(done.headers["location"])
    assert session not in dict(options(shown, "attended-session-id"))  # closed now
    assert f"progress note: {note}" in text_of(shown)


def test_a_lab_result_for_an_open_order_takes_the_orders_code(web: Web) -> None:
    web.sign_in("prescriber@demo")
    page = web.page(f"/patients/{BEN}")
    order, label = next(o for o in options(page, "lab-order-id") if "Lithium" in o[1])
    before = web.position()
    refused = web.client.post(
        f"/patients/{BEN}/forms/lab",
        data={"csrf": csrf_of(page), "order_id": order, "final": "true"},
    )
    assert refused.status_code == 422
    assert "either a numeric value or a value_text" in field_error(refused.text, "lab-value-text")
    assert web.clinical_since(before) == []

    done = web.client.post(
        f"/patients/{BEN}/forms/lab",
        data={
            "csrf": csrf_of(page),
            "order_id": order,
            "value": "0.8",
            "unit": "mmol/L",
            "reference_low": "0.6",
            "reference_high": "1.2",
            "final": "true",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text[:2000]
    result = web.events(BEN)[-1]
    assert result.kind == "LabResulted" and result.payload["loinc"] == "14334-7"
    assert order not in dict(options(web.page(done.headers["location"]), "lab-order-id"))
    assert "Lithium" in label


def test_the_domain_decides_who_records_what(web: Web) -> None:
    web.sign_in("prescriber@demo")
    page = web.page(f"/patients/{BEN}")
    order = options(page, "lab-order-id")[0][0]
    before = web.position()
    unknown = web.client.post(  # an order the record does not hold
        f"/patients/{BEN}/forms/lab",
        data={"csrf": csrf_of(page), "order_id": str(uuid4()), "value_text": "negative"},
    )
    assert unknown.status_code == 422
    assert field_error(unknown.text, "lab-order-id") == "is not one of this record's lab orders"

    web.sign_in("therapist@demo")
    page = web.page(f"/patients/{BEN}")
    assert 'id="form-lab"' not in page  # results are the orderers' (prescriber, primary care)
    answer = web.client.post(
        f"/patients/{BEN}/forms/lab",
        data={"csrf": csrf_of(page), "order_id": order, "value_text": "negative"},
    )
    assert answer.status_code == 403
    assert "Not permitted" in element(answer.text, "error-summary-title").join(
        re.findall(r'class="error-summary".*?</div>', answer.text, re.S)
    )
    assert web.clinical_since(before) == []


def test_a_message_and_its_acknowledgement(web: Web) -> None:
    web.sign_in("therapist@demo")
    page = web.page(f"/patients/{AVA}")
    subject = f"Form test {uuid4().hex[:8]}"
    refused = web.client.post(
        f"/patients/{AVA}/forms/message",
        data={"csrf": csrf_of(page), "subject": subject, "body": "Please call her."},
    )
    assert refused.status_code == 422
    assert field_error(refused.text, "message-to") == "is required"
    assert f'value="{subject}"' in refused.text

    sent = web.client.post(
        f"/patients/{AVA}/forms/message",
        data={
            "csrf": csrf_of(page),
            "to": "prescriber@demo",
            "subject": subject,
            "body": "Please call her.",
            "regarding": "1, 2",
        },
    )
    assert sent.status_code == 200 and "Message sent." in sent.text

    web.sign_in("prescriber@demo")
    page = web.page(f"/patients/{AVA}")
    waiting = re.search(
        rf'name="message_id" value="({UUID_PATTERN})">\s*<button type="submit">Acknowledge'
        rf'<span class="visually-hidden"> “{subject}”',
        page,
    )
    assert waiting, "no Acknowledge button for the recipient"
    done = web.client.post(
        f"/patients/{AVA}/forms/acknowledge",
        data={"csrf": csrf_of(page), "message_id": waiting.group(1)},
    )
    assert done.status_code == 200 and "Message acknowledged." in done.text
    assert subject not in done.text.split('id="messages"')[1].split("</section>")[0]
    again = web.client.post(
        f"/patients/{AVA}/forms/acknowledge",
        data={"csrf": csrf_of(page), "message_id": waiting.group(1)},
    )
    assert again.status_code == 409 and "already acknowledged" in again.text


def test_a_dose_above_the_usual_maximum_shows_the_field_error_and_offers_the_override(
    web: Web,
) -> None:
    web.sign_in("prescriber@demo")
    page = web.page(f"/patients/{AVA}")
    assert "usual adult maximum" in page and 'id="dose-override-reason"' in page
    version = web.services.clinic.patient(AVA).version
    before = web.position()
    form = {
        "csrf": csrf_of(page),
        "medication_id": sertraline(page),
        "dose.amount": "300",
        "dose.unit": "mg",
        "reason": "no response at 200 mg",
    }
    answer = web.client.post(f"/patients/{AVA}/forms/dose", data=form)
    assert answer.status_code == 409
    assert "usual adult maximum of 200 mg/day" in field_error(answer.text, "dose-dose-amount")
    unit = web.client.post(f"/patients/{AVA}/forms/dose", data={**form, "dose.unit": "g"})
    assert unit.status_code == 422
    assert "dosed in mg, not g" in field_error(unit.text, "dose-dose-unit")
    assert web.services.clinic.patient(AVA).version == version
    assert web.clinical_since(before) == []

    why = f"specialist advice (form test {uuid4().hex[:8]})"
    done = web.client.post(
        f"/patients/{AVA}/forms/dose",
        data={**form, "override_reason": why},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text[:2000]
    change = next(r for r in reversed(web.events(AVA)) if r.kind == "DoseChanged")
    assert change.payload["override_reason"] == why
    assert why in web.page(done.headers["location"])  # on the page's timeline


def test_a_therapist_has_no_dose_order_form_but_records_a_reported_dose(web: Web) -> None:
    web.sign_in("therapist@demo")
    page = web.page(f"/patients/{AVA}")
    assert 'id="form-dose"' not in page and 'id="form-reported"' in page
    medication = next(
        v for v, label in options(page, "reported-medication-id") if label.startswith("sertraline")
    )
    note = f"says she takes 50 mg, not 100 (form test {uuid4().hex[:8]})"
    answer = web.client.post(
        f"/patients/{AVA}/forms/reported",
        data={
            "csrf": csrf_of(page),
            "medication_id": medication,
            "dose.amount": "50",
            "dose.unit": "mg",
            "note": note,
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:2000]
    reported = next(r for r in reversed(web.events(AVA)) if r.kind == "DoseReported")
    assert reported.author == "therapist@demo" and reported.payload["note"] == note
    assert "an observation, not an order" in reported.summary


def test_a_post_without_the_csrf_token_is_refused_and_records_nothing(web: Web) -> None:
    web.sign_in("prescriber@demo")
    page = web.page(f"/patients/{AVA}")
    form = {
        "medication_id": sertraline(page),
        "dose.amount": "50",
        "dose.unit": "mg",
        "reason": "forged",
    }
    before = web.position()
    for token in (None, "0" * 64):
        data = form if token is None else {**form, "csrf": token}
        answer = web.client.post(f"/patients/{AVA}/forms/dose", data=data)
        assert answer.status_code == 403
    glass = web.client.post(f"/patients/{AVA}/break-glass", data={"reason": "forged"})
    assert glass.status_code == 403
    assert web.position() == before  # not even a read


# --- refusals and break-the-glass -----------------------------------------------------------


def test_an_outsider_gets_the_same_refusal_for_a_real_and_an_unknown_patient(web: Web) -> None:
    web.sign_in("outsider@test")
    before = web.position()
    real = web.page(f"/patients/{AVA}", status=403)
    unknown_id = uuid4()
    unknown = web.page(f"/patients/{unknown_id}", status=403)
    assert real.replace(str(AVA), "ID") == unknown.replace(str(unknown_id), "ID")
    assert "Ava" not in real and "sertraline" not in real
    assert 'action="/patients/' + str(AVA) + '/break-glass"' in real
    # A refused read discloses nothing; each is recorded for compliance, alike.
    assert appended_since(web.services.clinic, before) == [ReadRefused, ReadRefused]


def test_break_the_glass_opens_the_record_with_a_notice_and_is_in_the_access_log(
    web: Web,
) -> None:
    web.sign_in("outsider@test")
    page = web.page(f"/patients/{AVA}", status=403)
    before = web.position()
    blank = web.client.post(
        f"/patients/{AVA}/break-glass", data={"csrf": csrf_of(page), "reason": "   "}
    )
    assert blank.status_code == 422
    assert 'id="glass-reason-error" role="alert"' in blank.text
    assert web.position() == before

    reason = f"Unresponsive in the emergency department ({uuid4().hex[:6]})"
    answer = web.client.post(
        f"/patients/{AVA}/break-glass", data={"csrf": csrf_of(page), "reason": reason}
    )
    assert answer.status_code == 200
    words = text_of(answer.text)
    assert "This access is recorded with your reason and will be reviewed by compliance." in words
    assert "Ava Moreno" in words and "sertraline" in words
    logged = web.accesses(patient_id=AVA, basis=("break-the-glass",))
    mine = [a for a in logged if a.user_id == "outsider@test" and a.emergency_reason == reason]
    assert len(mine) == 1 and mine[0].view == "patient-page" and mine[0].position > before
    assert mine[0].sections == ("view",)  # an emergency read: the view alone
    # The emergency read is one read: the page is refused again afterwards.
    web.page(f"/patients/{AVA}", status=403)


def test_roles_without_a_right_to_emergency_access_are_not_offered_it(web: Web) -> None:
    web.sign_in("employer@demo")
    page = web.page(f"/patients/{patient_id_for('DEMO-1003')}", status=403)
    assert "break-glass" not in page


def test_the_api_keeps_its_paths_shared_with_the_pages(web: Web) -> None:
    web.sign_in("therapist@demo")
    headers = web.token("therapist@demo")  # a bearer token goes to the API, cookie or not
    summary = web.client.get(f"/patients/{AVA}", headers=headers)
    assert summary.status_code == 200 and summary.json()["view"] == "summary"
    glass = web.client.post(
        f"/patients/{AVA}/break-glass", json={"reason": "API emergency read"}, headers=headers
    )
    assert glass.status_code == 200 and glass.json()["basis"] == "break-the-glass"
    web.client.cookies.clear()
    anonymous = web.client.get(f"/patients/{AVA}")
    assert anonymous.status_code == 401  # an API client without a token
    browser = web.client.get(
        f"/patients/{AVA}", headers={"Accept": "text/html"}, follow_redirects=False
    )
    assert browser.status_code == 303 and browser.headers["location"].startswith("/login")


def test_a_malformed_patient_id_gets_the_same_refusal(web: Web) -> None:
    web.sign_in("therapist@demo")
    assert "This record is not available to you" in web.page("/patients/not-a-uuid", status=403)


def test_every_control_has_a_label_and_every_id_is_unique(web: Web) -> None:
    pages = []
    for who, path, status in (
        ("therapist@demo", "/caseload", 200),
        ("therapist@demo", f"/patients/{BEN}", 200),
        ("prescriber@demo", f"/patients/{AVA}", 200),
        ("pcp@demo", f"/patients/{AVA}", 200),
        ("outsider@test", f"/patients/{AVA}", 403),
    ):
        web.sign_in(who)
        pages.append(web.page(path, status))
    for page in pages:
        ids = re.findall(r'\bid="([^"]+)"', page)
        assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
        labelled = set(re.findall(r'<label for="([^"]+)"', page))
        for control in re.findall(r"<(?:input|select|textarea)\b[^>]*>", page):
            if 'type="hidden"' in control:
                continue
            found = re.search(r'\bid="([^"]+)"', control)
            assert found and found.group(1) in labelled, control
        for described in re.findall(r'aria-(?:describedby|labelledby)="([^"]+)"', page):
            assert all(part in ids for part in described.split()), described
