"""Medication monitoring rules read from the record's facts (clinical/monitoring.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from domain.events import Actor
from domain.patient import PatientRecord
from domain.record import RecordEvent
from domain.rules.care import Alert, DueItem, Fact, PatientContext
from domain.rules.monitoring import MONITORING, Need, Phase, Stable, monitoring_picture
from domain.vocabulary import DataClass, LabUnit, luhn_check_digit
from tests.unit.builders import PRESCRIBER, SYSTEM, THERAPIST, demographics

START = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
ADULT_WOMAN = PatientContext(date(1990, 6, 1), "female")
ADULT_MAN = PatientContext(date(1990, 6, 1), "male")

LITHIUM = ("lithium carbonate", "42351")
VALPROATE = ("divalproex sodium", "266856")
OLANZAPINE = ("olanzapine", "61381")
ARIPIPRAZOLE = ("aripiprazole", "89013")
CLOZAPINE = ("clozapine", "2626")
METHYLPHENIDATE = ("methylphenidate", "6901")
ESCITALOPRAM = ("escitalopram", "321988")
BUPRENORPHINE = ("buprenorphine/naloxone", "1010600")  # a product code: matched by name
NALTREXONE = ("naltrexone", "7243")
LAMOTRIGINE = ("lamotrigine", "28439")

LITHIUM_LEVEL, EGFR, TSH, CALCIUM, CBC = "14334-7", "98979-8", "3016-3", "17861-6", "58410-2"
HCG, ALT, PT, ANC, GLUCOSE, LIPIDS = "2106-3", "1742-6", "5902-2", "751-8", "1558-6", "57698-3"
URINE_BUPRENORPHINE = "3414-0"


def at(day: float) -> datetime:
    return START + timedelta(days=day)


@dataclass
class Chart:
    """A patient's facts, in log order, written in days from START."""

    facts: list[Fact] = field(default_factory=list)

    def add(self, kind: str, day: float, role: str = "prescriber", **payload: Any) -> Fact:
        fact = Fact(len(self.facts) + 1, kind, at(day), f"{role}@riverside.example", role, payload)
        self.facts.append(fact)
        return fact

    def start(self, drug: tuple[str, str], day: float = 0) -> str:
        medication_id = str(uuid4())
        self.add(
            "MedicationStarted",
            day,
            medication_id=medication_id,
            drug=drug[0],
            rxnorm=drug[1],
            dose={"amount": "25", "unit": "mg"},
            schedule={"frequency": "once-daily", "times": []},
            route="oral",
            indication="x",
            sud_treatment=False,
        )
        return medication_id

    def change_dose(self, medication_id: str, day: float, amount: str = "50") -> Fact:
        return self.add(
            "DoseChanged",
            day,
            medication_id=medication_id,
            dose={"amount": amount, "unit": "mg"},
            reason="x",
        )

    def stop(self, medication_id: str, day: float) -> None:
        self.add("MedicationStopped", day, medication_id=medication_id, reason="x")

    def switch(self, medication_id: str, day: float, drug: tuple[str, str]) -> str:
        to = str(uuid4())
        self.add(
            "MedicationSwitched",
            day,
            medication_id=medication_id,
            to_medication_id=to,
            drug=drug[0],
            rxnorm=drug[1],
            dose={"amount": "5", "unit": "mg"},
            schedule={"frequency": "once-daily", "times": []},
            indication="x",
            cross_taper=False,
            reason="x",
            sud_treatment=False,
        )
        return to

    def lab(
        self,
        loinc: str,
        day: float,
        value: str | None = None,
        unit: str = "mmol/L",
        **canonical: str,
    ) -> Fact:
        numeric = {"value": value, "unit": unit} if value is not None else {"value_text": "done"}
        numeric |= canonical
        return self.add(
            "LabResulted",
            day,
            role="system",
            order_id=str(uuid4()),
            loinc=loinc,
            test_name="x",
            final=True,
            **numeric,
        )

    def vitals(self, day: float, **measured: Any) -> Fact:
        return self.add("VitalsRecorded", day, **measured)

    def session(self, day: float) -> None:
        self.add("SessionAttended", day, role="therapist", session_id=str(uuid4()))

    def message(self, day: float, role: str = "therapist") -> None:
        self.add(
            "MessageSent",
            day,
            role=role,
            message_id=str(uuid4()),
            to=["sam@mail.example"],
            subject="checking in",
            body="x",
            regarding=[],
        )

    def questionnaire(self, day: float, instrument: str = "phq-9") -> None:
        answers = {str(n): 1 for n in range(1, 10)}
        self.add(
            "QuestionnaireAnswered",
            day,
            role="patient",
            instrument=instrument,
            instrument_version="1",
            answers=answers,
        )

    def reassess(self, medication_id: str, day: float) -> None:
        self.add(
            "MedicationReassessed",
            day,
            medication_id=medication_id,
            assessment="x",
            decision="continue",
        )

    def picture(
        self, day: float, patient: PatientContext = ADULT_WOMAN
    ) -> tuple[list[DueItem], list[Alert]]:
        return monitoring_picture(self.facts, patient, at(day))

    def items(
        self, day: float, rule_id: str, patient: PatientContext = ADULT_WOMAN
    ) -> list[DueItem]:
        return [i for i in self.picture(day, patient)[0] if i.rule.rule_id == rule_id]

    def statuses(
        self, day: float, rule_id: str, patient: PatientContext = ADULT_WOMAN
    ) -> list[str]:
        return [i.status for i in self.items(day, rule_id, patient)]


def windows(items: list[DueItem]) -> list[tuple[float, float]]:
    return [((i.due_from - START).days, (i.due_by - START).days) for i in items]


def rule_ids(items: list[DueItem]) -> set[str]:
    return {i.rule.rule_id for i in items}


# --- the table ----------------------------------------------------------------------------


def test_every_lab_rule_names_loinc_codes_with_valid_check_digits() -> None:
    codes = {c for rule in MONITORING.schedules for c in rule.need.loinc}
    codes |= {c for rule in MONITORING.level_alerts for c in rule.loinc}
    assert {LITHIUM_LEVEL, EGFR, TSH, CALCIUM, "777-3", "6690-2", ANC, "1558-6", "4548-4"} <= codes
    assert "2345-7" not in codes, "a random serum glucose meets no fasting requirement"
    for code in codes:
        number, check = code.split("-")
        assert luhn_check_digit(number) == int(check), code


def test_a_lab_need_with_a_wrong_check_digit_is_refused() -> None:
    with pytest.raises(ValueError, match="14334-8"):
        Need("lab", "lithium level", loinc=frozenset({"14334-8"}))


def test_a_phase_until_stable_must_repeat_and_repeats_are_positive() -> None:
    with pytest.raises(ValueError, match="one day or more"):
        Phase(7, every=0)
    with pytest.raises(ValueError, match="must repeat"):
        Phase(7, until_stable=Stable(Decimal("0.6"), Decimal("0.8"), 2, "mmol/L"))


def test_rules_not_read_in_a_primary_source_are_flagged_unchecked() -> None:
    unchecked = {ref.rule_id for ref in MONITORING.refs() if not ref.checked}
    assert unchecked >= {
        "atomoxetine-vitals",
        "buprenorphine-visits",
        "citalopram-qt",
        "pdmp-check",
        "serotonin-maoi-combination",
        "serotonin-ssri-snri-combination",
        "lamotrigine-rash",
        "valproate-above-range",
        "clozapine-troponin",
        "lithium-interaction",
        "sga-glucose",
    }
    # A row citing only the team's notes is unchecked, whatever it was declared.
    for ref in MONITORING.refs():
        if ref.source.startswith(("clinical/", "rule-audit.md")):
            assert not ref.checked, ref.rule_id
    ids = [ref.rule_id for ref in MONITORING.refs()]
    assert len(ids) == len(set(ids))
    assert all(ref.version and ref.source for ref in MONITORING.refs())


def test_a_record_without_monitored_medication_has_nothing_due() -> None:
    chart = Chart()
    chart.start(LAMOTRIGINE)
    chart.lab(LITHIUM_LEVEL, 3, "0.7")
    assert chart.picture(10) == ([], [])


# --- lithium ------------------------------------------------------------------------------

LITHIUM_BASELINE = {
    "lithium-renal",
    "lithium-thyroid",
    "lithium-calcium",
    "lithium-blood-count",
    "lithium-weight",
    "lithium-pregnancy-test",
}


def test_a_lithium_start_makes_baseline_tests_due_by_the_first_dose() -> None:
    chart = Chart()
    medication_id = chart.start(LITHIUM)

    items, alerts = chart.picture(0)

    baseline = [i for i in items if i.rule.rule_id in LITHIUM_BASELINE and i.due_by == at(0)]
    assert rule_ids(baseline) == LITHIUM_BASELINE
    assert len(baseline) == len(LITHIUM_BASELINE)
    assert {(i.due_from, i.due_by, i.status) for i in baseline} == {(at(-30), at(0), "due")}
    renal = next(i for i in baseline if i.rule.rule_id == "lithium-renal")
    assert renal.key == f"lithium-renal:{medication_id}:1:0.0"
    assert renal.kind == "lab" and renal.anchor_position == 1
    assert "lithium carbonate" in renal.title and "baseline" in renal.title
    assert alerts == []


def test_results_from_the_30_days_before_the_start_meet_the_baseline() -> None:
    chart = Chart()
    for code in (EGFR, TSH, CALCIUM, CBC, HCG):
        chart.lab(code, -10)
    chart.vitals(-1, weight_kg="80.0", bmi="25.1")
    chart.start(LITHIUM)

    baseline = [i for i in chart.picture(3)[0] if i.key.endswith(":0.0")]
    assert rule_ids(baseline) == LITHIUM_BASELINE | {"lithium-level"}
    baseline = [i for i in baseline if i.rule.rule_id in LITHIUM_BASELINE]

    assert {(i.status, i.met_at) for i in baseline} == {("met", at(-10))} | {("met", at(-1))}


def test_a_result_older_than_30_days_is_no_baseline_and_the_item_goes_overdue() -> None:
    chart = Chart()
    chart.lab(TSH, -31)
    chart.start(LITHIUM)

    # ...and the 6-monthly test is the next one up.
    assert chart.statuses(1, "lithium-thyroid") == ["overdue", "due"]
    assert chart.statuses(0, "lithium-thyroid") == ["due", "due"]


def test_a_baseline_drawn_after_the_start_is_met_late() -> None:
    chart = Chart()
    chart.start(LITHIUM)
    chart.lab(EGFR, 2)

    renal = chart.items(3, "lithium-renal")[0]
    assert (renal.status, renal.met_at, renal.due_by) == ("met", at(2), at(0))


def test_no_pregnancy_test_is_due_for_a_man() -> None:
    chart = Chart()
    chart.start(LITHIUM)
    assert chart.items(0, "lithium-pregnancy-test", ADULT_MAN) == []
    unknown = PatientContext(date(1990, 6, 1), None)
    assert len(chart.items(0, "lithium-pregnancy-test", unknown)) == 1


def test_a_trough_level_is_due_5_to_7_days_after_the_start() -> None:
    chart = Chart()
    chart.start(LITHIUM)

    [level] = chart.items(1, "lithium-level")
    assert windows([level]) == [(5, 7)]
    assert level.status == "due"
    assert chart.statuses(8, "lithium-level") == ["overdue", "due"]  # and the next week's


def test_a_level_on_day_6_meets_the_trough_but_one_on_day_3_does_not() -> None:
    chart = Chart()
    chart.start(LITHIUM)
    chart.lab(LITHIUM_LEVEL, 3, "0.3")
    assert chart.statuses(6, "lithium-level") == ["due", "due"]  # days 5-7, and next week's

    chart.lab(LITHIUM_LEVEL, 6, "0.5")
    level = chart.items(6.5, "lithium-level")[0]
    assert (level.status, level.met_at) == ("met", at(6))


def test_a_dose_change_restarts_the_levels_and_replaces_what_had_not_opened() -> None:
    chart = Chart()
    medication_id = chart.start(LITHIUM)
    chart.lab(LITHIUM_LEVEL, 6, "0.42")
    change = chart.change_dose(medication_id, 8, "900")

    items = chart.items(9, "lithium-level")

    assert [i.key for i in items] == [
        f"lithium-level:{medication_id}:1:0.0",
        f"lithium-level:{medication_id}:{change.position}:0.0",
    ]
    assert windows(items) == [(5, 7), (13, 15)]
    assert [i.status for i in items] == ["met", "due"]


def test_levels_are_weekly_until_two_stable_then_three_monthly_then_six_monthly() -> None:
    chart = Chart()
    medication_id = chart.start(LITHIUM)
    chart.lab(LITHIUM_LEVEL, 6, "0.42")
    change = chart.change_dose(medication_id, 8, "900")
    chart.lab(LITHIUM_LEVEL, 14, "0.68")
    chart.lab(LITHIUM_LEVEL, 20, "0.9")  # out of range: the count starts again
    chart.lab(LITHIUM_LEVEL, 27, "0.72")

    not_yet = chart.items(30, "lithium-level")[1:]
    assert windows(not_yet) == [(13, 15), (20, 22), (27, 29), (34, 36)]

    chart.lab(LITHIUM_LEVEL, 34, "0.70")  # two stable in a row: 0.72, 0.70
    after = [i for i in chart.items(40, "lithium-level") if i.anchor_position == change.position]
    assert [i.key.rsplit(":", 1)[1] for i in after] == ["0.0", "0.1", "0.2", "0.3", "1.0"]
    assert windows(after)[-1] == (34 + 91 - 14, 34 + 91 + 14)
    assert after[-1].status == "due" and "3-monthly" in after[-1].title

    for day in (125, 216, 307):
        chart.lab(LITHIUM_LEVEL, day, "0.7")
    later = [i for i in chart.items(400, "lithium-level") if i.anchor_position == change.position]
    three_monthly = [i for i in later if i.key.endswith((":1.0", ":1.1", ":1.2"))]
    assert [i.status for i in three_monthly] == ["met", "met", "met"]
    # The first year is over (day 307 + 91 > 365): the next level is 6 months on.
    assert windows(later[-1:]) == [(307 + 182 - 14, 307 + 182 + 14)]
    assert later[-1].key.endswith(":2.0")


def test_renal_thyroid_calcium_and_weight_are_six_monthly() -> None:
    chart = Chart()
    chart.start(LITHIUM)
    for rule_id in ("lithium-renal", "lithium-thyroid", "lithium-calcium", "lithium-weight"):
        items = chart.items(170, rule_id)
        assert windows(items) == [(-30, 0), (168, 196), (350, 378)], rule_id
    assert windows(chart.items(170, "lithium-blood-count")) == [(-30, 0)]

    chart.vitals(180, weight_kg="82.0")
    assert chart.statuses(200, "lithium-weight") == ["overdue", "met", "due"]


@pytest.mark.parametrize(("value", "alerted"), [("1.5", True), ("1.49", False), ("2.1", True)])
def test_a_lithium_level_of_1_5_or_more_raises_a_high_toxicity_alert(
    value: str, alerted: bool
) -> None:
    chart = Chart()
    chart.start(LITHIUM)
    level = chart.lab(LITHIUM_LEVEL, 20, value)

    _, alerts = chart.picture(21)

    if not alerted:
        assert alerts == []
        return
    [alert] = alerts
    assert (alert.severity, alert.rule.rule_id, alert.open) == ("high", "lithium-toxicity", True)
    assert alert.key == f"lithium-toxicity:{level.position}"
    assert (alert.raised_at, alert.anchor_position) == (at(20), level.position)
    assert value in alert.title


def test_a_toxic_level_alerts_even_without_lithium_on_the_record() -> None:
    chart = Chart()
    chart.lab(LITHIUM_LEVEL, 1, "1.8")
    assert [a.rule.rule_id for a in chart.picture(2)[1]] == ["lithium-toxicity"]


def test_a_stored_lithium_level_in_a_unit_foreign_to_the_test_raises_nothing_clears_nothing() -> (
    None
):
    # Stored before units were checked (no canonical value): mg/L is no unit of 14334-7,
    # so nothing is guessed, and the trough stays due.
    chart = Chart()
    chart.start(LITHIUM)
    chart.lab(LITHIUM_LEVEL, 6, "12", unit="mg/L")
    assert chart.picture(7)[1] == []
    assert chart.statuses(7, "lithium-level")[0] == "due"


def test_a_stored_lithium_level_in_mg_per_dl_is_converted_when_read() -> None:
    # Stored before canonical values were: its unit fits the test, so it converts.
    chart = Chart()
    chart.start(LITHIUM)
    chart.lab(LITHIUM_LEVEL, 6, "1.6", unit="mg/dL")
    [alert] = chart.picture(7)[1]
    assert alert.rule.rule_id == "lithium-toxicity"
    assert "(2.3 mmol/L; entered as 1.6 mg/dL)" in alert.title
    assert chart.statuses(7, "lithium-level")[0] == "met"


def test_a_stored_canonical_value_is_the_one_compared() -> None:
    chart = Chart()
    chart.lab(LITHIUM_LEVEL, 1, "1.6", unit="mg/dL", canonical_value="1.4", canonical_unit="mmol/L")
    assert chart.picture(2)[1] == []


def test_anc_bands_are_read_only_while_clozapine_is_taken() -> None:
    chart = Chart()
    chart.lab(ANC, 1, "0.8", unit="10*3/uL")
    assert chart.picture(2)[1] == []
    chart.start(CLOZAPINE, 3)
    chart.lab(ANC, 4, "0.8", unit="10*3/uL")
    assert [a.rule.rule_id for a in chart.picture(5)[1]] == ["clozapine-anc-moderate"]


def test_the_toxicity_alert_closes_on_a_dose_change_or_a_lower_level() -> None:
    chart = Chart()
    medication_id = chart.start(LITHIUM)
    chart.lab(LITHIUM_LEVEL, 20, "1.6")
    chart.change_dose(medication_id, 20.5, "400")
    [alert] = chart.picture(21)[1]
    assert alert.closed_at == at(20.5) and not alert.open

    other = Chart()
    other.start(LITHIUM)
    other.lab(LITHIUM_LEVEL, 20, "1.6")
    other.lab(LITHIUM_LEVEL, 22, "1.7")  # still toxic: closes nothing
    other.lab(LITHIUM_LEVEL, 25, "0.9")
    first, second = other.picture(26)[1]
    assert (first.closed_at, second.closed_at) == (at(25), at(25))


# --- valproate ----------------------------------------------------------------------------

VALPROATE_BASELINE = {
    "valproate-liver",
    "valproate-blood-count",
    "valproate-clotting",
    "valproate-weight",
    "valproate-pregnancy-test",
    # Pregnancy prevention in place before the first dose (MHRA).
    "valproate-pregnancy-prevention",
}
FOR_WOMEN = {"valproate-pregnancy-test", "valproate-pregnancy-prevention"}


def test_a_valproate_start_makes_baseline_tests_due() -> None:
    chart = Chart()
    chart.start(VALPROATE)
    items = [i for i in chart.picture(0)[0] if i.due_from <= at(0)]
    assert rule_ids(items) == VALPROATE_BASELINE
    assert {i.status for i in items} == {"due"}
    for_a_man = [i for i in chart.picture(0, ADULT_MAN)[0] if i.due_from <= at(0)]
    assert rule_ids(for_a_man) == VALPROATE_BASELINE - FOR_WOMEN


def test_valproate_baselines_are_met_by_results_and_vitals() -> None:
    chart = Chart()
    for code in (ALT, "777-3", PT, HCG):
        chart.lab(code, -5)
    chart.vitals(-5, bmi="24.0")
    chart.start(VALPROATE)
    baseline = [i for i in chart.picture(1)[0] if i.due_by == at(0)]
    met = [i for i in baseline if i.status == "met"]
    assert len(met) == 5 and rule_ids(baseline) - rule_ids(met) == {
        "valproate-pregnancy-prevention"
    }


def test_valproate_baselines_go_overdue_after_the_start() -> None:
    chart = Chart()
    chart.start(VALPROATE)
    overdue = {i.rule.rule_id for i in chart.picture(2)[0] if i.status == "overdue"}
    assert overdue == VALPROATE_BASELINE


def test_valproate_liver_tests_are_due_monthly_for_6_months_then_yearly() -> None:
    chart = Chart()
    chart.start(VALPROATE)
    chart.lab(ALT, 0)
    chart.lab(ALT, 180)
    items = chart.items(699, "valproate-liver")
    monthly = [(30 * k - 7, 30 * k + 7) for k in range(1, 7)]
    assert windows(items) == [(-30, 0), *monthly, (335, 395), (700, 760)]
    statuses = [i.status for i in items]
    assert statuses == ["met", *["overdue"] * 5, "met", "overdue", "due"]
    assert chart.items(170, "valproate-clotting")[1:] == []


def test_a_yearly_pregnancy_prevention_review_is_due_for_a_woman() -> None:
    chart = Chart()
    medication_id = chart.start(VALPROATE)
    chart.reassess(medication_id, 350)
    review = chart.items(360, "valproate-pregnancy-prevention-review")[0]
    assert (review.kind, review.status, review.met_at) == ("review", "met", at(350))
    assert chart.items(360, "valproate-pregnancy-prevention-review", ADULT_MAN) == []


# --- second-generation antipsychotics -----------------------------------------------------


def test_an_antipsychotic_start_makes_metabolic_baselines_due() -> None:
    chart = Chart()
    chart.start(OLANZAPINE)
    baseline = [i for i in chart.picture(0)[0] if i.due_by == at(0)]
    assert rule_ids(baseline) == {
        "sga-weight",
        "sga-blood-pressure",
        "sga-glucose",
        "sga-lipids",
        "sga-waist",
    }


def test_weight_is_due_at_weeks_4_8_12_then_quarterly() -> None:
    chart = Chart()
    chart.start(("quetiapine XR", "51272"))
    for day in (-3, 28, 56):
        chart.vitals(day, weight_kg="70")
    items = chart.items(200, "sga-weight")
    assert windows(items) == [(-30, 0), (21, 35), (49, 63), (77, 91), (161, 189), (252, 280)]
    assert [i.status for i in items] == ["met", "met", "met", "overdue", "overdue", "due"]


def test_blood_pressure_glucose_and_lipids_are_due_at_week_12_and_then_periodically() -> None:
    chart = Chart()
    chart.start(OLANZAPINE)
    chart.vitals(85, systolic_mmhg=124, diastolic_mmhg=80)
    chart.lab(GLUCOSE, 86)
    chart.lab(LIPIDS, 86)
    for rule_id in ("sga-blood-pressure", "sga-glucose"):
        items = chart.items(400, rule_id)
        assert windows(items) == [(-30, 0), (77, 98), (335, 395), (700, 760)], rule_id
        assert [i.status for i in items] == ["overdue", "met", "overdue", "due"]
    lipids = chart.items(400, "sga-lipids")
    assert windows(lipids)[-1] == (1826 - 60, 1826 + 60)


def test_blood_pressure_alone_does_not_meet_a_weight_item() -> None:
    chart = Chart()
    chart.start(ARIPIPRAZOLE)
    chart.vitals(-1, systolic_mmhg=120, diastolic_mmhg=80)
    assert chart.statuses(1, "sga-weight")[0] == "overdue"
    assert chart.statuses(1, "sga-blood-pressure")[0] == "met"


@pytest.mark.parametrize(("weight", "review"), [("84.00", True), ("83.99", False)])
def test_a_5_percent_weight_gain_opens_a_switch_review_for_prescriber_and_therapist(
    weight: str, review: bool
) -> None:
    chart = Chart()
    medication_id = chart.start(OLANZAPINE)
    chart.vitals(-2, weight_kg="80.00")
    chart.vitals(20, weight_kg="82.00")
    gain = chart.vitals(40, weight_kg=weight)

    reviews = chart.items(45, "sga-weight-gain")

    if not review:
        assert reviews == []
        return
    [item] = reviews
    assert (item.kind, item.status, item.for_roles) == (
        "review",
        "due",
        ("prescriber", "therapist"),
    )
    assert "consider switching" in item.title and "+5.0%" in item.title
    assert (item.due_from, item.due_by) == (at(40), at(54))
    assert item.key == f"sga-weight-gain:{medication_id}:{gain.position}:0"
    assert chart.statuses(60, "sga-weight-gain") == ["overdue"]
    chart.reassess(medication_id, 50)
    assert chart.statuses(60, "sga-weight-gain") == ["met"]


def test_the_weight_gain_baseline_is_the_first_weight_after_the_start_when_none_before() -> None:
    chart = Chart()
    chart.start(OLANZAPINE)
    chart.vitals(-45, weight_kg="60")  # too old to be the baseline
    chart.vitals(3, weight_kg="70")
    chart.vitals(30, weight_kg="73.5")
    [item] = chart.items(31, "sga-weight-gain")
    assert "70 to 73.5 kg" in item.title


def test_a_second_gain_does_not_open_a_second_review() -> None:
    chart = Chart()
    chart.start(OLANZAPINE)
    chart.vitals(0, weight_kg="80")
    chart.vitals(30, weight_kg="85")
    chart.vitals(60, weight_kg="88")
    assert len(chart.items(61, "sga-weight-gain")) == 1


# --- clozapine ----------------------------------------------------------------------------


def test_clozapine_needs_a_baseline_anc_then_weekly_counts() -> None:
    chart = Chart()
    chart.start(CLOZAPINE)
    chart.lab(ANC, -2, "2.1", unit="10*3/uL")
    chart.lab(ANC, 7, "2.0", unit="10*3/uL")
    items = chart.items(16, "clozapine-neutrophils")
    assert windows(items) == [(-30, 0), (5, 9), (12, 16), (19, 23)]
    assert [i.status for i in items] == ["met", "met", "due", "due"]
    assert chart.statuses(17, "clozapine-neutrophils")[2] == "overdue"
    # Clozapine is also a second-generation antipsychotic: metabolic monitoring applies.
    assert chart.items(0, "sga-weight")


def test_clozapine_counts_are_fortnightly_from_month_6_and_monthly_after_a_year() -> None:
    chart = Chart()
    chart.start(CLOZAPINE)
    items = chart.items(400, "clozapine-neutrophils")
    weekly = [i for i in items if i.key.split(":")[-1].startswith("1.")]
    fortnightly = [i for i in items if i.key.split(":")[-1].startswith("2.")]
    monthly = [i for i in items if i.key.split(":")[-1].startswith("3.")]
    assert len(weekly) == 26 and windows(weekly[-1:]) == [(180, 184)]
    assert windows(fortnightly[:2]) == [(193, 199), (207, 213)]
    assert windows(fortnightly[-1:]) == [(361, 367)]
    assert windows(monthly) == [(389, 399), (419, 429)]


def test_a_missed_anc_stays_overdue_when_the_next_is_done() -> None:
    chart = Chart()
    chart.start(CLOZAPINE)
    chart.lab(ANC, 14, "2.0", unit="10*3/uL")  # week 2 done, week 1 missed
    items = chart.items(15, "clozapine-neutrophils")
    assert [i.status for i in items[1:3]] == ["overdue", "met"]


# --- stimulants ---------------------------------------------------------------------------


def test_a_stimulant_start_and_each_dose_change_need_blood_pressure_and_pulse() -> None:
    chart = Chart()
    medication_id = chart.start(METHYLPHENIDATE)
    [item] = chart.items(0, "stimulant-vitals")
    assert (item.kind, windows([item])) == ("vitals", [(-7, 7)])

    chart.vitals(1, systolic_mmhg=118, diastolic_mmhg=76)  # no pulse: not yet met
    assert chart.statuses(2, "stimulant-vitals") == ["due"]
    chart.vitals(2, systolic_mmhg=118, diastolic_mmhg=76, heart_rate_bpm=72)
    assert chart.statuses(3, "stimulant-vitals") == ["met"]

    chart.change_dose(medication_id, 30, "36")
    assert chart.statuses(40, "stimulant-vitals") == ["met", "overdue"]


def test_amphetamine_products_are_matched_by_name() -> None:
    chart = Chart()
    chart.start(("lisdexamfetamine dimesylate", "700810"))
    chart.start(("Mixed Amphetamine Salts", "1"))
    assert len(chart.items(0, "stimulant-vitals")) == 2


def test_atomoxetine_has_its_own_unchecked_vitals_rule() -> None:
    chart = Chart()
    chart.start(("atomoxetine", "38400"))
    [item] = chart.items(0, "atomoxetine-vitals")
    assert item.rule.checked is False


# --- SSRIs and SNRIs under 25 -------------------------------------------------------------


def born_years_before(years: int, day: float = 0, days_after: int = 0) -> PatientContext:
    """A patient who turns `years` `days_after` days after `day`."""
    birthday = at(day + days_after).date()
    return PatientContext(birthday.replace(year=birthday.year - years), "female")


UNDER_25 = {"ssri-under-25-contact", "ssri-under-25-visit", "ssri-under-25-phq9"}


def test_an_under_25_item_names_the_facts_it_read_the_birth_date_among_them() -> None:
    chart = Chart()
    medication_id = chart.start(ESCITALOPRAM)
    dose = chart.change_dose(medication_id, 2)
    chart.session(3)
    chart.lab(LITHIUM_LEVEL, 4, "0.8")  # read by no SSRI rule: not an input
    young = born_years_before(20)
    patient = PatientContext(young.birth_date, young.sex_at_birth, frozenset({99}))

    [visit, *_] = chart.items(5, "ssri-under-25-visit", patient)
    assert visit.inputs == {1, dose.position, 3, 99}  # the course, the visit, the details
    assert visit.awaits == {DataClass.APPOINTMENT, DataClass.DEMOGRAPHICS}


def test_an_ssri_started_at_24_brings_contact_visit_and_phq9() -> None:
    chart = Chart()
    chart.start(ESCITALOPRAM)
    patient = born_years_before(25, days_after=1)  # 24 on the day of the start

    items = [i for i in chart.picture(0, patient)[0] if i.rule.rule_id in UNDER_25]

    assert {i.rule.rule_id: (windows([i])[0], i.kind) for i in items} == {
        "ssri-under-25-contact": ((1, 7), "contact"),
        "ssri-under-25-visit": ((1, 28), "visit"),
        "ssri-under-25-phq9": ((28, 42), "questionnaire"),
    }
    assert {i.for_roles for i in items} == {("prescriber", "therapist")}


def test_an_ssri_started_at_25_brings_no_follow_up() -> None:
    chart = Chart()
    chart.start(ESCITALOPRAM)
    patient = born_years_before(25)  # 25 that very day
    assert rule_ids(chart.picture(0, patient)[0]) & UNDER_25 == set()


def test_the_age_that_counts_is_the_age_on_the_trigger_date() -> None:
    chart = Chart()
    medication_id = chart.start(ESCITALOPRAM)
    chart.change_dose(medication_id, 20, "10")
    patient = born_years_before(25, days_after=10)  # 24 at the start, 25 at the dose change

    items = [i for i in chart.picture(60, patient)[0] if i.rule.rule_id in UNDER_25]

    assert {i.anchor_position for i in items} == {1}
    assert len(items) == 3


def test_a_dose_change_under_25_brings_its_own_follow_up() -> None:
    chart = Chart()
    medication_id = chart.start(ESCITALOPRAM)
    change = chart.change_dose(medication_id, 10, "10")
    patient = born_years_before(20)
    items = chart.items(11, "ssri-under-25-contact", patient)
    assert [i.anchor_position for i in items] == [1, change.position]
    # The PHQ-9 of the start had not opened: the dose change's replaces it.
    assert [i.anchor_position for i in chart.items(11, "ssri-under-25-phq9", patient)] == [
        change.position
    ]


def test_the_follow_up_is_met_by_a_clinician_message_a_session_and_a_phq9() -> None:
    chart = Chart()
    chart.start(ESCITALOPRAM)
    young = born_years_before(20)
    chart.message(3, role="supporter")  # a supporter's message is no clinical contact
    assert chart.statuses(4, "ssri-under-25-contact", young) == ["due"]
    chart.message(4, role="prescriber")
    chart.session(20)
    chart.questionnaire(10)  # too early for the 4-6 week PHQ-9
    chart.questionnaire(30, instrument="gad-7")  # another instrument
    assert chart.statuses(31, "ssri-under-25-phq9", young) == ["due"]
    chart.questionnaire(31)

    statuses = {i.rule.rule_id: i.status for i in chart.picture(32, young)[0]}
    assert statuses == dict.fromkeys(UNDER_25, "met")


def test_the_follow_up_goes_overdue_in_its_own_windows() -> None:
    chart = Chart()
    chart.start(("sertraline", "36437"))
    young = born_years_before(19)
    assert chart.statuses(8, "ssri-under-25-contact", young) == ["overdue"]
    assert chart.statuses(8, "ssri-under-25-visit", young) == ["due"]
    assert chart.statuses(29, "ssri-under-25-visit", young) == ["overdue"]
    assert chart.statuses(43, "ssri-under-25-phq9", young) == ["overdue"]


def test_bupropion_carries_the_antidepressant_suicidality_warning_too() -> None:
    # rule-audit.md: every antidepressant carries the boxed warning, not only SSRIs/SNRIs.
    chart = Chart()
    chart.start(("bupropion", "42347"))
    items, _ = chart.picture(0, born_years_before(20))
    assert {i.rule.rule_id for i in items} == UNDER_25


# --- buprenorphine and naltrexone ---------------------------------------------------------


def test_buprenorphine_needs_a_baseline_urine_drug_test_and_weekly_visits_then_monthly() -> None:
    chart = Chart()
    chart.start(BUPRENORPHINE)
    chart.lab(URINE_BUPRENORPHINE, 0)
    for day in (6, 13, 27):
        chart.session(day)

    test, first_week, *_ = chart.items(1, "buprenorphine-urine-drug-test")
    assert (test.status, test.rule.checked) == ("met", True)
    assert (first_week.status, "weekly" in first_week.title) == ("due", True)
    visits = chart.items(40, "buprenorphine-visits")
    assert windows(visits) == [(1, 7), (8, 14), (15, 21), (22, 28), (29, 58), (59, 88)]
    assert [v.status for v in visits] == ["met", "met", "overdue", "met", "due", "due"]
    assert visits[-2].key.endswith(":1.0") and "monthly" in visits[-2].title
    assert chart.statuses(60, "buprenorphine-visits")[-3:] == ["overdue", "due", "due"]


def test_naltrexone_needs_baseline_liver_tests_and_an_opioid_free_review() -> None:
    chart = Chart()
    chart.add("EvaluationRecorded", -5, symptom_history="opioid-free for 12 days")
    chart.start(NALTREXONE)
    chart.lab(ALT, 3)

    items = {i.rule.rule_id: i for i in chart.picture(4)[0]}

    assert set(items) == {"naltrexone-liver", "naltrexone-opioid-free"}
    review = items["naltrexone-opioid-free"]
    assert (review.kind, review.status, review.met_at) == ("review", "met", at(-5))
    assert windows([review]) == [(-14, 0)]
    assert (items["naltrexone-liver"].status, items["naltrexone-liver"].met_at) == ("met", at(3))


def test_without_an_evaluation_the_opioid_free_review_is_overdue_at_the_start() -> None:
    chart = Chart()
    chart.start(NALTREXONE)
    assert chart.statuses(0.5, "naltrexone-opioid-free") == ["overdue"]


# --- lamotrigine --------------------------------------------------------------------------


def test_a_rash_on_lamotrigine_raises_an_alert_until_it_is_stopped() -> None:
    chart = Chart()
    medication_id = chart.start(LAMOTRIGINE)
    chart.add(
        "SideEffectReported",
        10,
        role="patient",
        medication_id=medication_id,
        effect="Rash on the arms",
        severity="moderate",
    )
    [alert] = chart.picture(11)[1]
    assert (alert.rule.rule_id, alert.severity, alert.open) == ("lamotrigine-rash", "high", True)
    assert alert.rule.checked is False
    chart.stop(medication_id, 10.2)
    assert chart.picture(11)[1][0].closed_at == at(10.2)


def test_a_rash_on_another_drug_or_a_rash_free_effect_raises_nothing() -> None:
    chart = Chart()
    lamotrigine, sertraline = chart.start(LAMOTRIGINE), chart.start(("sertraline", "36437"))
    chart.add("SideEffectReported", 3, medication_id=sertraline, effect="rash", severity="mild")
    chart.add("SideEffectReported", 3, medication_id=lamotrigine, effect="brash", severity="mild")
    assert chart.picture(4)[1] == []


# --- stops, switches and keys -------------------------------------------------------------


def test_a_stopped_medication_makes_nothing_new_due_but_keeps_what_was_due() -> None:
    chart = Chart()
    medication_id = chart.start(OLANZAPINE)
    chart.stop(medication_id, 30)
    chart.vitals(31, weight_kg="70")
    chart.vitals(60, weight_kg="90")  # after the stop: no weight-gain review either

    items = chart.picture(400)[0]

    assert all(i.due_from <= at(30) for i in items)
    assert windows([i for i in items if i.rule.rule_id == "sga-weight"]) == [(-30, 0), (21, 35)]
    assert [i.status for i in items if i.rule.rule_id == "sga-weight"] == ["overdue", "met"]
    assert not any(i.rule.rule_id == "sga-weight-gain" for i in items)


def test_a_stopped_lithium_makes_no_more_levels_due() -> None:
    chart = Chart()
    medication_id = chart.start(LITHIUM)
    chart.stop(medication_id, 10)
    assert windows(chart.items(100, "lithium-level")) == [(5, 7)]


def test_a_switch_ends_the_old_schedule_and_starts_the_new_ones() -> None:
    chart = Chart()
    olanzapine = chart.start(OLANZAPINE)
    chart.vitals(50, weight_kg="82")
    aripiprazole = chart.switch(olanzapine, 60, ARIPIPRAZOLE)

    weights = chart.items(100, "sga-weight")
    old = [i for i in weights if f":{olanzapine}:" in i.key]
    new = [i for i in weights if f":{aripiprazole}:" in i.key]

    assert all(i.due_from <= at(60) for i in old)
    assert new[0].status == "met" and new[0].met_at == at(50)  # the last weight is its baseline
    assert new[0].anchor_position == 3 and "aripiprazole" in new[0].title


def test_keys_are_unique_and_stable_between_evaluations() -> None:
    chart = Chart()
    lithium = chart.start(LITHIUM)
    chart.start(OLANZAPINE)
    chart.start(CLOZAPINE, 2)
    chart.lab(LITHIUM_LEVEL, 6, "0.5")
    chart.change_dose(lithium, 8)
    first = {i.key: i for i in chart.picture(60)[0]}

    chart.lab(LITHIUM_LEVEL, 61, "0.7")
    chart.vitals(62, weight_kg="75")
    items = chart.picture(90)[0]
    second = {i.key: i for i in items}

    assert len(second) == len(items)
    assert set(first) <= set(second)
    for key, item in first.items():
        assert (second[key].due_from, second[key].due_by) == (item.due_from, item.due_by)
        assert second[key].rule == item.rule


def test_late_entered_facts_count_by_clinical_time() -> None:
    chart = Chart()
    chart.start(LITHIUM)
    chart.lab(LITHIUM_LEVEL, 13, "0.7")
    chart.lab(LITHIUM_LEVEL, 6, "0.7")  # entered later, taken earlier
    assert chart.statuses(14, "lithium-level")[:2] == ["met", "met"]


# --- facts as the record index stores them ------------------------------------------------

ENVELOPE = {
    "originator_id",
    "originator_version",
    "timestamp",
    "event_id",
    "actor",
    "data_class",
    "clinical_time",
    "originator_topic",
}


def facts_of(events: list[Any]) -> list[Fact]:
    return [
        Fact(
            e.originator_version,
            type(e).__name__,
            e.clinical_time,
            e.actor.user_id,
            e.actor.role.value,
            json.loads(e.model_dump_json(exclude=ENVELOPE)),
        )
        for e in events
        if isinstance(e, RecordEvent)
    ]


def test_the_rules_read_the_payloads_the_record_actually_stores() -> None:
    when = datetime.now(UTC) - timedelta(days=40)
    record = PatientRecord.register(SYSTEM, when, **demographics())
    for member in (THERAPIST, PRESCRIBER):
        record.add_team_member(
            SYSTEM, when, user_id=member.user_id, role=member.role, organisation="x"
        )
    lithium = uuid4()
    record.start_medication(
        PRESCRIBER,
        when + timedelta(days=1),
        medication_id=lithium,
        drug="Lithium Carbonate",
        rxnorm="42351",
        dose={"amount": "600", "unit": "mg"},
        schedule={"frequency": "at-bedtime"},
        indication="bipolar II disorder",
    )
    order = uuid4()
    prescriber: Actor = PRESCRIBER
    record.order_lab(
        prescriber,
        when + timedelta(days=6),
        order_id=order,
        loinc=LITHIUM_LEVEL,
        test_name="lithium",
        reason="trough",
    )
    record.record_lab_result(
        SYSTEM,
        when + timedelta(days=7),
        order_id=order,
        loinc=LITHIUM_LEVEL,
        test_name="lithium",
        value=Decimal("1.60"),
        unit=LabUnit.MMOL_L,
    )
    record.record_vitals(THERAPIST, when + timedelta(days=7), weight_kg="81.5")
    facts = facts_of(record.collect_events())

    items, alerts = monitoring_picture(
        facts, PatientContext(date(1994, 5, 17), "female"), when + timedelta(days=8)
    )

    by_rule = {i.rule.rule_id: i for i in items if i.key.endswith(":4:0.0")}
    assert by_rule["lithium-level"].status == "met"
    assert by_rule["lithium-weight"].met_at == when + timedelta(days=7)
    assert by_rule["lithium-renal"].status == "overdue"
    assert [a.rule.rule_id for a in alerts] == ["lithium-toxicity"]
    assert "1.6 mmol/L" in alerts[0].title
