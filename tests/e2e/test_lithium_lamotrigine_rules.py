"""The rule audit's last lithium and lamotrigine rows (issue 13, item 8), driven through the
API: a baseline ECG before lithium with cardiovascular disease or risk factors; levels at
least 3-monthly after year 1 with interacting drugs, renal decline, poor adherence or
pregnancy; lamotrigine re-titrated when restarted after more than 5 half-lives off. And the
layout gate: care reads answered in layout 3 replay to their bytes without these rows."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from application.audited import access_record
from application.reading import ReadRequest
from domain.access import Viewer
from domain.events import Actor
from projections.role_views import CARE_ITEMS
from tests.builders import appended_since
from tests.e2e.conftest import Api
from tests.e2e.test_api_records import post
from tests.e2e.test_coordination import ago, patient_with_team
from tests.e2e.test_dose_ranges import events
from tests.e2e.test_lab_units import LITHIUM
from tests.e2e.test_reassessment import on_board
from tests.e2e.test_rule_audit import _stable_lithium, items, lab, start, stop, woman


def condition(api: Api, patient: str, icd10: str, description: str, days_ago: float) -> None:
    recorded = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/conditions",
        {"icd10": icd10, "description": description, "clinical_time": ago(days=days_ago)},
    )
    assert recorded.status_code == 201, recorded.text


def ecg(api: Api, patient: str, days_ago: float) -> None:
    """An ECG reported as text (LOINC 11524-6, EKG study), on an order of its own."""
    lab(api, patient, "11524-6", days_ago=days_ago, value_text="sinus rhythm, normal intervals")


# --- lithium: baseline ECG ------------------------------------------------------------------


def test_lithium_with_hypertension_on_record_needs_a_baseline_ecg_that_an_ecg_meets(
    api: Api,
) -> None:
    patient = patient_with_team(api)
    condition(api, patient, "I10", "essential hypertension", days_ago=60)
    start(api, patient, LITHIUM, days_ago=3)
    [due] = items(api, patient, "lithium-ecg")
    assert "baseline ECG" in due["title"] and due["status"] == "overdue"
    assert due["for_roles"] == ["prescriber"]

    ecg(api, patient, days_ago=1)
    assert items(api, patient, "lithium-ecg") == []


def test_without_cardiovascular_disease_or_risk_factors_no_ecg_is_due(api: Api) -> None:
    patient = patient_with_team(api)
    condition(api, patient, "F31.81", "bipolar II disorder", days_ago=60)
    # A cardiovascular condition recorded as resolved does not count either.
    condition(api, patient, "E78.5", "hyperlipidaemia", days_ago=50)
    post(
        api,
        "prescriber@test",
        f"/patients/{patient}/conditions",
        {
            "icd10": "E78.5",
            "description": "hyperlipidaemia",
            "status": "resolved",
            "clinical_time": ago(days=40),
        },
    )
    start(api, patient, LITHIUM, days_ago=3)
    assert items(api, patient, "lithium-ecg") == []
    assert items(api, patient, "lithium-renal")  # the other baseline rows are there


# --- lithium: at least 3-monthly after year 1 -----------------------------------------------


def _after_year_1(api: Api, patient: str) -> list[str]:
    """Stable lithium for 500 days, its first after-year-1 level (day 469, 31 days ago)
    in range: the next level's interval depends on what else the record shows."""
    lab(api, patient, "14334-7", "0.7", "mmol/L", days_ago=31)
    return [i["title"] for i in items(api, patient, "lithium-level")]


def _lithium_patient(api: Api) -> tuple[str, str]:
    patient = patient_with_team(api, birth_date="1985-03-01")
    lithium = start(api, patient, LITHIUM, days_ago=500)
    for day in (7, 14):
        lab(api, patient, "14334-7", "0.7", "mmol/L", days_ago=500 - day)
    return patient, lithium


def test_after_year_1_an_interacting_drug_brings_the_next_level_to_3_months(api: Api) -> None:
    patient, _ = _lithium_patient(api)
    start(
        api,
        patient,
        {
            "drug": "lisinopril",
            "rxnorm": "29046",
            "dose": {"amount": "10", "unit": "mg"},
            "schedule": {"frequency": "once-daily"},
            "indication": "hypertension",
        },
        days_ago=60,
    )
    titles = _after_year_1(api, patient)
    assert any("3-monthly (interacting drug)" in t for t in titles), titles


def test_after_year_1_an_egfr_below_60_brings_the_next_level_to_3_months(api: Api) -> None:
    def titles(egfr: str) -> list[str]:
        patient, _ = _lithium_patient(api)
        lab(api, patient, "33914-3", egfr, "mL/min/{1.73_m2}", days_ago=40)
        return _after_year_1(api, patient)

    assert any("3-monthly (eGFR below 60)" in t for t in titles("59"))
    at_60 = titles("60")
    assert any("6-monthly" in t for t in at_60) and not any("eGFR" in t for t in at_60), at_60


def test_after_year_1_poor_adherence_brings_the_next_level_to_3_months(api: Api) -> None:
    def titles(taken: int) -> list[str]:
        patient, lithium = _lithium_patient(api)
        reported = post(
            api,
            "therapist@test",
            f"/patients/{patient}/medications/{lithium}/adherence",
            {
                "period_days": 30,
                "doses_prescribed": 30,
                "doses_taken": taken,
                "clinical_time": ago(days=35),
            },
        )
        assert reported.status_code == 201, reported.text
        return _after_year_1(api, patient)

    assert any("3-monthly (poor adherence)" in t for t in titles(23))  # 77%
    enough = titles(24)  # 80%
    assert not any("adherence" in t for t in enough), enough


def test_after_year_1_pregnancy_brings_the_next_level_to_3_months(api: Api) -> None:
    patient = woman(api, birth_date="1990-05-01")
    _stable_lithium(api, patient, days_ago=500)
    recorded = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/pregnancy-status",
        {"status": "pregnant", "clinical_time": ago(days=40)},
    )
    assert recorded.status_code == 201, recorded.text
    titles = _after_year_1(api, patient)
    assert any("3-monthly (pregnancy)" in t for t in titles), titles


# --- replays: layout 3 keeps its rules ------------------------------------------------------


def test_a_care_read_answered_in_layout_3_replays_without_the_ecg_and_today_shows_it(
    api: Api,
) -> None:
    patient = patient_with_team(api)
    condition(api, patient, "I25.10", "coronary artery disease", days_ago=60)
    start(api, patient, LITHIUM, days_ago=3)
    user = api.services.clinic.find_user("prescriber@test")
    assert user is not None
    viewer = Viewer(user.email, user.role, user.organisation, user.patient_id)
    request = ReadRequest(viewer, UUID(patient), CARE_ITEMS, min_position=api.position())

    # An access record as layout 3 answered it (the records already in the field).
    prepared = api.services.reader.prepare(request, view_format=3)
    actor = Actor(user_id=user.email, role=user.role, organisation=user.organisation)
    record = access_record(request, prepared, actor)
    api.services.writer.create(record)
    old = json.loads(prepared.body)
    replayed = api.services.reader.replay(record.id)
    assert replayed.matches

    def rule_ids(body: dict[str, Any]) -> set[str]:
        return {i["rule"]["id"] for i in body["due"] + body["overdue"] + body["upcoming"]}

    assert "lithium-ecg" not in rule_ids(old)
    assert "lithium-renal" in rule_ids(old)

    # The same read today, in layout 4, shows the ECG, and replays too.
    read = api.client.get(
        f"/patients/{patient}/care",
        params={"min_position": api.position()},
        headers=api.auth("prescriber@test"),
    )
    assert read.status_code == 200, read.text
    assert "lithium-ecg" in rule_ids(read.json())
    assert api.services.reader.replay(UUID(read.headers["X-Access-Id"])).matches


# --- lamotrigine: a restart after more than 5 half-lives re-titrates -------------------------

LAMOTRIGINE = {
    "drug": "lamotrigine",
    "rxnorm": "28439",
    "dose": {"amount": "25", "unit": "mg"},
    "schedule": {"frequency": "once-daily"},
    "indication": "bipolar II depression",
}
VALPROATE = {
    "drug": "divalproex sodium",
    "rxnorm": "266856",
    "dose": {"amount": "750", "unit": "mg"},
    "schedule": {"frequency": "twice-daily"},
    "indication": "bipolar I disorder",
}


def _stopped_lamotrigine(api: Api, patient: str, days_off: float, maintenance: str = "200") -> None:
    """Lamotrigine at `maintenance` mg/day, stopped `days_off` days ago."""
    first = start(api, patient, {**LAMOTRIGINE, "dose": {"amount": "25", "unit": "mg"}}, 120)
    changed = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications/{first}/dose",
        {
            "dose": {"amount": maintenance, "unit": "mg"},
            "reason": "maintenance",
            "clinical_time": ago(days=70),
        },
    )
    assert changed.status_code == 201, changed.text
    stop(api, patient, first, days_ago=days_off)


def _restart(api: Api, patient: str, amount: str, **more: Any) -> Any:
    return post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications",
        {**LAMOTRIGINE, "dose": {"amount": amount, "unit": "mg"}, **more},
    )


def test_a_lamotrigine_restart_after_10_days_off_is_refused_above_the_first_step(
    api: Api,
) -> None:
    patient = patient_with_team(api)
    _stopped_lamotrigine(api, patient, days_off=10)
    before = api.position()
    refused = _restart(api, patient, "200")
    assert refused.status_code == 409, refused.text
    [field] = refused.json()["fields"]
    assert field["field"] == "dose"
    assert "more than 5 half-lives" in field["reason"] and "25 mg/day" in field["reason"]
    assert appended_since(api.services.clinic, before) == []

    # At the first step it is recorded, and the re-titration is on the prescriber's board.
    restarted = _restart(api, patient, "25")
    assert restarted.status_code == 201, restarted.text
    [due] = on_board(api, patient, "lamotrigine-restart")
    assert "re-titrate from the first step" in due["title"] and "10.0 days off" in due["title"]
    assert "re-titrate from the first step" in events(api, patient)[-1]["summary"]

    # A titration plan for the new course meets it.
    planned = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications/{restarted.json()['created_id']}/titration-plan",
        {
            "steps": [
                {
                    "on_or_after": (date.today() + timedelta(days=14)).isoformat(),
                    "dose": {"amount": "50", "unit": "mg"},
                }
            ]
        },
    )
    assert planned.status_code == 201, planned.text
    assert on_board(api, patient, "lamotrigine-restart") == []


def test_a_restart_above_the_first_step_is_recorded_with_an_override_reason(api: Api) -> None:
    patient = patient_with_team(api)
    _stopped_lamotrigine(api, patient, days_off=10)
    before = api.position()
    blank = _restart(api, patient, "200", override_reason="  ")
    assert blank.status_code == 422, blank.text
    assert [f["field"] for f in blank.json()["fields"]] == ["override_reason"]
    assert appended_since(api.services.clinic, before) == []

    overridden = _restart(api, patient, "200", override_reason="off for a hospital stay only")
    assert overridden.status_code == 201, overridden.text
    summary = events(api, patient)[-1]["summary"]
    assert "above the first step, overridden: off for a hospital stay only" in summary
    assert on_board(api, patient, "lamotrigine-restart")  # the re-titration is still due


def test_a_restart_within_5_half_lives_continues_at_the_previous_dose(api: Api) -> None:
    patient = patient_with_team(api)
    _stopped_lamotrigine(api, patient, days_off=4)  # 5 x 25.4 h is 5.3 days
    resumed = _restart(api, patient, "200")
    assert resumed.status_code == 201, resumed.text
    assert on_board(api, patient, "lamotrigine-restart") == []


def test_with_valproate_the_half_life_is_longer_and_the_first_step_lower(api: Api) -> None:
    patient = patient_with_team(api)
    start(api, patient, VALPROATE, days_ago=200)
    # 10 days off: within 5 x 70.3 h (14.6 days) with valproate, so no re-titration...
    _stopped_lamotrigine(api, patient, days_off=10, maintenance="100")
    assert _restart(api, patient, "100").status_code == 201

    # ...16 days off is beyond it, and the first step with valproate is 12.5 mg/day.
    other = patient_with_team(api)
    start(api, other, VALPROATE, days_ago=200)
    _stopped_lamotrigine(api, other, days_off=16, maintenance="100")
    refused = _restart(api, other, "25")
    assert refused.status_code == 409, refused.text
    assert "12.5 mg/day" in refused.json()["fields"][0]["reason"]
    every_other_day = _restart(
        api, other, "25", schedule={"frequency": "every-other-day"}
    )  # 12.5 mg/day on average
    assert every_other_day.status_code == 201, every_other_day.text
    assert on_board(api, other, "lamotrigine-restart")
