"""Boundary tests generated from the reassessment and taper-monitoring tables: for every row,
its item falls due exactly `interval` after its anchor and goes overdue exactly `window`
after that (a second either side of each boundary), for the drugs the row names and no
other. All data synthetic."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from domain.careplan import ConditionRecorded
from domain.measures import QuestionnaireAnswered
from domain.medication import DoseChanged, MedicationReassessed, MedicationStarted, TitrationPlanned
from domain.record import kind_of
from domain.rules.care import DueItem, Fact
from domain.rules.reassessment import (
    BENZODIAZEPINES_AND_Z_DRUGS,
    REASSESSMENT,
    TAPER_MONITORING,
    Interval,
    ReassessmentRule,
    TaperCheck,
    episode_of,
    reassessment_items,
    remission_since,
)

SECOND = timedelta(seconds=1)
ANCHOR = datetime(2025, 1, 31, 10, 0, tzinfo=UTC)  # a month end: the calendar is exercised
MED = "00000000-0000-0000-0000-000000000001"
PHQ9_SEVERE = {**{str(i): 3 for i in range(1, 9)}, "9": 0}
PHQ9_WELL = {str(i): 0 for i in range(1, 10)}


class Record:
    def __init__(self) -> None:
        self.facts: list[Fact] = []

    def add(self, event: type[Any], at: datetime, role: str = "prescriber", **payload: Any) -> Fact:
        fact = Fact(len(self.facts) + 1, kind_of(event), at, "someone@test", role, payload)
        self.facts.append(fact)
        return fact

    def start(self, drug: str, at: datetime, amount: str = "50") -> None:
        self.add(
            MedicationStarted,
            at,
            medication_id=MED,
            drug=drug,
            rxnorm="0",
            dose={"amount": amount, "unit": "mg"},
            schedule={"frequency": "once-daily"},
            indication="synthetic",
        )

    def phq9(self, at: datetime, answers: dict[str, int]) -> None:
        self.add(QuestionnaireAnswered, at, "therapist", instrument="phq-9", answers=answers)


def of(items: list[DueItem], rule_id: str) -> list[DueItem]:
    return [i for i in items if i.rule.rule_id == rule_id]


def drug_for(row: ReassessmentRule) -> str:
    return "lorazepam" if row.drugs is BENZODIAZEPINES_AND_Z_DRUGS else "sertraline"


def record_for(row: ReassessmentRule, drug: str) -> Record:
    """A record on which the row's interval runs from ANCHOR."""
    record = Record()
    if row.anchor == "remission":
        began = ANCHOR - timedelta(days=120)
        code = "F33.1" if row.episode == "recurrent" else "F32.1"
        record.add(
            ConditionRecorded,
            began,
            icd10=code,
            description="synthetic",
            status="active",
            episode=row.episode,
        )
        record.start(drug, began)
        record.phq9(began, PHQ9_SEVERE)
        record.phq9(ANCHOR, PHQ9_WELL)
    else:
        record.start(drug, ANCHOR)
    return record


@pytest.mark.parametrize("row", REASSESSMENT, ids=lambda row: row.rule.rule_id)
def test_each_row_falls_due_after_its_interval_and_goes_overdue_after_its_window(
    row: ReassessmentRule,
) -> None:
    record = record_for(row, drug_for(row))
    due_from = row.interval.after(ANCHOR)
    due_by = row.window.after(due_from)
    assert due_from > ANCHOR and due_by > due_from

    for now, status in (
        (due_from - SECOND, "due"),  # listed ahead, not yet due (the board shows it upcoming)
        (due_from + SECOND, "due"),
        (due_by - SECOND, "due"),
        (due_by + SECOND, "overdue"),
    ):
        [item] = of(reassessment_items(record.facts, now), row.rule.rule_id)
        assert (item.due_from, item.due_by, item.status) == (due_from, due_by, status)
        assert item.kind == "review" and item.for_roles == row.for_roles
    assert "continue" in item.title and drug_for(row) in item.title


@pytest.mark.parametrize("row", REASSESSMENT, ids=lambda row: row.rule.rule_id)
def test_a_reassessment_at_the_boundary_answers_each_row(row: ReassessmentRule) -> None:
    record = record_for(row, drug_for(row))
    due_from = row.interval.after(ANCHOR)
    record.add(
        MedicationReassessed,
        due_from + SECOND,
        medication_id=MED,
        assessment="x",
        decision="continue",
    )
    later = due_from + timedelta(days=400)
    items = of(reassessment_items(record.facts, later), row.rule.rule_id)
    if row.anchor == "remission":
        assert [(i.status, i.met_at) for i in items] == [("met", due_from + SECOND)]
    else:  # the interval runs again from the reassessment
        [item] = items
        assert item.due_from == row.interval.after(due_from + SECOND)


def test_the_benzodiazepine_row_names_only_benzodiazepines_and_z_drugs() -> None:
    row = next(r for r in REASSESSMENT if r.drugs is BENZODIAZEPINES_AND_Z_DRUGS)
    for drug in sorted(BENZODIAZEPINES_AND_Z_DRUGS.names):
        assert of(reassessment_items(record_for(row, drug).facts, ANCHOR), row.rule.rule_id)
    assert not of(reassessment_items(record_for(row, "sertraline").facts, ANCHOR), row.rule.rule_id)


def test_a_dose_change_does_not_restart_the_benzodiazepine_duration() -> None:
    row = next(r for r in REASSESSMENT if r.drugs is BENZODIAZEPINES_AND_Z_DRUGS)
    record = record_for(row, "lorazepam")
    record.add(DoseChanged, ANCHOR + timedelta(days=10), medication_id=MED, dose={}, reason="x")
    [item] = of(reassessment_items(record.facts, ANCHOR), row.rule.rule_id)
    assert item.due_from == row.interval.after(ANCHOR)


def test_an_antidepressant_started_after_remission_is_not_past_its_continuation() -> None:
    row = REASSESSMENT[0]
    record = record_for(row, "sertraline")
    record.facts = [f for f in record.facts if f.kind != kind_of(MedicationStarted)]
    record.start("sertraline", ANCHOR + SECOND)
    assert (
        of(reassessment_items(record.facts, ANCHOR + timedelta(days=400)), row.rule.rule_id) == []
    )


def test_the_episode_and_remission_the_rules_read() -> None:
    record = Record()
    assert episode_of(record.facts) == ("first", None)  # nothing recorded: the earlier review
    coded = record.add(ConditionRecorded, ANCHOR, icd10="F33.0", description="x", status="active")
    assert episode_of(record.facts) == ("recurrent", coded)
    record.phq9(ANCHOR, PHQ9_SEVERE)
    assert remission_since(record.facts) is None
    record.phq9(ANCHOR + timedelta(days=30), PHQ9_WELL)
    record.phq9(ANCHOR + timedelta(days=60), PHQ9_WELL)
    found = remission_since(record.facts)
    assert found is not None and found[0] == ANCHOR + timedelta(days=30)
    record.phq9(ANCHOR + timedelta(days=90), PHQ9_SEVERE)  # a relapse ends the remission
    assert remission_since(record.facts) is None


STEPS = (date(2025, 3, 1), date(2025, 3, 15), date(2025, 3, 29))


def tapering() -> Record:
    record = Record()
    record.start("sertraline", ANCHOR, "100")
    record.add(
        TitrationPlanned,
        ANCHOR,
        medication_id=MED,
        steps=[
            {"on_or_after": d.isoformat(), "dose": {"amount": a, "unit": "mg"}}
            for d, a in zip(STEPS, ("75", "50", "25"), strict=True)
        ],
        direction="down",
        reason="in remission",
    )
    return record


def starts(check: TaperCheck) -> list[datetime]:
    days = {"each step": STEPS, "first step": STEPS[:1], "last step": STEPS[-1:]}[check.start]
    return [check.offset.after(datetime.combine(d, datetime.min.time(), UTC)) for d in days]


@pytest.mark.parametrize("check", TAPER_MONITORING, ids=lambda check: check.key)
def test_each_taper_check_falls_due_from_its_step_and_goes_overdue_after_its_window(
    check: TaperCheck,
) -> None:
    record = tapering()
    for number, due_from in enumerate(starts(check)):
        due_by = check.window.after(due_from)
        for now, status in ((due_by - SECOND, "due"), (due_by + SECOND, "overdue")):
            items = [
                i
                for i in reassessment_items(record.facts, now)
                if i.key.startswith(check.key) and i.due_from == due_from
            ]
            assert [(i.due_by, i.status, i.kind) for i in items] == [(due_by, status, check.kind)]
        assert number < len(STEPS)
    # Answered a second before it is due: not met; at its start: met.
    first = starts(check)[0]
    early = tapering()
    if check.kind == "questionnaire":
        early.phq9(first - SECOND, PHQ9_WELL)
    else:
        early.add(
            MedicationReassessed,
            first - SECOND,
            medication_id=MED,
            assessment="x",
            decision="taper",
        )
    on_time = tapering()
    if check.kind == "questionnaire":
        on_time.phq9(first, PHQ9_WELL)
    else:
        on_time.add(
            MedicationReassessed, first, medication_id=MED, assessment="x", decision="taper"
        )
    late = first + timedelta(days=365)

    def status(record: Record) -> str:
        [item] = [
            i
            for i in reassessment_items(record.facts, late)
            if i.key.startswith(check.key) and i.due_from == first
        ]
        return item.status

    assert (status(early), status(on_time)) == ("overdue", "met")


def test_a_tapering_medication_is_not_asked_for_its_periodic_reassessment() -> None:
    items = reassessment_items(tapering().facts, ANCHOR + timedelta(days=400))
    assert [i for i in items if not i.key.startswith("taper-")] == []


def test_an_interval_in_months_keeps_to_the_calendar() -> None:
    assert Interval(months=1).after(ANCHOR) == datetime(2025, 2, 28, 10, 0, tzinfo=UTC)
    assert Interval(months=9).after(ANCHOR) == datetime(2025, 10, 31, 10, 0, tzinfo=UTC)
    assert Interval(months=24).after(ANCHOR) == datetime(2027, 1, 31, 10, 0, tzinfo=UTC)
    assert Interval(days=28).after(ANCHOR) == datetime(2025, 2, 28, 10, 0, tzinfo=UTC)
