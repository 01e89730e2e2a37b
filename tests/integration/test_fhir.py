"""FHIR export (adapters.fhir): each record event renders as one valid R4B resource with the
right codes and security labels, and consents render as R4B Consents.

The rows are made as the record index makes them: real domain commands on a synthetic
record, their events run through `RecordIndex`. fhir.resources checks structure only, so
every code and system is asserted here.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import pytest
from eventsourcing.persistence import Tracking
from fhir.resources.R4B import get_fhir_model_class

from adapters import fhir
from adapters.fhir import (
    RENDERED_KINDS,
    FhirRenderError,
    RenderContext,
    consent_to_fhir,
    render_rows,
    resource_id,
    security_labels,
    to_fhir,
)
from adapters.fhir.datatypes import ucum_quantity
from domain.consent import ConsentEvent, PatientConsents
from domain.events import DomainEvent
from domain.patient import PatientRecord
from domain.vocabulary import DataClass, Modality, RiskLevel, SessionMode, luhn_check_digit
from projections.record_index import BASE_FIELDS, ConsentRow, EventRow, RecordIndex
from tests.unit.builders import (
    BUPRENORPHINE,
    PART2_COUNSELOR,
    PATIENT,
    PRESCRIBER,
    SERTRALINE,
    SYSTEM,
    THERAPIST,
    a_registered_record,
    days_ago,
)

LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
PART2_LABELS = {
    (ACT_CODE, "SUD"),
    (ACT_CODE, "ETH"),
    (ACT_CODE, "42CFRPart2"),
    (ACT_CODE, "NORDSCLCD"),
}
RESTRICTED = (CONFIDENTIALITY, "R")


# --- rows as the record index makes them ---------------------------------------------------


class CapturingView:
    """Stands in for the index's view: keeps the rows the projection adds."""

    def __init__(self) -> None:
        self.rows: list[EventRow] = []

    def add_event(self, row: EventRow, tracking: Tracking) -> None:
        self.rows.append(row)

    def add_consent_event(self, row: ConsentRow, tracking: Tracking) -> None:
        pass

    def insert_tracking(self, tracking: Tracking) -> None:
        pass


def rows_of(events: list[DomainEvent]) -> list[EventRow]:
    view = CapturingView()
    index = RecordIndex(cast(Any, view))
    for position, event in enumerate(events, start=1):
        index.process(event, Tracking("tests", position))
    return view.rows


class Record:
    """One synthetic patient with one or more events of every rendered kind."""

    def __init__(self) -> None:
        record = a_registered_record(at=days_ago(90), part2=[PART2_COUNSELOR])
        self.patient_id: UUID = record.id
        self.sertraline, self.bupropion, self.escitalopram, self.buprenorphine = (
            uuid4() for _ in range(4)
        )
        self.sessions = [uuid4() for _ in range(3)]
        self.lab_orders = [uuid4(), uuid4()]
        self.build(record)
        self.rows = rows_of([e for e in record.collect_events() if isinstance(e, DomainEvent)])

    def build(self, r: PatientRecord) -> None:
        # Medications: a course through every change, an SUD one, a switch.
        r.start_medication(PRESCRIBER, days_ago(80), medication_id=self.sertraline, **SERTRALINE)
        dose = {"amount": "50", "unit": "mg"}
        r.change_dose(
            PRESCRIBER,
            days_ago(70),
            medication_id=self.sertraline,
            dose=dose,
            reason="partial response",
        )
        r.change_timing(
            PRESCRIBER,
            days_ago(65),
            medication_id=self.sertraline,
            schedule={"frequency": "twice-daily", "times": ["08:00", "20:00"]},
            dose_per_administration={"amount": "25", "unit": "mg"},
            reason="nausea after the morning dose",
        )
        r.start_taper(
            PRESCRIBER,
            days_ago(40),
            medication_id=self.sertraline,
            steps=[
                {"on_or_after": days_ago(40).date(), "dose": {"amount": "25", "unit": "mg"}},
                {"on_or_after": days_ago(26).date(), "dose": {"amount": "12.5", "unit": "mg"}},
            ],
            reason="remission sustained for a year",
        )
        r.stop_medication(
            PRESCRIBER, days_ago(12), medication_id=self.sertraline, reason="taper completed"
        )
        r.start_medication(
            PRESCRIBER, days_ago(79), medication_id=self.buprenorphine, **BUPRENORPHINE
        )
        r.start_medication(
            PRESCRIBER,
            days_ago(78),
            medication_id=self.bupropion,
            drug="bupropion XL",
            rxnorm="42347",
            dose={"amount": "150", "unit": "mg"},
            schedule={"frequency": "every-morning"},
            indication="major depressive disorder",
        )
        r.switch_medication(
            PRESCRIBER,
            days_ago(60),
            medication_id=self.bupropion,
            to_medication_id=self.escitalopram,
            drug="escitalopram",
            rxnorm="321988",
            dose={"amount": "10", "unit": "mg"},
            schedule={"frequency": "once-daily"},
            indication="major depressive disorder",
            cross_taper=True,
            reason="insomnia on bupropion",
        )
        # Labs: a high numeric result, and a preliminary text result ordered in Part 2.
        r.order_lab(
            PRESCRIBER,
            days_ago(50),
            order_id=self.lab_orders[0],
            loinc="14334-7",
            test_name="lithium [moles/volume] in serum or plasma",
            reason="level",
        )
        r.record_lab_result(
            SYSTEM,
            days_ago(49),
            order_id=self.lab_orders[0],
            loinc="14334-7",
            test_name="lithium [moles/volume] in serum or plasma",
            value="1.10",
            unit="mmol/L",
            reference_low="0.6",
            reference_high="0.8",
            comment="drawn 12 h after the evening dose",
        )
        r.order_lab(
            PRESCRIBER,
            days_ago(48),
            order_id=self.lab_orders[1],
            loinc="14334-7",
            test_name="screen",
            reason="induction",
            sud_context=True,
        )
        r.record_lab_result(
            SYSTEM,
            days_ago(47),
            order_id=self.lab_orders[1],
            loinc="14334-7",
            test_name="screen",
            value_text="pending confirmation",
            final=False,
        )
        # Vitals: everything at once, weight alone, blood pressure alone.
        r.record_vitals(
            PRESCRIBER,
            days_ago(46),
            weight_kg="70.50",
            height_cm="172.0",
            bmi="23.83",
            systolic_mmhg=124,
            diastolic_mmhg=78,
            heart_rate_bpm=72,
            waist_cm="84.5",
        )
        r.record_vitals(PATIENT, days_ago(45), weight_kg="71.2")
        r.record_vitals(PRESCRIBER, days_ago(44), systolic_mmhg=131, diastolic_mmhg=85)
        # Questionnaires.
        phq9 = {str(n): n % 4 for n in range(1, 10)} | {"10": 1}
        r.answer_questionnaire(PATIENT, days_ago(43), instrument="phq-9", answers=phq9)
        r.answer_questionnaire(
            PATIENT, days_ago(43), instrument="gad-7", answers={str(n): 1 for n in range(1, 8)}
        )
        r.answer_questionnaire(
            THERAPIST, days_ago(42), instrument="pcl-5", answers={str(n): 2 for n in range(1, 21)}
        )
        r.answer_questionnaire(
            THERAPIST, days_ago(42), instrument="c-ssrs-screener", answers={"1": 0, "2": 0, "6": 0}
        )
        # Care plan and function.
        r.record_condition(
            THERAPIST,
            days_ago(41),
            icd10="F33.1",
            description="Major depressive disorder, recurrent, moderate",
        )
        r.recommend_functional(
            THERAPIST,
            days_ago(40),
            setting="school",
            recommendation="reduced course load for the spring term",
            valid_until=days_ago(-90),
        )
        r.record_functional_outcome(
            THERAPIST,
            days_ago(39),
            setting="school",
            measure="attendance",
            period_start=days_ago(60).date(),
            period_end=days_ago(39).date(),
            achieved=8,
            expected=10,
        )
        # Sessions: attended, missed, cancelled (two hours apart: a patient's sessions may
        # not overlap).
        for n, session in enumerate(self.sessions):
            r.schedule_session(
                THERAPIST,
                days_ago(38),
                session_id=session,
                starts_at=days_ago(31) - timedelta(hours=2 * n),
                duration_minutes=50,
                mode=SessionMode.TELEHEALTH,
                modality=Modality.CBT,
            )
        r.record_attendance(THERAPIST, days_ago(31), session_id=self.sessions[0])
        r.record_missed(THERAPIST, days_ago(31), session_id=self.sessions[1], reason="overslept")
        r.cancel_session(
            PATIENT,
            days_ago(35),
            session_id=self.sessions[2],
            cancelled_by="patient",
            reason="exam week",
        )
        # Notes.
        r.write_progress_note(
            THERAPIST,
            days_ago(30),
            text="Mood improving; behavioural activation going well.",
            session_id=self.sessions[0],
            modality=Modality.CBT,
        )
        r.write_psychotherapy_note(THERAPIST, days_ago(30), text="Process notes <kept apart>.")
        r.write_psychotherapy_note(PART2_COUNSELOR, days_ago(29), text="Counseling note.")
        # Safety.
        r.report_lapse(
            PATIENT,
            days_ago(20),
            substance="alcohol",
            occurred_on=days_ago(21).date(),
            circumstances="family event",
        )
        r.assess_risk(
            THERAPIST,
            days_ago(19),
            level=RiskLevel.MODERATE,
            method="c-ssrs",
            plan="safety plan reviewed; follow-up call tomorrow",
            factors=["recent lapse", "insomnia"],
        )
        # Kinds that are not exported.
        r.set_goal(
            THERAPIST, days_ago(18), goal_id=uuid4(), description="return to full course load"
        )
        r.log_sleep(PATIENT, days_ago(17), night_of=days_ago(18).date(), hours_asleep=7, quality=4)

    def row(self, kind: str, nth: int = 0) -> EventRow:
        return [r for r in self.rows if r.kind == kind][nth]

    @property
    def context(self) -> RenderContext:
        return RenderContext.from_rows(self.rows)

    def render(self, kind: str, nth: int = 0) -> dict[str, Any]:
        return to_fhir(self.row(kind, nth), self.context)


@pytest.fixture(scope="module")
def record() -> Record:
    return Record()


def codes(concept: dict[str, Any]) -> set[tuple[str, str]]:
    return {(c["system"], c["code"]) for c in concept.get("coding", [])}


def labels(resource: dict[str, Any]) -> set[tuple[str, str]]:
    return {(s["system"], s["code"]) for s in resource["meta"]["security"]}


def revalidated(resource: dict[str, Any]) -> dict[str, Any]:
    model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    dumped: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
    return dumped


# --- every resource -----------------------------------------------------------------------


def test_the_record_has_every_rendered_kind(record: Record) -> None:
    assert {r.kind for r in record.rows} >= RENDERED_KINDS


def test_every_rendered_row_validates_again_through_r4b(record: Record) -> None:
    resources = render_rows(record.rows)
    assert len(resources) == sum(r.kind in RENDERED_KINDS for r in record.rows)
    for resource in resources:
        assert revalidated(resource) == resource
        json.dumps(resource)  # JSON-ready as it is


def test_every_resource_names_its_patient_and_is_restricted(record: Record) -> None:
    patient = f"Patient/{record.patient_id}"
    for resource in render_rows(record.rows):
        if resource["resourceType"] == "Appointment":
            assert resource["participant"][0]["actor"] == {"reference": patient}
        else:
            assert resource["subject"] == {"reference": patient}
        assert RESTRICTED in labels(resource)


def test_ids_follow_from_the_event_alone(record: Record) -> None:
    resources = render_rows(record.rows)
    rendered = [r for r in record.rows if r.kind in RENDERED_KINDS]
    namespace = uuid5(NAMESPACE_URL, "https://tandem.example/fhir")
    assert [x["id"] for x in resources] == [
        str(uuid5(namespace, f"{r.patient_id}/{r.version}")) for r in rendered
    ]
    assert len({x["id"] for x in resources}) == len(resources)
    assert render_rows(record.rows) == resources  # again: the same ids, the same resources
    row = record.row("ConditionRecorded")
    assert to_fhir(replace(row, position=row.position + 1000))["id"] == resource_id(row)


@pytest.mark.parametrize(
    "kind", ["GoalSet", "SleepLogged", "LabOrdered", "TeamMemberAdded", "NoSuchEvent"]
)
def test_a_kind_not_rendered_is_refused_by_name(record: Record, kind: str) -> None:
    assert kind not in RENDERED_KINDS
    row = next((r for r in record.rows if r.kind == kind), None) or replace(
        record.row("ConditionRecorded"), kind=kind
    )
    with pytest.raises(FhirRenderError, match=kind) as info:
        to_fhir(row, record.context)
    assert info.value.kind == kind
    assert info.value.reason


def test_render_rows_leaves_out_kinds_not_rendered(record: Record) -> None:
    kinds = [r["resourceType"] for r in render_rows(record.rows)]
    assert "Goal" not in kinds
    assert len(kinds) == len([r for r in record.rows if r.kind in RENDERED_KINDS])


def test_a_garbled_payload_is_a_render_error_naming_the_kind(record: Record) -> None:
    row = record.row("ConditionRecorded")
    with pytest.raises(FhirRenderError, match="ConditionRecorded"):
        to_fhir(replace(row, payload={"status": "active"}))
    with pytest.raises(FhirRenderError, match="LabResulted"):
        lab = record.row("LabResulted")
        to_fhir(replace(lab, payload={**lab.payload, "value": "many"}))


# --- security labels ----------------------------------------------------------------------


@pytest.mark.parametrize("data_class", [c.value for c in DataClass])
def test_security_labels_by_data_class(data_class: str) -> None:
    got = {(s["system"], s["code"]) for s in security_labels(data_class)}
    expected = {RESTRICTED}
    if data_class == "psychotherapy-note":
        expected.add((ACT_CODE, "PSYTHPN"))
    if data_class == "sud":
        expected |= PART2_LABELS
    assert got == expected


def test_sud_records_carry_the_part2_labels(record: Record) -> None:
    bup = next(
        r for r in record.rows if r.kind == "MedicationStarted" and r.payload["rxnorm"] == "1010600"
    )
    assert (bup.data_class, bup.part2) == ("medication", True)
    assert labels(to_fhir(bup)) == {RESTRICTED} | PART2_LABELS
    lapse = record.render("LapseReported")
    assert (record.row("LapseReported").data_class, record.row("LapseReported").part2) == (
        "safety",
        True,
    )
    assert labels(lapse) == {RESTRICTED} | PART2_LABELS
    drug_screen = record.render("LabResulted", 1)
    assert labels(drug_screen) == {RESTRICTED} | PART2_LABELS
    sertraline = record.render("MedicationStarted", 0)
    assert labels(sertraline) == {RESTRICTED}


def test_psychotherapy_notes_are_labelled_and_sud_counseling_notes_doubly(record: Record) -> None:
    note = record.render("PsychotherapyNoteWritten", 0)
    assert labels(note) == {RESTRICTED, (ACT_CODE, "PSYTHPN")}
    assert {(c["system"], c["code"]) for s in note["securityLabel"] for c in s["coding"]} == labels(
        note
    )
    counseling_row = record.row("PsychotherapyNoteWritten", 1)
    assert counseling_row.sud_counseling and counseling_row.data_class == "psychotherapy-note"
    counseling = to_fhir(counseling_row)
    assert labels(counseling) == {RESTRICTED, (ACT_CODE, "PSYTHPN")} | PART2_LABELS
    progress = record.render("ProgressNoteWritten")
    assert labels(progress) == {RESTRICTED}


# --- medications --------------------------------------------------------------------------


def test_a_started_medication_is_an_active_statement_coded_in_rxnorm(record: Record) -> None:
    row = record.row("MedicationStarted", 0)
    ms = to_fhir(row)  # a start needs no context
    assert ms["resourceType"] == "MedicationStatement"
    assert ms["status"] == "active"
    assert ms["medicationCodeableConcept"]["coding"] == [
        {"system": RXNORM, "code": "36437", "display": "sertraline"}
    ]
    assert datetime.fromisoformat(ms["effectiveDateTime"]) == row.clinical_time
    assert ms["reasonCode"] == [{"text": "major depressive disorder, recurrent"}]
    assert ms["identifier"] == [
        {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{record.sertraline}"}
    ]
    (dosage,) = ms["dosage"]
    assert dosage["text"] == "25 mg, once-daily at 08:00"
    assert dosage["route"] == {"text": "oral"}
    assert dosage["timing"]["repeat"] == {
        "frequency": 1,
        "period": 1,
        "periodUnit": "d",
        "timeOfDay": ["08:00:00"],
    }
    assert dosage["doseAndRate"] == [
        {"doseQuantity": {"value": 25, "unit": "mg", "system": UCUM, "code": "mg"}}
    ]


def test_changes_name_the_medication_and_give_their_reason(record: Record) -> None:
    changed = record.render("DoseChanged")
    assert changed["status"] == "active"
    assert codes(changed["medicationCodeableConcept"]) == {(RXNORM, "36437")}
    assert changed["reasonCode"] == [{"text": "partial response"}]
    # Still once daily at the change: the dose is a dose per administration.
    assert changed["dosage"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 50

    timing = record.render("DoseTimingChanged")
    assert timing["reasonCode"] == [{"text": "nausea after the morning dose"}]
    (dosage,) = timing["dosage"]
    assert dosage["timing"]["repeat"]["frequency"] == 2
    assert dosage["timing"]["repeat"]["timeOfDay"] == ["08:00:00", "20:00:00"]
    assert dosage["doseAndRate"][0]["doseQuantity"] == {
        "value": 25,
        "unit": "mg",
        "system": UCUM,
        "code": "mg",
    }


def test_a_taper_on_a_twice_daily_schedule_gives_daily_totals_per_step(record: Record) -> None:
    taper = record.render("TaperStarted")
    assert taper["status"] == "active"
    assert taper["reasonCode"] == [{"text": "remission sustained for a year"}]
    first, second = taper["dosage"]
    assert (first["sequence"], second["sequence"]) == (1, 2)
    assert second["timing"]["repeat"]["boundsPeriod"]["start"] == days_ago(26).date().isoformat()
    # Twice daily by then: the domain's dose is the day's total, not a dose per administration.
    assert "doseQuantity" not in second["doseAndRate"][0]
    assert second["doseAndRate"][0]["rateQuantity"] == {
        "value": 12.5,
        "unit": "mg/d",
        "system": UCUM,
        "code": "mg/d",
    }
    assert second["text"].startswith("12.5 mg per day, twice-daily")


def test_a_stop_is_a_stopped_statement_with_its_status_reason(record: Record) -> None:
    stopped = record.render("MedicationStopped")
    assert stopped["status"] == "stopped"
    assert stopped["statusReason"] == [{"text": "taper completed"}]
    assert codes(stopped["medicationCodeableConcept"]) == {(RXNORM, "36437")}


def test_a_switch_renders_the_new_medication(record: Record) -> None:
    switched = record.render("MedicationSwitched")
    assert switched["status"] == "active"
    assert switched["medicationCodeableConcept"]["coding"] == [
        {"system": RXNORM, "code": "321988", "display": "escitalopram"}
    ]
    assert switched["identifier"][0]["value"] == f"urn:uuid:{record.escitalopram}"
    assert {"text": "switched from bupropion XL: insomnia on bupropion"} in switched["reasonCode"]
    assert switched["note"] == [{"text": "started with a cross-taper from the previous medication"}]


def test_a_change_without_its_medication_in_context_is_refused(record: Record) -> None:
    for kind in ("DoseChanged", "DoseTimingChanged", "TaperStarted", "MedicationStopped"):
        with pytest.raises(FhirRenderError, match=r"RenderContext\.from_rows") as info:
            to_fhir(record.row(kind))
        assert info.value.kind == kind


def test_dose_units_are_ucum() -> None:
    assert fhir.DOSE_UCUM["mcg"] == "ug"
    assert fhir.DOSE_UCUM["tablet"] == "{tablet}"
    assert "unit" not in fhir.DOSE_UCUM  # which unit is not known: no code rather than a guess


# --- observations -------------------------------------------------------------------------


def test_a_lab_unit_is_coded_in_ucum_even_in_a_spelling_stored_before_the_unit_table() -> None:
    # "mIU/L" (stored by earlier versions) is no UCUM code; m[IU]/L is the one it means.
    legacy = {"value": Decimal("2.1"), "unit": "mIU/L", "system": UCUM, "code": "m[IU]/L"}
    assert ucum_quantity("2.1", "mIU/L") == legacy
    assert ucum_quantity("1.6", "mg/dL")["code"] == "mg/dL"
    assert ucum_quantity("1.2", "10*3/uL")["code"] == "10*3/uL"
    assert ucum_quantity("0.7", "meq/L")["code"] == "meq/L"


def test_a_lab_result_is_a_loinc_observation_with_range_and_interpretation(record: Record) -> None:
    obs = record.render("LabResulted", 0)
    assert obs["resourceType"] == "Observation"
    assert obs["status"] == "final"
    assert codes(obs["code"]) == {(LOINC, "14334-7")}
    assert codes(obs["category"][0]) == {
        ("http://terminology.hl7.org/CodeSystem/observation-category", "laboratory")
    }
    assert obs["valueQuantity"] == {
        "value": 1.1,
        "unit": "mmol/L",
        "system": UCUM,
        "code": "mmol/L",
    }
    assert obs["referenceRange"] == [
        {
            "low": {"value": 0.6, "unit": "mmol/L", "system": UCUM, "code": "mmol/L"},
            "high": {"value": 0.8, "unit": "mmol/L", "system": UCUM, "code": "mmol/L"},
        }
    ]
    assert codes(obs["interpretation"][0]) == {
        ("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "H")
    }
    assert obs["basedOn"][0]["identifier"]["value"] == f"urn:uuid:{record.lab_orders[0]}"
    assert obs["note"] == [{"text": "drawn 12 h after the evening dose"}]


def test_a_text_result_is_a_preliminary_value_string(record: Record) -> None:
    obs = record.render("LabResulted", 1)
    assert obs["status"] == "preliminary"
    assert obs["valueString"] == "pending confirmation"
    assert "interpretation" not in obs and "valueQuantity" not in obs


@pytest.mark.parametrize(
    ("value", "low", "high", "flag"),
    [
        ("0.5", "0.6", "0.8", "L"),
        ("0.7", "0.6", "0.8", "N"),
        ("0.8", "0.6", "0.8", "N"),
        ("5", None, "4", "H"),
        ("5", None, None, None),
    ],
)
def test_interpretation_follows_the_domain(
    record: Record, value: str, low: str | None, high: str | None, flag: str | None
) -> None:
    row = record.row("LabResulted", 0)
    payload = {**row.payload, "value": value, "reference_low": low, "reference_high": high}
    obs = to_fhir(replace(row, payload=payload))
    got = obs["interpretation"][0]["coding"][0]["code"] if "interpretation" in obs else None
    assert got == flag


def test_vitals_together_are_a_panel_of_loinc_components(record: Record) -> None:
    obs = record.render("VitalsRecorded", 0)
    assert codes(obs["category"][0]) == {
        ("http://terminology.hl7.org/CodeSystem/observation-category", "vital-signs")
    }
    assert codes(obs["code"]) == {(LOINC, "85353-1")}
    components = {
        c["code"]["coding"][0]["code"]: (c["valueQuantity"]["value"], c["valueQuantity"]["code"])
        for c in obs["component"]
    }
    assert components == {
        "29463-7": (70.5, "kg"),
        "8302-2": (172, "cm"),
        "39156-5": (23.83, "kg/m2"),
        "8480-6": (124, "mm[Hg]"),
        "8462-4": (78, "mm[Hg]"),
        "8867-4": (72, "/min"),
        "8280-0": (84.5, "cm"),
    }
    assert all(c["valueQuantity"]["system"] == UCUM for c in obs["component"])


def test_one_vital_sign_is_its_own_observation_and_blood_pressure_its_panel(record: Record) -> None:
    weight = record.render("VitalsRecorded", 1)
    assert codes(weight["code"]) == {(LOINC, "29463-7")}
    assert weight["valueQuantity"] == {"value": 71.2, "unit": "kg", "system": UCUM, "code": "kg"}
    bp = record.render("VitalsRecorded", 2)
    assert codes(bp["code"]) == {(LOINC, "85354-9")}
    assert "valueQuantity" not in bp
    assert [(codes(c["code"]), c["valueQuantity"]["value"]) for c in bp["component"]] == [
        ({(LOINC, "8480-6")}, 131),
        ({(LOINC, "8462-4")}, 85),
    ]


def test_every_loinc_code_the_adapter_uses_has_a_right_check_digit() -> None:
    used = [
        fhir.VITALS_PANEL,
        fhir.BLOOD_PRESSURE_PANEL,
        fhir.PROGRESS_NOTE,
        fhir.RELEASE_OF_INFORMATION,
        *(code for code, _, _ in fhir.VITAL_CODES.values()),
        *fhir.QUESTIONNAIRE_PANELS.values(),
    ]
    assert set(used) >= {
        "29463-7", "8302-2", "39156-5", "85354-9", "8480-6", "8462-4", "8867-4", "8280-0",
        "85353-1", "44249-1", "69737-5", "72109-2", "64292-6", "11506-3",
    }  # fmt: skip
    for code in used:
        number, check = code.split("-")
        assert luhn_check_digit(number) == int(check), code
    # LOINC answer (LA) codes are not Luhn-checked like LOINC terms: as instruments.md lists.
    assert {score: la for score, (la, _) in fhir.PHQ9_ANSWERS.items()} == {
        0: "LA6568-5",
        1: "LA6569-3",
        2: "LA6570-1",
        3: "LA6571-9",
    }


def test_a_functional_outcome_is_a_ratio_over_its_period(record: Record) -> None:
    obs = record.render("FunctionalOutcomeRecorded")
    assert obs["valueRatio"] == {"numerator": {"value": 8}, "denominator": {"value": 10}}
    assert obs["effectivePeriod"] == {
        "start": days_ago(60).date().isoformat(),
        "end": days_ago(39).date().isoformat(),
    }
    assert obs["code"]["text"] == "school attendance"


def test_a_lapse_is_a_social_history_observation(record: Record) -> None:
    obs = record.render("LapseReported")
    assert codes(obs["category"][0]) == {
        ("http://terminology.hl7.org/CodeSystem/observation-category", "social-history")
    }
    assert obs["valueString"] == "alcohol"
    assert obs["effectiveDateTime"] == days_ago(21).date().isoformat()
    assert obs["note"] == [{"text": "family event"}]


def test_a_risk_assessment_has_its_qualitative_risk_and_plan(record: Record) -> None:
    ra = record.render("RiskAssessed")
    assert ra["resourceType"] == "RiskAssessment"
    assert ra["status"] == "final"
    (prediction,) = ra["prediction"]
    assert codes(prediction["qualitativeRisk"]) == {
        ("http://terminology.hl7.org/CodeSystem/risk-probability", "moderate")
    }
    assert prediction["rationale"] == "factors: recent lapse; insomnia"
    assert ra["mitigation"] == "safety plan reviewed; follow-up call tomorrow"
    assert ra["method"] == {"text": "c-ssrs"}


# --- questionnaires -----------------------------------------------------------------------


def test_a_phq9_response_uses_loinc_answers_with_their_scores(record: Record) -> None:
    qr = record.render("QuestionnaireAnswered", 0)
    assert qr["resourceType"] == "QuestionnaireResponse"
    assert qr["status"] == "completed"
    assert qr["questionnaire"] == "http://loinc.org/q/44249-1"
    assert [i["linkId"] for i in qr["item"]] == [str(n) for n in range(1, 11)]
    la = {0: "LA6568-5", 1: "LA6569-3", 2: "LA6570-1", 3: "LA6571-9"}
    for item in qr["item"][:9]:
        (answer,) = item["answer"]
        score = int(item["linkId"]) % 4
        assert answer["valueCoding"]["system"] == LOINC
        assert answer["valueCoding"]["code"] == la[score]
        assert answer["valueCoding"]["extension"] == [
            {"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue", "valueDecimal": score}
        ]
    assert qr["item"][9]["answer"] == [{"valueInteger": 1}]  # item 10, not scored, not coded
    assert qr["source"] == {"reference": f"Patient/{record.patient_id}"}  # the patient answered


@pytest.mark.parametrize(
    ("nth", "url", "items"),
    [
        (1, "http://loinc.org/q/69737-5", 7),
        # PCL-5's panel code is marked "check" in clinical/instruments.md: not exported.
        (2, "https://tandem.example/fhir/Questionnaire/pcl-5|1", 20),
        (3, "https://tandem.example/fhir/Questionnaire/c-ssrs-screener|screener-recent", 3),
    ],
)
def test_other_instruments_answer_with_integers(
    record: Record, nth: int, url: str, items: int
) -> None:
    qr = record.render("QuestionnaireAnswered", nth)
    assert qr["questionnaire"] == url
    assert len(qr["item"]) == items
    assert all(set(i["answer"][0]) == {"valueInteger"} for i in qr["item"])
    answers = record.row("QuestionnaireAnswered", nth).payload["answers"]
    assert {i["linkId"]: i["answer"][0]["valueInteger"] for i in qr["item"]} == answers


# --- care plan, sessions, notes -----------------------------------------------------------


def test_a_condition_is_coded_in_icd10cm(record: Record) -> None:
    cond = record.render("ConditionRecorded")
    assert cond["code"]["coding"] == [
        {
            "system": "http://hl7.org/fhir/sid/icd-10-cm",
            "code": "F33.1",
            "display": "Major depressive disorder, recurrent, moderate",
        }
    ]
    assert codes(cond["clinicalStatus"]) == {
        ("http://terminology.hl7.org/CodeSystem/condition-clinical", "active")
    }
    assert codes(cond["category"][0]) == {
        ("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item")
    }


def test_a_functional_recommendation_is_a_proposed_service_request(record: Record) -> None:
    sr = record.render("FunctionalRecommendationMade")
    assert sr["resourceType"] == "ServiceRequest"
    assert (sr["status"], sr["intent"]) == ("active", "proposal")
    assert sr["code"] == {"text": "reduced course load for the spring term"}
    assert "end" in sr["occurrencePeriod"]


def test_sessions_are_appointments_through_their_statuses(record: Record) -> None:
    kinds = ["SessionScheduled", "SessionAttended", "SessionMissed", "SessionCancelled"]
    statuses = [record.render(k)["status"] for k in kinds]
    assert statuses == ["booked", "fulfilled", "noshow", "cancelled"]
    booked = record.render("SessionScheduled")
    attended = record.render("SessionAttended")
    assert attended["start"] == booked["start"]
    assert attended["identifier"] == booked["identifier"]
    start, end = (datetime.fromisoformat(booked[k]) for k in ("start", "end"))
    assert end - start == timedelta(minutes=50) == timedelta(minutes=booked["minutesDuration"])
    assert record.render("SessionMissed")["cancelationReason"] == {"text": "overslept"}
    assert record.render("SessionCancelled")["cancelationReason"] == {
        "text": "cancelled by patient: exam week"
    }


def test_a_session_outcome_needs_its_start_but_a_cancellation_does_not(record: Record) -> None:
    with pytest.raises(FhirRenderError, match="SessionAttended"):
        to_fhir(record.row("SessionAttended"))
    cancelled = to_fhir(record.row("SessionCancelled"))
    assert cancelled["status"] == "cancelled" and "start" not in cancelled


def test_notes_are_document_references_with_their_text(record: Record) -> None:
    progress = record.render("ProgressNoteWritten")
    assert progress["resourceType"] == "DocumentReference"
    assert codes(progress["type"]) == {(LOINC, "11506-3")}
    attachment = progress["content"][0]["attachment"]
    assert base64.b64decode(attachment["data"]).decode() == (
        "Mood improving; behavioural activation going well."
    )
    assert (
        progress["context"]["related"][0]["identifier"]["value"] == f"urn:uuid:{record.sessions[0]}"
    )
    psychotherapy = record.render("PsychotherapyNoteWritten", 0)
    assert psychotherapy["type"] == {"text": "Psychotherapy note"}
    # The narrative is the timeline summary, escaped: never the note itself.
    assert "kept apart" in psychotherapy["text"]["div"]
    assert "Process notes" not in psychotherapy["text"]["div"]


# --- consent ------------------------------------------------------------------------------


def granted(patient_id: UUID, **terms: Any) -> Iterator[dict[str, Any]]:
    consents = PatientConsents.open(SYSTEM, days_ago(10), patient_id)
    fields: dict[str, Any] = {
        "consent_id": uuid4(),
        "recipient_kind": "organisation",
        "recipient": "Valley Primary Care",
        "data_classes": [DataClass.MEDICATION, DataClass.LAB],
        "purpose": "treatment",
        "valid_from": days_ago(10),
        "valid_until": days_ago(-355),
        "part2": False,
    } | terms
    consents.grant(PATIENT, days_ago(9), **fields)
    consents.revoke(PATIENT, days_ago(2), consent_id=fields["consent_id"], reason="moved away")
    for event in consents.collect_events()[1:]:
        assert isinstance(event, ConsentEvent)
        yield json.loads(event.model_dump_json(exclude=BASE_FIELDS | {"patient_id"}))


def test_a_consent_is_an_r4b_privacy_consent_naming_its_recipient() -> None:
    patient = uuid4()
    grant, _ = granted(patient)
    consent = consent_to_fhir(patient, grant | {"granted_at": days_ago(9)})
    assert revalidated(consent) == consent
    assert consent["resourceType"] == "Consent"
    assert consent["status"] == "active"
    assert codes(consent["scope"]) == {
        ("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy")
    }
    assert codes(consent["category"][0]) == {(LOINC, "64292-6")}
    assert consent["patient"] == {"reference": f"Patient/{patient}"}
    provision = consent["provision"]
    assert provision["type"] == "permit"
    (actor,) = provision["actor"]
    assert codes(actor["role"]) == {
        ("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP")
    }
    assert actor["reference"] == {"type": "Organization", "display": "Valley Primary Care"}
    assert provision["purpose"] == [
        {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
            "code": "TREAT",
            "display": "treatment",
        }
    ]
    assert set().union(*(codes(a) for a in provision["action"])) == {
        ("http://terminology.hl7.org/CodeSystem/consentaction", "access"),
        ("http://terminology.hl7.org/CodeSystem/consentaction", "disclose"),
    }
    assert datetime.fromisoformat(provision["period"]["start"]) == datetime.fromisoformat(
        grant["valid_from"]
    )
    assert "end" in provision["period"]
    assert [c["text"] for c in provision["code"]] == ["medication", "lab"]
    # Neither psychotherapy notes nor Part 2 records flow under it.
    assert [(p["type"], p["securityLabel"][0]["code"]) for p in provision["provision"]] == [
        ("deny", "PSYTHPN"),
        ("deny", "42CFRPart2"),
    ]
    assert labels(consent) == {RESTRICTED}
    # Deterministic: the same consent, the same id.
    assert consent_to_fhir(patient, grant)["id"] == consent["id"]


def test_a_revoked_consent_is_inactive() -> None:
    patient = uuid4()
    grant, revoke = granted(patient)
    assert consent_to_fhir(patient, grant | revoke)["status"] == "inactive"
    assert consent_to_fhir(patient, grant | {"ended_how": "revoked"})["status"] == "inactive"


def test_a_part2_consent_names_its_policy_and_labels() -> None:
    patient = uuid4()
    grant, _ = granted(
        patient,
        recipient_kind="user",
        recipient="g.nakamura@valley-pc.example",
        data_classes=[DataClass.SUD, DataClass.MEDICATION],
        purpose="care-coordination",
        part2=True,
        valid_until=None,
        until_end_of_treatment=True,
    )
    consent = consent_to_fhir(patient, grant)
    assert revalidated(consent) == consent
    assert codes(consent["policyRule"]) == {(ACT_CODE, "42CFRPart2")}
    assert {"uri": "https://www.ecfr.gov/current/title-42/section-2.31"} in consent["policy"]
    assert labels(consent) == {RESTRICTED} | PART2_LABELS
    provision = consent["provision"]
    assert (
        provision["actor"][0]["reference"]["identifier"]["value"] == "g.nakamura@valley-pc.example"
    )
    assert provision["purpose"][0]["code"] == "TREAT"  # coordination is treatment (164.501)
    assert "end" not in provision["period"]
    assert [p["securityLabel"][0]["code"] for p in provision["provision"]] == ["PSYTHPN"]


@pytest.mark.parametrize(
    ("purpose", "system", "code"),
    [
        ("payment", "http://terminology.hl7.org/CodeSystem/v3-ActReason", "HPAYMT"),
        ("operations", "http://terminology.hl7.org/CodeSystem/v3-ActReason", "HOPERAT"),
        (
            "education-support",
            "https://tandem.example/fhir/CodeSystem/consent-purpose",
            "education-support",
        ),
    ],
)
def test_consent_purposes_map_to_purposes_of_use(purpose: str, system: str, code: str) -> None:
    patient = uuid4()
    grant, _ = granted(patient, purpose=purpose)
    (coding,) = consent_to_fhir(patient, grant)["provision"]["purpose"]
    assert (coding["system"], coding["code"]) == (system, code)


def test_a_psychotherapy_note_consent_is_not_denied_its_notes() -> None:
    patient = uuid4()
    grant, _ = granted(
        patient, data_classes=[DataClass.PSYCHOTHERAPY_NOTE], recipient="Dr Ames Clinic"
    )
    provision = consent_to_fhir(patient, grant)["provision"]
    assert [p["securityLabel"][0]["code"] for p in provision["provision"]] == ["42CFRPart2"]


def test_consent_terms_missing_a_field_are_a_render_error() -> None:
    with pytest.raises(FhirRenderError, match="Consent"):
        consent_to_fhir(uuid4(), {"consent_id": str(uuid4())})


def test_dates_in_consents_may_be_datetimes_or_strings() -> None:
    patient, consent_id = uuid4(), uuid4()
    terms: dict[str, Any] = {
        "consent_id": consent_id,
        "recipient_kind": "organisation",
        "recipient": "State University",
        "data_classes": frozenset({DataClass.FUNCTIONAL}),
        "purpose": "education-support",
        "valid_from": datetime(2025, 1, 6, 9, 0).astimezone(),
        "valid_until": date(2025, 6, 30).isoformat(),
        "part2": False,
    }
    consent = consent_to_fhir(patient, terms)
    assert consent["provision"]["period"]["end"] == "2025-06-30"
