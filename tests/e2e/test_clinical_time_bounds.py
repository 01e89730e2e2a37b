"""Clinical times have sane bounds at the write path, and no stored entry can break a page.

A questionnaire dated year 1 used to be accepted, and from then on the patient's page and
their own /me answered 500 for every viewer (the chart's date range overflowed)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.passwords import hash_password
from domain.events import Actor
from domain.patient import PatientRecord
from domain.vocabulary import Role
from tests.builders import appended_since, create_user, post_login
from tests.e2e.conftest import PASSWORD, Api
from tests.e2e.test_api_records import PATIENT, SERTRALINE, post, registered

PHQ9 = {"instrument": "phq-9", "answers": {**{str(i): 1 for i in range(1, 9)}, "9": 0}}
GAD7 = {"instrument": "gad-7", "answers": {str(i): 2 for i in range(1, 8)}}
THERAPIST = Actor(user_id="therapist@test", role=Role.THERAPIST, organisation="Test Clinic")


def refused_field(answer: Any) -> list[str]:
    assert answer.status_code == 422, answer.text
    return [e["field"] for e in answer.json()["fields"]]


@pytest.mark.parametrize(
    ("clinical_time", "why"),
    [
        ("0001-01-01T00:00:00+00:00", "before 1900"),
        ("1899-12-31T12:00:00+00:00", "before 1900"),
        ("1970-06-01T09:00:00+00:00", "birth date"),  # the patient was born in 1988
    ],
)
def test_a_clinical_time_before_1900_or_before_birth_is_refused_and_nothing_appended(
    api: Api, clinical_time: str, why: str
) -> None:
    patient = registered(api)
    before = api.position()
    answer = post(
        api,
        "therapist@test",
        f"/patients/{patient}/questionnaires",
        {**PHQ9, "clinical_time": clinical_time},
    )
    assert refused_field(answer) == ["clinical_time"]
    assert why in answer.text
    assert appended_since(api.services.clinic, before) == []
    on_the_day = post(
        api,
        "therapist@test",
        f"/patients/{patient}/questionnaires",
        {**PHQ9, "clinical_time": "1988-07-14T08:00:00+00:00"},
    )
    assert on_the_day.status_code == 201, on_the_day.text


def test_a_birth_date_before_1900_and_a_session_years_ahead_are_refused(api: Api) -> None:
    before = api.position()
    body = {**PATIENT, "mrn": f"H-{uuid.uuid4().hex[:8]}", "birth_date": "1066-10-14"}
    answer = api.client.post("/patients", json=body, headers=api.auth("therapist@test"))
    assert refused_field(answer) == ["birth_date"]
    assert appended_since(api.services.clinic, before) == []

    patient = registered(api)
    before = api.position()
    session = {"duration_minutes": 50, "mode": "telehealth", "modality": "cbt"}
    far = (datetime.now(UTC) + timedelta(days=3 * 365)).isoformat()
    answer = post(
        api, "therapist@test", f"/patients/{patient}/sessions", {**session, "starts_at": far}
    )
    assert refused_field(answer) == ["starts_at"]
    assert appended_since(api.services.clinic, before) == []
    soon = (datetime.now(UTC) + timedelta(days=300)).isoformat()
    answer = post(
        api, "therapist@test", f"/patients/{patient}/sessions", {**session, "starts_at": soon}
    )
    assert answer.status_code == 201, answer.text


def store_unchecked(api: Api, patient: str, command: Any, **changes: Any) -> None:
    """Run `command` on the record with valid input, then store its events with `changes`
    made to them afterwards: straight into the event store, past every check, as an entry
    stored before the bounds existed would be."""
    clinic = api.services.clinic
    record = clinic.patient(uuid.UUID(patient))
    command(record)
    events = [e.model_copy(update=changes) for e in record.collect_events()]
    clinic.recorder.insert_events([clinic.mapper.to_stored_event(e) for e in events])


def test_stored_entries_with_extreme_times_still_render_every_page(api: Api) -> None:
    patient = registered(api)
    post(api, "prescriber@test", f"/patients/{patient}/medications", SERTRALINE)
    now = datetime.now(UTC)
    year_one = datetime(1, 1, 1, tzinfo=UTC)
    year_max = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
    # The patient's only PHQ-9 dated year 1 (the entry of the issue), and their only GAD-7
    # in year 9999: a clinical time after its recording time does not load, so it comes
    # with a recording time as far ahead (a clock gone wrong).
    store_unchecked(
        api,
        patient,
        lambda r: r.answer_questionnaire(THERAPIST, now, **PHQ9),
        clinical_time=year_one,
    )
    store_unchecked(
        api,
        patient,
        lambda r: r.answer_questionnaire(THERAPIST, now, **GAD7),
        clinical_time=year_max,
        timestamp=year_max,
    )
    record: PatientRecord = api.services.clinic.patient(uuid.UUID(patient))
    medication = next(iter(record.state.medications))
    prescriber = Actor(user_id="prescriber@test", role=Role.PRESCRIBER, organisation="Test Clinic")
    store_unchecked(
        api,
        patient,
        lambda r: r.change_dose(
            prescriber,
            now,
            medication_id=medication,
            dose={"amount": "50", "unit": "mg"},
            reason="titration",
        ),
        clinical_time=year_one,
    )
    store_unchecked(
        api,
        patient,
        lambda r: r.schedule_session(
            THERAPIST,
            now,
            session_id=uuid.uuid4(),
            starts_at=now + timedelta(days=1),
            duration_minutes=50,
            mode="telehealth",
            modality="cbt",
        ),
        starts_at=year_max,
    )
    patient_user = f"patient-{uuid.uuid4().hex[:6]}@test"
    create_user(
        api.services.clinic,
        Actor.system("tests"),
        email=patient_user,
        display_name="Rowan",
        role=Role.PATIENT,
        organisation="self",
        password_hash=hash_password(PASSWORD),
        patient_id=uuid.UUID(patient),
    )
    assert api.services.reader.index.wait_for(api.position())

    pages = {
        "therapist@test": [
            f"/patients/{patient}",
            f"/patients/{patient}/report.pdf",
            "/caseload",
        ],
        "prescriber@test": [f"/patients/{patient}"],
        patient_user: ["/me", f"/patients/{patient}/report.pdf"],
    }
    for email, paths in pages.items():
        api.client.cookies.clear()
        signed_in = post_login(api.client, email, PASSWORD, follow_redirects=False)
        assert signed_in.status_code == 303, signed_in.text
        for path in paths:
            page = api.client.get(path)
            assert page.status_code == 200, (email, path, page.text[:3000])
            if path.endswith(("/me", patient)):
                assert "outside the chart" in page.text, (email, path)
    api.client.cookies.clear()
    for kind in ("view", "timeline", "events"):
        answer = api.client.get(f"/patients/{patient}/{kind}", headers=api.auth("therapist@test"))
        assert answer.status_code == 200, (kind, answer.text[:500])


def test_a_late_entry_dated_before_earlier_answers_still_renders_the_page(api: Api) -> None:
    patient = registered(api)
    post(api, "prescriber@test", f"/patients/{patient}/medications", SERTRALINE)
    assert (
        post(api, "therapist@test", f"/patients/{patient}/questionnaires", PHQ9).status_code == 201
    )
    late = {**PHQ9, "clinical_time": (datetime.now(UTC) - timedelta(days=10)).isoformat()}
    assert (
        post(api, "therapist@test", f"/patients/{patient}/questionnaires", late).status_code == 201
    )
    assert api.services.reader.index.wait_for(api.position())
    signed_in = post_login(api.client, "therapist@test", PASSWORD, follow_redirects=False)
    assert signed_in.status_code == 303, signed_in.text
    page = api.client.get(f"/patients/{patient}")
    assert page.status_code == 200, page.text[:3000]
    api.client.cookies.clear()
    outcomes = api.client.get(f"/patients/{patient}/view", headers=api.auth("therapist@test"))
    assert outcomes.status_code == 200, outcomes.text[:500]
