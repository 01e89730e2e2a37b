"""A prescriber's other medication forms on the patient page, over HTTP against the demo:
switch to another medication, taper, change the timing or split a dose. Each goes through
the one write path (the command table's schema and the record's own checks, dose ranges
included); a refusal is shown beside its field, in plain words, and records nothing. All
data synthetic."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest

from tests.e2e.test_web_clinician import Web, field_error, options, served_demo, text_of
from tests.e2e.test_web_clinician_day import new_patient, open_page, post_form

SERTRALINE = {
    "drug": "sertraline",
    "rxnorm": "36437",
    "dose.amount": "100",
    "dose.unit": "mg",
    "schedule.frequency": "once-daily",
    "route": "oral",
    "indication": "major depressive disorder",
    "sud_treatment": "false",
}


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    yield from served_demo(tmp_path_factory, "web-prescriber-forms")


def on_sertraline(web: Web) -> tuple[UUID, str, str]:
    """A new synthetic patient started on sertraline by the demo prescriber: (patient,
    medication id, the page after the start)."""
    patient = new_patient(web)
    web.sign_in("prescriber@demo")
    started = post_form(web, patient, "start", open_page(web, patient), **SERTRALINE)
    assert started.status_code == 303, started.text[:2000]
    medication = web.events(patient)[-1].payload["medication_id"]
    return patient, medication, web.page(started.headers["location"])


def refused_and_nothing_recorded(web: Web, patient: UUID, form: str, page: str, **data: Any) -> str:
    before = web.position()
    refused = post_form(web, patient, form, page, **data)
    assert refused.status_code in (409, 422), refused.text[:2000]
    assert web.clinical_since(before) == []
    return str(refused.text)


def test_the_medication_forms_are_the_prescribers(web: Web) -> None:
    patient, _medication, shown = on_sertraline(web)
    for form in ("switch", "taper", "timing"):
        assert f'id="form-{form}"' in shown
    web.sign_in("therapist@demo")
    page = open_page(web, patient)
    for form in ("switch", "taper", "timing"):
        assert f'id="form-{form}"' not in page


def test_a_switch_stops_the_old_medication_and_starts_the_new_one(web: Web) -> None:
    patient, medication, shown = on_sertraline(web)
    assert medication in dict(options(shown, "switch-medication-id"))
    switch = {
        "medication_id": medication,
        "drug": "fluoxetine",
        "rxnorm": "4493",
        "dose.amount": "20",
        "dose.unit": "mg",
        "schedule.frequency": "once-daily",
        "indication": "major depressive disorder",
        "cross_taper": "false",
        "reason": "sexual side effects on sertraline",
    }
    page = refused_and_nothing_recorded(
        web, patient, "switch", shown, **{**switch, "dose.amount": "-5", "reason": ""}
    )
    assert field_error(page, "switch-dose-amount") == "must be greater than 0"
    assert field_error(page, "switch-reason") == "is required"
    # Far above any dose of fluoxetine: refused by the dose ranges, whatever the reason.
    page = refused_and_nothing_recorded(
        web, patient, "switch", shown, **{**switch, "dose.amount": "2000"}
    )
    assert "fluoxetine" in field_error(page, "switch-dose-amount")

    done = post_form(web, patient, "switch", shown, **switch)
    assert done.status_code == 303, done.text[:2000]
    switched = web.events(patient)[-1]
    assert switched.kind == "MedicationSwitched"
    assert switched.payload["medication_id"] == medication
    assert switched.payload["drug"] == "fluoxetine"
    assert "route" not in switched.payload  # the old medication's route, oral
    after = web.page(done.headers["location"])
    current = dict(options(after, "stop-medication-id"))
    new = switched.payload["to_medication_id"]
    assert list(current) == [new]
    assert "fluoxetine" in current[new].lower()


def test_a_taper_takes_its_steps_down_and_refuses_one_that_goes_up(web: Web) -> None:
    patient, medication, shown = on_sertraline(web)
    today = date.today()
    steps = {
        "steps.0.on_or_after": (today + timedelta(days=7)).isoformat(),
        "steps.0.dose.amount": "50",
        "steps.0.dose.unit": "mg",
        "steps.1.on_or_after": (today + timedelta(days=21)).isoformat(),
        "steps.1.dose.amount": "25",
        "steps.1.dose.unit": "mg",
    }
    up = {**steps, "steps.1.dose.amount": "75"}
    page = refused_and_nothing_recorded(
        web, patient, "taper", shown, medication_id=medication, reason="remission", **up
    )
    assert "a taper goes down" in field_error(page, "taper-steps-1-dose-amount")
    # A step row half filled: its missing date is named on its own row.
    half = {**steps, "steps.1.on_or_after": ""}
    page = refused_and_nothing_recorded(
        web, patient, "taper", shown, medication_id=medication, reason="remission", **half
    )
    assert field_error(page, "taper-steps-1-on-or-after") == "is required"
    page = refused_and_nothing_recorded(web, patient, "taper", shown, medication_id=medication)
    assert field_error(page, "taper-steps-0-on-or-after")
    page = refused_and_nothing_recorded(
        web, patient, "taper", shown, medication_id=medication, **steps
    )
    assert "is required" in field_error(page, "taper-reason")

    done = post_form(
        web, patient, "taper", shown, medication_id=medication, reason="remission", **steps
    )
    assert done.status_code == 303, done.text[:2000]
    planned, handoff = web.events(patient)[-2:]
    assert planned.kind == "TitrationPlanned" and planned.payload["direction"] == "down"
    assert [s["dose"]["amount"] for s in planned.payload["steps"]] == ["50", "25"]
    # The therapist on the team is told, with the steps.
    assert handoff.kind == "MessageSent" and "Taper of sertraline" in handoff.payload["subject"]
    assert "Taper recorded" in text_of(web.page(done.headers["location"]))


def test_a_split_dose_is_checked_as_its_daily_total(web: Web) -> None:
    patient, medication, shown = on_sertraline(web)
    split = {
        "medication_id": medication,
        "schedule.frequency": "twice-daily",
        "dose_per_administration.amount": "50",
        "dose_per_administration.unit": "mg",
        "reason": "nausea with the single morning dose",
    }
    # 2 x 200 mg is 400 mg a day: above sertraline's usual maximum, so a reason is asked.
    page = refused_and_nothing_recorded(
        web, patient, "timing", shown, **{**split, "dose_per_administration.amount": "200"}
    )
    said = field_error(page, "timing-dose-per-administration-amount")
    assert "400 mg/day is above the usual adult maximum" in said
    page = refused_and_nothing_recorded(
        web, patient, "timing", shown, **{**split, "schedule.frequency": "hourly"}
    )
    assert field_error(page, "timing-schedule-frequency")

    done = post_form(web, patient, "timing", shown, **split)
    assert done.status_code == 303, done.text[:2000]
    changed = web.events(patient)[-1]
    assert changed.kind == "DoseTimingChanged"
    assert changed.payload["schedule"]["frequency"] == "twice-daily"
    assert changed.payload["dose_per_administration"]["amount"] == "50"
