"""Measurement-based care over HTTP: rules fire, clear and go overdue on the board, driven
by events recorded through the API."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from domain.events import now
from tests.e2e.conftest import Api
from tests.e2e.test_api_records import PATIENT, post

PHQ9_SEVERE = {"1": 2, "2": 2, "3": 2, "4": 2, "5": 2, "6": 2, "7": 2, "8": 2, "9": 0}


def ago(**delta: float) -> str:
    return (now() - timedelta(**delta)).isoformat()


def patient_with_team(api: Api, birth_date: str = "1985-03-01") -> str:
    body = {
        **PATIENT,
        "mrn": f"C-{uuid.uuid4().hex[:8]}",
        "birth_date": birth_date,
        "clinical_time": ago(days=120),
    }
    patient = post(api, "therapist@test", "/patients", body).json()["patient_id"]
    post(
        api,
        "therapist@test",
        f"/patients/{patient}/team-members",
        {
            "user_id": "prescriber@test",
            "role": "prescriber",
            "organisation": "Test Clinic",
            "clinical_time": ago(days=120),
        },
    )
    return str(patient)


def board(api: Api, who: str, **params: Any) -> dict[str, Any]:
    answer = api.client.get(
        "/board", params={"min_position": api.position(), **params}, headers=api.auth(who)
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def entry(board_body: dict[str, Any], patient: str) -> dict[str, Any] | None:
    return next((p for p in board_body["patients"] if p["patient_id"] == patient), None)


def care(api: Api, who: str, patient: str) -> dict[str, Any]:
    answer = api.client.get(
        f"/patients/{patient}/care", params={"min_position": api.position()}, headers=api.auth(who)
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_phq9_item_9_raises_an_alert_for_both_clinicians_until_a_risk_assessment(api: Api) -> None:
    patient = patient_with_team(api)
    answers = {**PHQ9_SEVERE, "9": 1}
    post(
        api,
        "therapist@test",
        f"/patients/{patient}/questionnaires",
        {"instrument": "phq-9", "answers": answers, "clinical_time": ago(hours=2)},
    )
    for who in ("therapist@test", "prescriber@test"):
        alerts = entry(board(api, who), patient)["alerts"]  # type: ignore[index]
        assert [a["rule"]["id"] for a in alerts] == ["phq9-item9"]
        assert alerts[0]["severity"] == "high"

    post(
        api,
        "therapist@test",
        f"/patients/{patient}/questionnaires",
        {"instrument": "phq-9", "answers": answers, "clinical_time": ago(hours=1)},
    )
    assert len(care(api, "therapist@test", patient)["alerts"]) == 2  # still open, both

    post(
        api,
        "therapist@test",
        f"/patients/{patient}/risk-assessments",
        {"level": "moderate", "method": "c-ssrs", "plan": "safety plan reviewed; daily check-ins"},
    )
    after = care(api, "therapist@test", patient)
    assert after["alerts"] == []


def test_a_lapse_opens_contact_assessment_and_plan_tasks_that_the_right_events_meet(
    api: Api,
) -> None:
    patient = patient_with_team(api)
    post(
        api,
        "therapist@test",
        f"/patients/{patient}/lapses",
        {
            "substance": "alcohol",
            "occurred_on": (now() - timedelta(days=1)).date().isoformat(),
            "circumstances": "after a family argument",
            "clinical_time": ago(hours=6),
        },
    )
    open_items = care(api, "therapist@test", patient)
    kinds = sorted(d["kind"] for d in open_items["due"] + open_items["overdue"])
    assert kinds == ["assessment", "contact", "review"]
    assert any(d["kind"] == "contact" for d in open_items["overdue"])  # 6 h ago, 4 h window

    post(
        api,
        "therapist@test",
        f"/patients/{patient}/messages",
        {"to": ["prescriber@test"], "subject": "Lapse yesterday", "body": "Called her; safe."},
    )
    post(
        api,
        "therapist@test",
        f"/patients/{patient}/risk-assessments",
        {"level": "low", "method": "clinical-interview", "plan": "weekly sessions resumed"},
    )
    post(
        api,
        "therapist@test",
        f"/patients/{patient}/phase",
        {"phase": "stabilization", "reason": "after lapse: weekly sessions"},
    )
    done = care(api, "therapist@test", patient)
    assert done["due"] == [] and done["overdue"] == []
    assert done["unacknowledged_messages"][0]["waiting_for"] == ["prescriber@test"]


def test_lithium_monitoring_falls_due_is_met_by_results_and_goes_overdue(api: Api) -> None:
    patient = patient_with_team(api)
    med = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications",
        {
            "drug": "lithium carbonate",
            "rxnorm": "42351",
            "dose": {"amount": "400", "unit": "mg"},
            "schedule": {"frequency": "at-bedtime"},
            "indication": "bipolar II disorder",
            "clinical_time": ago(days=20),
        },
    )
    assert med.status_code == 201, med.text
    items = care(api, "prescriber@test", patient)
    overdue_titles = [d["title"] for d in items["overdue"]]
    assert any("lithium" in t.lower() or "trough" in t.lower() for t in overdue_titles), items
    trough = next(
        d
        for d in items["overdue"]
        if "trough" in d["title"].lower() or "level" in d["title"].lower()
    )

    order = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/lab-orders",
        {
            "loinc": "14334-7",
            "test_name": "Lithium [Moles/volume] in Serum or Plasma",
            "reason": "trough level",
            "clinical_time": ago(days=14),
        },
    ).json()["created_id"]
    post(
        api,
        "prescriber@test",
        f"/patients/{patient}/lab-orders/{order}/results",
        {
            "loinc": "14334-7",
            "test_name": "Lithium",
            "value": "0.5",
            "unit": "mmol/L",
            "reference_low": "0.6",
            "reference_high": "0.8",
            "clinical_time": ago(days=14),
        },
    )
    after = care(api, "prescriber@test", patient)
    assert trough["key"] not in {d["key"] for d in after["due"] + after["overdue"]}


def test_lithium_at_toxic_levels_raises_an_alert(api: Api) -> None:
    patient = patient_with_team(api)
    post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications",
        {
            "drug": "lithium carbonate",
            "rxnorm": "42351",
            "dose": {"amount": "800", "unit": "mg"},
            "schedule": {"frequency": "at-bedtime"},
            "indication": "bipolar II disorder",
            "clinical_time": ago(days=30),
        },
    )
    order = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/lab-orders",
        {
            "loinc": "14334-7",
            "test_name": "Lithium",
            "reason": "trough",
            "clinical_time": ago(days=2),
        },
    ).json()["created_id"]
    post(
        api,
        "prescriber@test",
        f"/patients/{patient}/lab-orders/{order}/results",
        {
            "loinc": "14334-7",
            "test_name": "Lithium",
            "value": "1.6",
            "unit": "mmol/L",
            "clinical_time": ago(days=1),
        },
    )
    alerts = care(api, "prescriber@test", patient)["alerts"]
    assert any(a["severity"] == "high" for a in alerts), alerts


def test_an_ssri_started_under_25_brings_its_follow_up(api: Api) -> None:
    young = (date.today() - timedelta(days=365 * 20)).isoformat()
    patient = patient_with_team(api, birth_date=young)
    post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications",
        {
            "drug": "escitalopram",
            "rxnorm": "321988",
            "dose": {"amount": "5", "unit": "mg"},
            "schedule": {"frequency": "once-daily"},
            "indication": "generalized anxiety disorder",
            "clinical_time": ago(days=10),
        },
    )
    items = care(api, "prescriber@test", patient)
    assert any(d["kind"] == "contact" for d in items["overdue"]), items  # 7 days passed
    assert any(d["kind"] == "visit" for d in items["due"]), items
    older = patient_with_team(api, birth_date="1980-01-01")
    post(
        api,
        "prescriber@test",
        f"/patients/{older}/medications",
        {
            "drug": "escitalopram",
            "rxnorm": "321988",
            "dose": {"amount": "5", "unit": "mg"},
            "schedule": {"frequency": "once-daily"},
            "indication": "generalized anxiety disorder",
            "clinical_time": ago(days=10),
        },
    )
    older_items = care(api, "prescriber@test", older)
    # Not the under-25 follow-up; the contact every age gets (within 2 weeks) instead.
    contacts = [d for d in older_items["due"] + older_items["overdue"] if d["kind"] == "contact"]
    assert [(d["rule"]["id"], d["status"]) for d in contacts] == [("antidepressant-contact", "due")]


def test_no_response_after_eight_weeks_opens_a_review_for_both_clinicians(api: Api) -> None:
    patient = patient_with_team(api)
    post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications",
        {
            "drug": "sertraline",
            "rxnorm": "36437",
            "dose": {"amount": "100", "unit": "mg"},
            "schedule": {"frequency": "once-daily"},
            "indication": "major depression",
            "clinical_time": ago(days=70),
        },
    )
    for days, total in ((69, 16), (40, 15), (5, 14)):
        answers = {str(i): 0 for i in range(1, 10)}
        for i in range(total):
            answers[str(i % 8 + 1)] += 1
        post(
            api,
            "therapist@test",
            f"/patients/{patient}/questionnaires",
            {"instrument": "phq-9", "answers": answers, "clinical_time": ago(days=days)},
        )
    for who in ("prescriber@test", "therapist@test"):
        items = care(api, who, patient)
        reviews = [d for d in items["due"] + items["overdue"] if d["rule"]["id"] == "not-improving"]
        assert reviews and set(reviews[0]["for_roles"]) == {"prescriber", "therapist"}


def test_outcomes_show_each_series_with_severity_change_response_and_remission(api: Api) -> None:
    patient = patient_with_team(api)
    for days, item_total in ((60, 18), (30, 10), (2, 3)):
        answers = {str(i): 0 for i in range(1, 10)}
        for i in range(item_total):
            answers[str(i % 8 + 1)] += 1
        post(
            api,
            "therapist@test",
            f"/patients/{patient}/questionnaires",
            {"instrument": "phq-9", "answers": answers, "clinical_time": ago(days=days)},
        )
    post(
        api,
        "therapist@test",
        f"/patients/{patient}/functional-outcomes",
        {
            "setting": "work",
            "measure": "attendance",
            "period_start": (date.today() - timedelta(days=14)).isoformat(),
            "period_end": (date.today() - timedelta(days=1)).isoformat(),
            "achieved": 8,
            "expected": 10,
        },
    )
    body = api.client.get(
        f"/patients/{patient}/outcomes",
        params={"min_position": api.position()},
        headers=api.auth("therapist@test"),
    ).json()
    phq9 = body["series"]["phq-9"]
    assert [p["total"] for p in phq9["points"]] == [18, 10, 3]
    assert phq9["points"][0]["band"] == "moderately severe"
    assert (phq9["baseline"], phq9["latest"], phq9["change"]) == (18, 3, -15)
    assert phq9["response"] is True and phq9["remission"] is True
    assert body["functional_outcomes"][0]["achieved"] == 8


def test_the_medication_timeline_shows_doses_over_time_with_reasons_and_side_effects(
    api: Api,
) -> None:
    patient = patient_with_team(api)
    med = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications",
        {
            "drug": "sertraline",
            "rxnorm": "36437",
            "dose": {"amount": "25", "unit": "mg"},
            "schedule": {"frequency": "once-daily"},
            "indication": "major depression",
            "clinical_time": ago(days=30),
        },
    ).json()["created_id"]
    post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications/{med}/dose",
        {
            "dose": {"amount": "50", "unit": "mg"},
            "reason": "tolerating",
            "clinical_time": ago(days=20),
        },
    )
    post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications/{med}/side-effects",
        {"effect": "nausea", "severity": "mild", "clinical_time": ago(days=18)},
    )
    body = api.client.get(
        f"/patients/{patient}/medication-timeline",
        params={"min_position": api.position()},
        headers=api.auth("prescriber@test"),
    ).json()
    line = body["medication_timeline"][0]
    assert [d["dose"]["amount"] for d in line["doses"]] == ["25", "50"]
    assert line["doses"][1]["reason"] == "tolerating"
    assert line["side_effects"][0]["effect"] == "nausea"


def test_an_early_lamotrigine_step_is_refused_unless_overridden_with_a_reason(api: Api) -> None:
    patient = patient_with_team(api)
    med = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications",
        {
            "drug": "lamotrigine",
            "rxnorm": "28439",
            "dose": {"amount": "25", "unit": "mg"},
            "schedule": {"frequency": "once-daily"},
            "indication": "bipolar II depression",
            "clinical_time": ago(days=7),
        },
    ).json()["created_id"]
    before = api.position()
    early = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications/{med}/dose",
        {"dose": {"amount": "100", "unit": "mg"}, "reason": "faster please"},
    )
    assert early.status_code == 409, early.text
    assert early.json()["fields"][0]["field"] == "dose"
    assert api.position() == before
    overridden = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications/{med}/dose",
        {
            "dose": {"amount": "50", "unit": "mg"},
            "reason": "step",
            "override_reason": "inpatient team started titration a week earlier",
        },
    )
    assert overridden.status_code == 201, overridden.text
