"""The rule audit's fixes (issue 13, item 8: clozapine, lithium, valproate, lamotrigine,
fasting glucose), each driven through the API: what the care view shows the prescriber
after the entries a clinic would make."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.builders import appended_since
from tests.e2e.conftest import Api
from tests.e2e.test_api_records import PATIENT, post
from tests.e2e.test_coordination import ago, care, patient_with_team
from tests.e2e.test_lab_units import LITHIUM, ON, alerts

CLOZAPINE = ON["clozapine"]
VALPROATE = ON["valproate"]
ANC = "751-8"


def woman(api: Api, birth_date: str = "1990-05-01") -> str:
    body = {
        **PATIENT,
        "mrn": f"W-{uuid.uuid4().hex[:8]}",
        "birth_date": birth_date,
        "sex_at_birth": "female",
        "clinical_time": ago(days=900),
    }
    patient = post(api, "therapist@test", "/patients", body).json()["patient_id"]
    joined = post(
        api,
        "therapist@test",
        f"/patients/{patient}/team-members",
        {
            "user_id": "prescriber@test",
            "role": "prescriber",
            "organisation": "Test Clinic",
            "clinical_time": ago(days=900),
        },
    )
    assert joined.status_code == 201, joined.text
    return str(patient)


def start(api: Api, patient: str, medication: dict[str, Any], days_ago: float = 30) -> str:
    started = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications",
        {**medication, "clinical_time": ago(days=days_ago)},
    )
    assert started.status_code == 201, started.text
    return str(started.json()["created_id"])


def stop(api: Api, patient: str, medication: str, days_ago: float) -> None:
    stopped = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications/{medication}/stop",
        {"reason": "interrupted", "clinical_time": ago(days=days_ago)},
    )
    assert stopped.status_code in {200, 201}, stopped.text


def lab(
    api: Api,
    patient: str,
    loinc: str,
    value: str | None = None,
    unit: str | None = None,
    days_ago: float = 1,
    value_text: str | None = None,
) -> None:
    """A result on an order of its own, taken `days_ago`: a value in a unit, or a text."""
    made = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/lab-orders",
        {
            "loinc": loinc,
            "test_name": "test",
            "reason": "monitoring",
            "clinical_time": ago(days=days_ago + 0.01),
        },
    )
    assert made.status_code == 201, made.text
    recorded = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/lab-orders/{made.json()['created_id']}/results",
        {
            "loinc": loinc,
            "test_name": "test",
            **({"value_text": value_text} if value_text is not None else {}),
            **({"value": value, "unit": unit} if value is not None else {}),
            "clinical_time": ago(days=days_ago),
        },
    )
    assert recorded.status_code == 201, recorded.text


def items(api: Api, patient: str, rule_id: str | None = None) -> list[dict[str, Any]]:
    body = care(api, "prescriber@test", patient)
    found = body["due"] + body["overdue"] + body["upcoming"]
    return [i for i in found if rule_id is None or i["rule"]["id"] == rule_id]


def all_items(api: Api, patient: str) -> list[dict[str, Any]]:
    """Every item the prescriber's care view shows, met ones included if listed."""
    return items(api, patient)


# --- clozapine ----------------------------------------------------------------------------


def test_an_anc_of_1200_alerts_and_makes_a_confirmation_and_three_weekly_counts_due(
    api: Api,
) -> None:
    patient = patient_with_team(api)
    start(api, patient, CLOZAPINE)
    lab(api, patient, ANC, "1.2", "10*3/uL", days_ago=3)

    found = alerts(api, patient)
    assert set(k for k in found if k.startswith("clozapine-anc")) == {"clozapine-anc-mild"}
    assert "three times weekly" in found["clozapine-anc-mild"]["title"]
    follow = items(api, patient, "clozapine-anc-mild")
    titles = [i["title"] for i in follow]
    assert any("repeat within 24 h to confirm" in t for t in titles), titles
    assert any("three times weekly until 1500/uL or more" in t for t in titles), titles
    # Three days on with no count: the confirmation and the first repeats are overdue.
    assert {i["key"].split(":")[-1] for i in follow if i in care_overdue(api, patient)} >= {
        "confirm",
        "1",
    }


def care_overdue(api: Api, patient: str) -> list[dict[str, Any]]:
    return list(care(api, "prescriber@test", patient)["overdue"])


def test_an_anc_of_800_interrupts_and_400_stops_without_rechallenge(api: Api) -> None:
    moderate = patient_with_team(api)
    start(api, moderate, CLOZAPINE)
    lab(api, moderate, ANC, "800", "/uL")
    found = alerts(api, moderate)
    assert "clozapine-anc-moderate" in found and "clozapine-anc-mild" not in found
    assert "interrupt" in found["clozapine-anc-moderate"]["title"]
    daily = [i["title"] for i in items(api, moderate, "clozapine-anc-moderate")]
    assert any("daily until 1000/uL or more" in t for t in daily), daily

    severe = patient_with_team(api)
    start(api, severe, CLOZAPINE)
    lab(api, severe, ANC, "0.4", "10*9/L")
    found = alerts(api, severe)
    assert set(k for k in found if k.startswith("clozapine-anc")) == {"clozapine-anc-severe"}
    assert "stop" in found["clozapine-anc-severe"]["title"]
    assert "do not rechallenge" in found["clozapine-anc-severe"]["title"]


def test_on_the_benign_ethnic_neutropenia_pathway_1200_is_normal_and_800_alerts(
    api: Api,
) -> None:
    patient = patient_with_team(api)
    recorded = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/neutropenia-pathway",
        {
            "benign_ethnic_neutropenia": True,
            "basis": "two baseline ANCs 1100 and 1200/uL, Duffy-null phenotype",
            "clinical_time": ago(days=40),
        },
    )
    assert recorded.status_code == 201, recorded.text
    start(api, patient, CLOZAPINE)
    lab(api, patient, ANC, "1200", "/uL", days_ago=5)
    assert not [k for k in alerts(api, patient) if k.startswith("clozapine-anc")]
    assert items(api, patient, "clozapine-anc-mild") == []

    lab(api, patient, ANC, "800", "/uL", days_ago=1)
    found = alerts(api, patient)
    assert [k for k in found if k.startswith("clozapine-anc")] == ["clozapine-anc-ben-neutropenia"]
    assert "continue treatment" in found["clozapine-anc-ben-neutropenia"]["title"]


def test_only_a_prescriber_puts_a_patient_on_the_neutropenia_pathway(api: Api) -> None:
    patient = patient_with_team(api)
    before = api.position()
    refused = post(
        api,
        "therapist@test",
        f"/patients/{patient}/neutropenia-pathway",
        {"benign_ethnic_neutropenia": True, "basis": "told by the patient"},
    )
    assert refused.status_code == 403, refused.text
    assert appended_since(api.services.clinic, before) == []
    missing = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/neutropenia-pathway",
        {"benign_ethnic_neutropenia": True},
    )
    assert missing.status_code == 422, missing.text
    assert [f["field"] for f in missing.json()["fields"]] == ["basis"]
    assert appended_since(api.services.clinic, before) == []


def _next_anc_label(api: Api, patient: str, medication: str) -> list[str]:
    """The ANC items of one course (the earlier course keeps what fell due in it)."""
    found = items(api, patient, "clozapine-neutrophils")
    return [i["title"] for i in found if f":{medication}:" in i["key"]]


def test_a_clozapine_restart_within_30_days_continues_and_after_longer_starts_anew(
    api: Api,
) -> None:
    # Two years on clozapine, interrupted 20 days: monthly counts continue.
    short = patient_with_team(api, birth_date="1980-01-01")
    first = start(api, short, CLOZAPINE, days_ago=720)
    stop(api, short, first, days_ago=25)
    again = start(api, short, CLOZAPINE, days_ago=5)
    titles = _next_anc_label(api, short, again)
    assert titles and all("monthly" in t for t in titles), titles

    # Interrupted 40 days: monitored as a new patient (baseline, then weekly).
    long = patient_with_team(api, birth_date="1980-01-01")
    first = start(api, long, CLOZAPINE, days_ago=720)
    stop(api, long, first, days_ago=45)
    again = start(api, long, CLOZAPINE, days_ago=5)
    titles = _next_anc_label(api, long, again)
    assert any("weekly, months 0-6" in t for t in titles), titles
    assert not any("monthly" in t for t in titles), titles


def test_the_myocarditis_watch_makes_troponin_and_crp_weekly_for_four_weeks(api: Api) -> None:
    patient = patient_with_team(api)
    start(api, patient, CLOZAPINE, days_ago=10)
    troponin = [i["title"] for i in items(api, patient, "clozapine-troponin")]
    assert any("days 7, 14, 21, 28" in t for t in troponin), troponin
    assert items(api, patient, "clozapine-crp")


# --- lithium ------------------------------------------------------------------------------

NSAID = {
    "drug": "naproxen",
    "rxnorm": "7258",
    "dose": {"amount": "500", "unit": "mg"},
    "schedule": {"frequency": "twice-daily"},
    "indication": "back pain",
}


def test_an_nsaid_started_on_lithium_alerts_and_brings_the_level_forward(api: Api) -> None:
    patient = patient_with_team(api)
    start(api, patient, LITHIUM, days_ago=200)
    start(api, patient, NSAID, days_ago=2)

    alert = alerts(api, patient)["lithium-interaction"]
    assert alert["open"] and "naproxen" in alert["title"]
    [level] = items(api, patient, "lithium-interaction")
    assert "brought forward" in level["title"]
    # Due within 7 days of the naproxen's start: five days from now.
    assert ago(days=-4.9) < level["due_by"] < ago(days=-5.01)
    lab(api, patient, "14334-7", "0.7", "mmol/L", days_ago=0.5)
    assert items(api, patient, "lithium-interaction") == []


def _stable_lithium(api: Api, patient: str, days_ago: float) -> None:
    start(api, patient, LITHIUM, days_ago=days_ago)
    for day in (7, 14):
        lab(api, patient, "14334-7", "0.7", "mmol/L", days_ago=days_ago - day)


def test_after_a_year_on_lithium_a_66_year_old_is_due_every_3_months(api: Api) -> None:
    older = patient_with_team(api, birth_date="1959-06-01")  # 66 over a year ago
    _stable_lithium(api, older, days_ago=400)
    labels = [i["title"] for i in items(api, older, "lithium-level-65-and-over")]
    assert any("3-monthly (65 and over)" in t for t in labels), labels
    assert items(api, older, "lithium-level") == []

    younger = patient_with_team(api, birth_date="1985-03-01")
    _stable_lithium(api, younger, days_ago=400)
    labels = [i["title"] for i in items(api, younger, "lithium-level")]
    assert any("6-monthly" in t for t in labels), labels
    assert items(api, younger, "lithium-level-65-and-over") == []


def test_after_year_1_a_last_level_of_0_8_or_more_brings_the_next_to_3_months(
    api: Api,
) -> None:
    def next_after_level(level: str) -> list[str]:
        patient = patient_with_team(api, birth_date="1985-03-01")
        _stable_lithium(api, patient, days_ago=500)
        # Weekly until stable (days 7, 14), 3-monthly to day 365 (last on day 287), then
        # the first after-year-1 level on day 469: 31 days ago.
        lab(api, patient, "14334-7", level, "mmol/L", days_ago=31)
        return [i["title"] for i in items(api, patient, "lithium-level")]

    assert any("3-monthly (last level 0.8 or more)" in t for t in next_after_level("0.8"))
    below = next_after_level("0.79")
    assert not any("last level 0.8 or more" in t for t in below), below
    assert any("6-monthly" in t for t in below), below


def test_levels_are_stable_around_the_prescribers_target(api: Api) -> None:
    # 0.7 twice is stable in the default 0.6-0.8, not in a target of 0.8-1.0.
    patient = patient_with_team(api)
    lithium = start(api, patient, LITHIUM, days_ago=30)
    target = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/level-targets",
        {
            "medication_id": lithium,
            "low": "0.8",
            "high": "1.0",
            "reason": "relapse on 0.6-0.8",
            "clinical_time": ago(days=29),
        },
    )
    assert target.status_code == 201, target.text
    for day in (7, 14):
        lab(api, patient, "14334-7", "0.7", "mmol/L", days_ago=30 - day)
    labels = [i["title"] for i in items(api, patient, "lithium-level")]
    assert labels and all("weekly until stable" in t for t in labels), labels


def test_a_target_range_upside_down_is_refused_naming_the_field(api: Api) -> None:
    patient = patient_with_team(api)
    lithium = start(api, patient, LITHIUM)
    before = api.position()
    refused = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/level-targets",
        {"medication_id": lithium, "low": "1.0", "high": "0.8", "reason": "typo"},
    )
    assert refused.status_code == 409, refused.text
    assert [f["field"] for f in refused.json()["fields"]] == ["high"]
    assert appended_since(api.services.clinic, before) == []


def test_pregnancy_planned_on_lithium_raises_a_review(api: Api) -> None:
    patient = woman(api)
    start(api, patient, LITHIUM, days_ago=60)
    recorded = post(
        api,
        "therapist@test",
        f"/patients/{patient}/pregnancy-status",
        {"status": "planning pregnancy", "clinical_time": ago(days=1)},
    )
    assert recorded.status_code == 201, recorded.text
    alert = alerts(api, patient)["lithium-pregnancy"]
    assert alert["open"] and "planning pregnancy" in alert["title"]


# --- valproate ----------------------------------------------------------------------------


def test_valproate_for_a_woman_needs_pregnancy_prevention_before_the_first_dose(
    api: Api,
) -> None:
    patient = woman(api)
    start(api, patient, VALPROATE, days_ago=1)
    [item] = [
        i for i in items(api, patient, "valproate-pregnancy-prevention") if i["due_by"] < ago()
    ]
    assert item["due_by"] <= ago(days=1) and item in care_overdue(api, patient)

    recorded = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/pregnancy-status",
        {"status": "not pregnant", "prevention_in_place": True, "clinical_time": ago(days=1.5)},
    )
    assert recorded.status_code == 201, recorded.text
    assert [i for i in care_overdue(api, patient) if i["rule"]["id"].endswith("prevention")] == []


def test_valproate_liver_tests_are_due_monthly_in_the_first_six_months(api: Api) -> None:
    patient = patient_with_team(api)
    start(api, patient, VALPROATE, days_ago=40)
    labels = [i["title"] for i in items(api, patient, "valproate-liver")]
    assert any("monthly, months 1-6" in t for t in labels), labels


# --- lamotrigine and fasting glucose ------------------------------------------------------

LAMOTRIGINE = {
    **LITHIUM,
    "drug": "lamotrigine",
    "rxnorm": "28439",
    "dose": {"amount": "25", "unit": "mg"},
    "schedule": {"frequency": "once-daily"},
}


def _effect(api: Api, patient: str, medication: str, effect: str) -> None:
    said = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications/{medication}/side-effects",
        {"effect": effect, "severity": "moderate", "clinical_time": ago(days=1)},
    )
    assert said.status_code == 201, said.text


def test_signs_of_sjs_ten_on_lamotrigine_alert_not_just_rash(api: Api) -> None:
    for effect, raises in (
        ("blistering around the lips", True),
        ("hives on both arms", True),
        ("fever with lymphadenopathy", True),
        ("fever after a cold", False),
    ):
        patient = patient_with_team(api)
        medication = start(api, patient, LAMOTRIGINE, days_ago=14)
        _effect(api, patient, medication, effect)
        assert ("lamotrigine-rash" in alerts(api, patient)) is raises, effect


ARIPIPRAZOLE = {
    **LITHIUM,
    "drug": "aripiprazole",
    "rxnorm": "89013",
    "dose": {"amount": "5", "unit": "mg"},
    "schedule": {"frequency": "once-daily"},
    "indication": "schizophrenia",
}


def test_a_random_glucose_does_not_meet_the_fasting_glucose_item(api: Api) -> None:
    patient = patient_with_team(api)
    start(api, patient, ARIPIPRAZOLE, days_ago=2)
    lab(api, patient, "2345-7", "160", "mg/dL", days_ago=3)  # random, before the start
    [baseline] = [i for i in care_overdue(api, patient) if i["rule"]["id"] == "sga-glucose"]
    assert "fasting glucose" in baseline["title"]

    lab(api, patient, "1558-6", "92", "mg/dL", days_ago=2.5)
    assert [i for i in care_overdue(api, patient) if i["rule"]["id"] == "sga-glucose"] == []


# --- replays --------------------------------------------------------------------------------


def test_a_care_read_replays_and_an_older_layout_keeps_the_rules_of_version_1(
    api: Api,
) -> None:
    from uuid import UUID

    from application.reading import ReadRequest
    from domain.access import Viewer

    patient = patient_with_team(api)
    start(api, patient, CLOZAPINE)
    lab(api, patient, ANC, "1200", "/uL")
    read = api.client.get(
        f"/patients/{patient}/care",
        params={"min_position": api.position()},
        headers=api.auth("prescriber@test"),
    )
    assert read.status_code == 200, read.text
    replay = api.client.get(
        f"/compliance/access/{read.headers['X-Access-Id']}/replay",
        params={"min_position": read.headers["X-Access-Position"]},
        headers=api.auth("compliance@test"),
    )
    assert replay.status_code == 200 and replay.json()["matches"] is True, replay.text

    # Layout 2 (the access records made before the audit) answers with rule version 1:
    # the ANC band raised no repeat counts then, and its rule was version 1.
    user = api.services.clinic.find_user("prescriber@test")
    viewer = Viewer(user.email, user.role, user.organisation, user.patient_id)
    request = ReadRequest(viewer, UUID(patient), "care-items")
    old = json.loads(api.services.reader.prepare(request, view_format=2).body)
    new = json.loads(api.services.reader.prepare(request, view_format=3).body)

    def anc(body: dict[str, Any]) -> tuple[str, list[str]]:
        [alert] = [a for a in body["alerts"] if a["rule"]["id"] == "clozapine-anc-mild"]
        listed = body["due"] + body["overdue"] + body["upcoming"]
        repeats = [i["key"] for i in listed if i["rule"]["id"] == "clozapine-anc-mild"]
        return alert["rule"]["version"], repeats

    (old_version, old_repeats), (new_version, new_repeats) = anc(old), anc(new)
    assert (old_version, old_repeats) == ("1", [])
    assert new_version == "2" and new_repeats
