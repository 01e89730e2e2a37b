"""Periodic reassessment and deprescribing through the API (issue 13, item 7): each rule of
domain/rules/reassessment.py puts its item on the prescriber's board once its interval has
passed and not before (each interval tested an hour either side of its boundary); a taper
is a titration plan downwards, only a prescriber records it, and it brings its monitoring
and a handoff the therapist sees. All data synthetic."""

from __future__ import annotations

from calendar import monthrange
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from domain.events import now
from domain.rules.reassessment import REASSESSMENT, TAPER_MONITORING, Interval, ReassessmentRule
from tests.builders import appended_since
from tests.e2e.conftest import Api
from tests.e2e.test_api_records import post
from tests.e2e.test_coordination import board, care, entry, patient_with_team

PRESCRIBER, THERAPIST = "prescriber@test", "therapist@test"
RULES = {row.rule.rule_id: row for row in REASSESSMENT}
HOUR = timedelta(hours=1)
PHQ9_SEVERE = {**{str(i): 3 for i in range(1, 9)}, "9": 0}
PHQ9_WELL = {str(i): 0 for i in range(1, 10)}
# Either side of a boundary: an hour before it falls due, and an hour after.
SIDES = [
    pytest.param(HOUR, False, id="an-hour-before"),
    pytest.param(-HOUR, True, id="an-hour-after"),
]


def anchored(interval: Interval, due_from: datetime) -> datetime:
    """The moment an interval must run from to fall due at `due_from` (calendar months
    back, then days)."""
    moment = due_from - timedelta(days=interval.days)
    month = moment.month - 1 - interval.months
    year, month = moment.year + month // 12, month % 12 + 1
    found = moment.replace(year=year, month=month, day=min(moment.day, monthrange(year, month)[1]))
    assert interval.after(found) == due_from
    return found


def medication(drug: str, rxnorm: str, amount: str, at: datetime, **more: Any) -> dict[str, Any]:
    return {
        "drug": drug,
        "rxnorm": rxnorm,
        "dose": {"amount": amount, "unit": "mg"},
        "schedule": {"frequency": "once-daily"},
        "indication": "synthetic indication",
        "clinical_time": at.isoformat(),
        **more,
    }


def start(api: Api, patient: str, body: dict[str, Any]) -> str:
    answer = post(api, PRESCRIBER, f"/patients/{patient}/medications", body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["created_id"])


def record(api: Api, who: str, patient: str, path: str, body: dict[str, Any]) -> Any:
    answer = post(api, who, f"/patients/{patient}{path}", body)
    assert answer.status_code in (200, 201), answer.text
    return answer


def on_board(api: Api, patient: str, rule_id: str, who: str = PRESCRIBER) -> list[dict[str, Any]]:
    """The prescriber's board items of a rule for this patient (due or overdue)."""
    found = entry(board(api, who), patient)
    if found is None:
        return []
    return [i for i in found["due"] + found["overdue"] if i["rule"]["id"] == rule_id]


def upcoming(api: Api, patient: str, rule_id: str, who: str = PRESCRIBER) -> list[dict[str, Any]]:
    return [i for i in care(api, who, patient)["upcoming"] if i["rule"]["id"] == rule_id]


def in_remission(api: Api, episode: str, remission: datetime) -> tuple[str, str]:
    """A patient with depression (a first episode, F32.1, or recurrent, F33.1), on
    sertraline since well before remission, in remission (PHQ-9 0) since `remission`."""
    patient = patient_with_team(api)
    began = remission - timedelta(days=120)
    code = "F32.1" if episode == "first" else "F33.1"
    record(
        api,
        PRESCRIBER,
        patient,
        "/conditions",
        {
            "icd10": code,
            "description": "major depressive disorder, moderate",
            "episode": episode,
            "clinical_time": began.isoformat(),
        },
    )
    med = start(api, patient, medication("sertraline", "36437", "100", began))
    for at, answers in ((began, PHQ9_SEVERE), (remission, PHQ9_WELL)):
        record(
            api,
            THERAPIST,
            patient,
            "/questionnaires",
            {"instrument": "phq-9", "answers": answers, "clinical_time": at.isoformat()},
        )
    return patient, med


@pytest.mark.parametrize(("offset", "due"), SIDES)
def test_sertraline_nine_months_after_remission_of_a_first_episode_is_to_be_reassessed(
    api: Api, offset: timedelta, due: bool
) -> None:
    row = RULES["reassess-continuation-first-episode"]
    assert row.interval == Interval(months=9) and row.episode == "first"
    due_from = now() + offset
    patient, _ = in_remission(api, "first", anchored(row.interval, due_from))

    items = on_board(api, patient, row.rule.rule_id)
    if due:
        [item] = items
        assert item["title"].startswith("reassess: continue, taper or stop sertraline")
        assert "prescriber" in item["for_roles"] and item["kind"] == "review"
        assert item["rule"]["checked"] is False and "APA" in item["rule"]["source"]
        assert item["due_from"] == due_from.isoformat()
    else:
        assert items == []
        [item] = upcoming(api, patient, row.rule.rule_id)
        assert item["due_from"] == due_from.isoformat()


def test_recurrent_illness_is_reassessed_later_than_a_first_episode(api: Api) -> None:
    first = RULES["reassess-continuation-first-episode"]
    recurrent = RULES["reassess-maintenance-recurrent"]
    assert recurrent.interval == Interval(months=24) and recurrent.episode == "recurrent"
    # Past the first episode's interval: the recurrent illness is not due yet.
    patient, _ = in_remission(api, "recurrent", anchored(first.interval, now() - HOUR))
    assert on_board(api, patient, first.rule.rule_id) == []
    assert on_board(api, patient, recurrent.rule.rule_id) == []
    assert upcoming(api, patient, recurrent.rule.rule_id) != []


@pytest.mark.parametrize(("offset", "due"), SIDES)
def test_recurrent_illness_is_reassessed_twenty_four_months_after_remission(
    api: Api, offset: timedelta, due: bool
) -> None:
    row = RULES["reassess-maintenance-recurrent"]
    patient, med = in_remission(api, "recurrent", anchored(row.interval, now() + offset))
    items = on_board(api, patient, row.rule.rule_id)
    assert bool(items) is due, items
    if due:
        assert "recurrent" in items[0]["title"]
        # Reassessed: the item is met, and leaves the board.
        record(
            api,
            PRESCRIBER,
            patient,
            f"/medications/{med}/reassessment",
            {"assessment": "well for two years; wishes to continue", "decision": "continue"},
        )
        assert on_board(api, patient, row.rule.rule_id) == []
        met = [
            i for i in care(api, PRESCRIBER, patient)["due"] if i["rule"]["id"] == row.rule.rule_id
        ]
        assert met == []  # a met item is neither due nor overdue


def periodic_row() -> ReassessmentRule:
    row = RULES["reassess-periodic"]
    assert row.interval == Interval(months=6) and row.every_medication
    return row


@pytest.mark.parametrize(("offset", "due"), SIDES)
def test_any_medication_unchanged_for_six_months_gets_a_reassessment_due(
    api: Api, offset: timedelta, due: bool
) -> None:
    row = periodic_row()
    patient = patient_with_team(api)
    since = anchored(row.interval, now() + offset)
    med = start(api, patient, medication("aripiprazole", "89013", "5", since))

    items = on_board(api, patient, row.rule.rule_id)
    assert bool(items) is due, items
    if not due:
        return
    assert items[0]["title"].startswith("Reassessment due: aripiprazole unchanged for 6 months")
    record(
        api,
        PRESCRIBER,
        patient,
        f"/medications/{med}/reassessment",
        {"assessment": "stable, no side effects", "decision": "continue"},
    )
    assert on_board(api, patient, row.rule.rule_id) == []
    [next_one] = upcoming(api, patient, row.rule.rule_id)  # six months after the reassessment
    assert next_one["due_from"] > now().isoformat()


def test_a_dose_change_restarts_the_six_months(api: Api) -> None:
    row = periodic_row()
    patient = patient_with_team(api)
    med = start(api, patient, medication("aripiprazole", "89013", "5", now() - timedelta(days=300)))
    assert on_board(api, patient, row.rule.rule_id) != []
    record(
        api,
        PRESCRIBER,
        patient,
        f"/medications/{med}/dose",
        {
            "dose": {"amount": "10", "unit": "mg"},
            "reason": "residual symptoms",
            "clinical_time": (now() - timedelta(days=10)).isoformat(),
        },
    )
    assert on_board(api, patient, row.rule.rule_id) == []


@pytest.mark.parametrize(("offset", "due"), SIDES)
def test_lorazepam_beyond_four_weeks_raises_a_deprescribing_review(
    api: Api, offset: timedelta, due: bool
) -> None:
    row = RULES["deprescribing-benzodiazepine"]
    assert row.interval == Interval(days=28)
    patient = patient_with_team(api)
    since = anchored(row.interval, now() + offset)
    med = start(
        api,
        patient,
        medication("lorazepam", "6470", "1", since, schedule={"frequency": "at-bedtime"}),
    )
    items = on_board(api, patient, row.rule.rule_id)
    assert bool(items) is due, items
    if not due:
        return
    [item] = items
    assert item["title"].startswith("Deprescribing review: lorazepam taken beyond 4 weeks")
    assert "FDA" in item["rule"]["source"]
    # A dose change does not restart the time taken; a taper answers the review.
    record(
        api,
        PRESCRIBER,
        patient,
        f"/medications/{med}/dose",
        {"dose": {"amount": "0.5", "unit": "mg"}, "reason": "lower dose first"},
    )
    assert on_board(api, patient, row.rule.rule_id) != []
    record(api, PRESCRIBER, patient, f"/medications/{med}/titration-plan", taper_plan("0.25"))
    assert on_board(api, patient, row.rule.rule_id) == []


def taper_plan(*amounts: str, reason: str | None = "in remission: deprescribing") -> dict[str, Any]:
    today = date.today()
    body: dict[str, Any] = {
        "direction": "down",
        "steps": [
            {
                "on_or_after": (today + timedelta(days=14 * i)).isoformat(),
                "dose": {"amount": amount, "unit": "mg"},
            }
            for i, amount in enumerate(amounts)
        ],
    }
    if reason is not None:
        body["reason"] = reason
    return body


def entries(api: Api, patient: str, who: str = PRESCRIBER) -> list[dict[str, Any]]:
    answer = api.client.get(
        f"/patients/{patient}/events",
        params={"min_position": api.position()},
        headers=api.auth(who),
    )
    assert answer.status_code == 200, answer.text
    return list(reversed(answer.json()["entries"]))  # in log order (the page is newest first)


def test_a_taper_plan_creates_its_monitoring_and_a_handoff_the_therapist_sees(api: Api) -> None:
    patient = patient_with_team(api)
    med = start(api, patient, medication("sertraline", "36437", "100", now() - timedelta(days=90)))
    record(api, PRESCRIBER, patient, f"/medications/{med}/titration-plan", taper_plan("50", "25"))

    plan, handoff = entries(api, patient)[-2:]
    assert plan["kind"] == "TitrationPlanned" and plan["payload"]["direction"] == "down"
    assert plan["summary"].startswith("taper plan: 50 mg from")
    assert handoff["kind"] == "MessageSent" and handoff["payload"]["to"] == [THERAPIST]
    assert handoff["payload"]["regarding"] == [plan["version"]]

    shown = entry(board(api, THERAPIST), patient)
    assert shown is not None
    [waiting] = shown["unacknowledged_messages"]
    assert waiting["subject"] == "Taper of sertraline planned" and waiting["waiting_for"] == [
        THERAPIST
    ]
    keys = {check.key for check in TAPER_MONITORING}
    assert keys == {"taper-discontinuation", "taper-phq9-during", "taper-phq9-after"}
    due = {i["title"] for i in shown["due"] if i["rule"]["id"] == "taper-monitoring"}
    assert due == {
        "Discontinuation-symptom check after taper step 1 of sertraline",
        "PHQ-9 during the taper of sertraline",
    }
    later = {i["title"] for i in upcoming(api, patient, "taper-monitoring", THERAPIST)}
    assert later == {
        "Discontinuation-symptom check after taper step 2 of sertraline",
        "PHQ-9 after the taper of sertraline",
    }
    # The PHQ-9 during the taper is met by one answered now; the symptom check by a report.
    record(
        api, THERAPIST, patient, "/questionnaires", {"instrument": "phq-9", "answers": PHQ9_WELL}
    )
    record(
        api,
        THERAPIST,
        patient,
        f"/medications/{med}/side-effects",
        {"effect": "mild dizziness on reduction", "severity": "mild"},
    )
    assert on_board(api, patient, "taper-monitoring", THERAPIST) == []
    # Tapering: no periodic reassessment is asked of it meanwhile.
    assert not [
        i
        for i in care(api, PRESCRIBER, patient)["upcoming"]
        if i["rule"]["id"] == "reassess-periodic"
    ]


def test_a_therapist_recording_a_taper_is_refused_naming_the_reason(api: Api) -> None:
    patient = patient_with_team(api)
    med = start(api, patient, medication("sertraline", "36437", "100", now() - timedelta(days=90)))
    before = api.position()

    answer = post(
        api, THERAPIST, f"/patients/{patient}/medications/{med}/titration-plan", taper_plan("50")
    )
    assert answer.status_code == 403, answer.text
    assert "a therapist may not record TitrationPlanned (allowed: prescriber)" in answer.text
    assert appended_since(api.services.clinic, before) == []


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        (taper_plan("50", "75"), "steps.1.dose", "a taper goes down: 75 mg is not below 50 mg"),
        (taper_plan("100"), "steps.0.dose", "a taper goes down: 100 mg is not below 100 mg"),
        (taper_plan("50", reason=None), "reason", "is required for a taper (direction down)"),
    ],
)
def test_a_taper_that_does_not_go_down_or_says_no_reason_is_refused(
    api: Api, body: dict[str, Any], field: str, reason: str
) -> None:
    patient = patient_with_team(api)
    med = start(api, patient, medication("sertraline", "36437", "100", now() - timedelta(days=90)))
    before = api.position()

    answer = post(api, PRESCRIBER, f"/patients/{patient}/medications/{med}/titration-plan", body)
    assert answer.status_code == 422, answer.text
    assert [(f["field"], f["reason"]) for f in answer.json()["fields"]] == [(field, reason)]
    assert appended_since(api.services.clinic, before) == []


@pytest.mark.parametrize(
    ("icd10", "episode", "reason"),
    [
        ("F33.1", "first", "F33.1 is recurrent depressive disorder: 'first' contradicts it"),
        ("F32.1", "recurrent", "F32.1 is a single depressive episode: 'recurrent' contradicts it"),
        ("F41.1", "first", "is recorded for a depressive condition (ICD-10 F32 or F33), not F41.1"),
    ],
)
def test_an_episode_that_contradicts_its_condition_is_refused(
    api: Api, icd10: str, episode: str, reason: str
) -> None:
    patient = patient_with_team(api)
    before = api.position()
    answer = post(
        api,
        PRESCRIBER,
        f"/patients/{patient}/conditions",
        {"icd10": icd10, "description": "synthetic condition", "episode": episode},
    )
    assert answer.status_code == 422, answer.text
    [refused] = answer.json()["fields"]
    assert refused["field"] == "episode" and reason in refused["reason"]
    assert appended_since(api.services.clinic, before) == []
