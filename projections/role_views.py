"""Per-role views of one patient, built from the record index and filtered by one access
decision. Pure functions: the same rows, decision and position give the same bytes, which
is what lets a past read be replayed exactly.

Each role gets the sections its work needs (DESIGN.md's people table); every section holds
only events the decision permits, so a section can never leak a class the policy forbids.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.access import Decision, EventFacts
from domain.careplan import FunctionalRecommendationMade
from domain.consent_terms import ConsentTerms
from domain.history import care_team, demographics, medication_courses
from domain.measures import FunctionalOutcomeRecorded, QuestionnaireAnswered, SleepLogged
from domain.medication import (
    AdherenceRecorded,
    DoseChanged,
    DoseTimingChanged,
    MedicationStarted,
    MedicationStopped,
    MedicationSwitched,
    SideEffectReported,
    TaperStarted,
)
from domain.record import kind_of, kinds
from domain.registration import PatientRegistered
from domain.rules.care import Fact
from domain.vocabulary import DataClass, Role
from projections import care
from projections.record_index import ConsentRow, EventRow

SECTIONS: dict[Role, tuple[str, ...]] = {
    Role.THERAPIST: ("patient", "team", "medications", "functional", "timeline"),
    Role.PRESCRIBER: ("patient", "team", "medications", "functional", "timeline"),
    Role.PRIMARY_CARE: ("patient", "medications", "functional", "timeline"),
    Role.SCHOOL_COUNSELOR: ("functional", "timeline"),
    Role.EMPLOYER: ("functional", "timeline"),
    Role.PATIENT: ("patient", "team", "medications", "functional", "timeline"),
    Role.SUPPORTER: ("patient", "medications", "functional", "timeline"),
}
KINDS = (
    "view",
    "summary",
    "timeline",
    "events",
    "consents",
    "consent-terms",
    "care",
    "outcomes",
    "medications",
    "identity",
)
# "identity" (added for patient search) is the patient section alone (name, MRN, birth
# date, language), for the roles whose views show it.
# The kinds whose answer is the consent history (consent-terms adds the terms in force, with
# the ids their revocation names). An existing kind's answer never changes shape: a replay of
# a past read must rebuild the very bytes it recorded.
CONSENT_KINDS = ("consents", "consent-terms")


def facts(row: EventRow) -> EventFacts:
    return EventFacts(
        data_class=DataClass(row.data_class), author=row.author, sud_counseling=row.sud_counseling
    )


def permitted(rows: Iterable[EventRow], decision: Decision) -> list[EventRow]:
    return [r for r in rows if decision.permits(facts(r))]


def _patient(rows: list[EventRow], patient_id: UUID) -> dict[str, Any]:
    shown: dict[str, Any] = {"id": str(patient_id)}
    details = demographics(care.facts_of(rows))
    if details is not None:
        shown.update(
            name=details.name,
            birth_date=details.birth_date.isoformat(),
            preferred_language=details.preferred_language,
            interpreter_needed=details.interpreter_needed,
            telehealth_preference=details.telehealth_preference,
        )
        if details.mrn is not None:
            shown["mrn"] = details.mrn
    return shown


def _medications(rows: list[EventRow]) -> list[dict[str, Any]]:
    """The medications as they now stand. A course begun by a switch from a medication the
    rows do not show is left out (and so is one switched to from it): this view has only ever
    shown a switch whose first medication it shows, and a replay must rebuild its bytes."""
    shown: list[dict[str, Any]] = []
    known: set[str] = set()
    for course in medication_courses(care.facts_of(rows)).values():
        if course.switched_from is not None and course.switched_from not in known:
            continue
        known.add(course.medication_id)
        shown.append(
            {
                "medication_id": course.medication_id,
                "drug": course.drug,
                "rxnorm": course.rxnorm,
                "dose": course.dose,
                "schedule": course.schedule,
                "status": course.status,
                "since": course.started.at.isoformat(),
            }
        )
    return shown


def _entry(r: EventRow, with_payload: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "position": r.position,
        "version": r.version,
        "kind": r.kind,
        "data_class": r.data_class,
        "clinical_time": r.clinical_time.isoformat(),
        "recorded_at": r.recorded_at.isoformat(),
        "author": r.author,
        "author_role": r.author_role,
        "author_org": r.author_org,
        "summary": r.summary,
    }
    if with_payload:
        entry["payload"] = r.payload
    return entry


def facts_of_entries(entries: Iterable[Mapping[str, Any]]) -> list[Fact]:
    """The facts the entries of an "events" view hold (what `_entry` made of each row), so
    that a reader of the view folds them (domain.history) as the rows themselves are."""
    return [
        Fact(
            e["position"],
            e["kind"],
            datetime.fromisoformat(e["clinical_time"]),
            e["author"],
            e["author_role"],
            e.get("payload") or {},
            e["version"],
        )
        for e in entries
    ]


def build(
    kind: str,
    patient_id: UUID,
    rows: list[EventRow],
    decision: Decision,
    position: int,
    consent_rows: list[ConsentRow] | None = None,
    consent_terms: Sequence[ConsentTerms] = (),
) -> tuple[dict[str, Any], frozenset[str]]:
    """The view, and the data classes it actually contains."""
    shown = permitted(rows, decision) if kind not in CONSENT_KINDS else []
    sections = SECTIONS.get(decision.viewer.role, ("timeline",))
    if decision.basis == "break-the-glass":
        sections = SECTIONS[Role.THERAPIST]
    if kind == "timeline":
        sections = ("timeline",)
    elif kind == "events":
        sections = ("events",)
    elif kind == "summary":
        sections = tuple(s for s in sections if s != "timeline")
    elif kind == "identity":
        sections = tuple(s for s in sections if s == "patient")
    elif kind in (*CONSENT_KINDS, "care", "outcomes", "medications"):
        sections = ()
    body: dict[str, Any] = {
        "patient_id": str(patient_id),
        "view": kind,
        "viewer_role": decision.viewer.role.value,
        "basis": decision.basis,
        "purpose": decision.purpose.value,
        "as_of_position": position,
        "consents": [str(c) for c in decision.consents],
        "notice": decision.notice,
    }
    if decision.basis == "treating-team" and rows:
        # The writers' version for conditional writes (?expected_version=). Only the
        # treating team gets it: to others the count of events would say how much is hidden.
        body["record_version"] = rows[-1].version
    used: set[str] = set()
    by_class = {r.data_class for r in shown}
    if "patient" in sections and DataClass.DEMOGRAPHICS.value in by_class:
        body["patient"] = _patient(shown, patient_id)
        used.add(DataClass.DEMOGRAPHICS.value)
    if "team" in sections and DataClass.CARE_TEAM.value in by_class:
        team_rows = [r for r in shown if r.data_class == DataClass.CARE_TEAM.value]
        body["team"] = [
            {"user_id": m.user_id, "role": m.role.value, "organisation": m.organisation}
            for m in care_team(care.facts_of(team_rows)).values()
            if m.active
        ]
        used.add(DataClass.CARE_TEAM.value)
    if "medications" in sections:
        med_rows = [r for r in shown if r.kind in MEDICATION_KINDS]
        if med_rows:
            body["medications"] = _medications(med_rows)
            used.update(r.data_class for r in med_rows)
    if "functional" in sections:
        recs = [r for r in shown if r.kind == kind_of(FunctionalRecommendationMade)]
        if recs:
            body["functional_recommendations"] = [
                {
                    "setting": r.payload["setting"],
                    "recommendation": r.payload["recommendation"],
                    "made": r.clinical_time.isoformat(),
                    "valid_until": r.payload.get("valid_until"),
                }
                for r in recs
            ]
            used.update(r.data_class for r in recs)
    if "timeline" in sections or "events" in sections:
        body["entries"] = [_entry(r, "events" in sections) for r in shown]
        used.update(r.data_class for r in shown)
    if kind in CONSENT_KINDS:
        consent_facts = [
            c
            for c in consent_rows or []
            if decision.permits(EventFacts(data_class=DataClass.CONSENT, author=c.author))
        ]
        body["consent_events"] = [
            {
                "position": c.position,
                "version": c.version,
                "kind": c.kind,
                "author": c.author,
                "clinical_time": c.clinical_time.isoformat(),
                "summary": c.summary,
            }
            for c in consent_facts
        ]
        if kind == "consent-terms" and decision.permits(
            EventFacts(data_class=DataClass.CONSENT, author="")
        ):
            body["in_force"] = [_terms(t) for t in consent_terms]
        if consent_facts or body.get("in_force"):
            used.add(DataClass.CONSENT.value)
    if kind in CARE_KINDS:
        used.update(CARE_KINDS[kind](body, patient_id, shown, decision))
    body["classes"] = sorted(used)
    return body, frozenset(used)


def _terms(terms: ConsentTerms) -> dict[str, Any]:
    """A consent in force, with the id its amendment or revocation names."""
    return {
        "consent_id": str(terms.consent_id),
        "recipient_kind": terms.recipient_kind,
        "recipient": terms.recipient,
        "data_classes": sorted(c.value for c in terms.data_classes),
        "purpose": terms.purpose.value,
        "valid_from": terms.valid_from.isoformat(),
        "valid_until": terms.valid_until.isoformat() if terms.valid_until else None,
        "part2": terms.part2,
    }


def _care(
    body: dict[str, Any], patient_id: UUID, shown: list[EventRow], decision: Decision
) -> set[str]:
    care_rows = [r for r in shown if r.data_class in CARE_CLASSES]
    entry = care.board_entry(patient_id, care_rows, decision.at)
    body["name"] = entry.name or None
    body["due"] = [_due(d) for d in entry.due]
    body["overdue"] = [_due(d) for d in entry.overdue]
    body["upcoming"] = [_due(d) for d in entry.upcoming]
    body["alerts"] = [_alert(a) for a in entry.alerts]
    body["missed_sessions"] = entry.missed_sessions
    body["unacknowledged_messages"] = entry.unacknowledged
    return {r.data_class for r in care_rows}


def _outcomes(
    body: dict[str, Any], patient_id: UUID, shown: list[EventRow], decision: Decision
) -> set[str]:
    outcome_rows = [r for r in shown if r.kind in OUTCOME_KINDS]
    # Scored with the sex at birth the registration gave, as this view always has been (a
    # replay must rebuild the bytes it recorded; the care picture reads the latest).
    registrations = [r for r in shown if r.kind == kind_of(PatientRegistered)]
    registered = demographics(care.facts_of(registrations))
    sex = registered.sex_at_birth if registered is not None else None
    found = care.outcomes(outcome_rows, sex)
    body["series"] = found.series
    body["functional_outcomes"] = found.functional
    body["sleep"] = found.sleep
    return {r.data_class for r in outcome_rows}


def _medication_timeline(
    body: dict[str, Any], patient_id: UUID, shown: list[EventRow], decision: Decision
) -> set[str]:
    med_rows = [r for r in shown if r.kind in MEDICATION_TIMELINE_KINDS]
    body["medication_timeline"] = care.medication_timeline(med_rows)
    return {r.data_class for r in med_rows}


CARE_CLASSES = frozenset(
    c.value
    for c in (
        DataClass.DEMOGRAPHICS,
        DataClass.MEDICATION,
        DataClass.LAB,
        DataClass.MEASURE,
        DataClass.SAFETY,
        DataClass.SUD,
        DataClass.APPOINTMENT,
        DataClass.MESSAGE,
        DataClass.CARE_PLAN,
        DataClass.PROGRESS_NOTE,
    )
)
OUTCOME_KINDS = kinds(QuestionnaireAnswered, FunctionalOutcomeRecorded, SleepLogged)
MEDICATION_TIMELINE_KINDS = kinds(
    MedicationStarted,
    MedicationSwitched,
    DoseChanged,
    SideEffectReported,
    AdherenceRecorded,
    MedicationStopped,
)


CARE_KINDS = {"care": _care, "outcomes": _outcomes, "medications": _medication_timeline}


def _due(d: Any) -> dict[str, Any]:
    return {
        "key": d.key,
        "kind": d.kind,
        "title": d.title,
        "for_roles": [r.value for r in d.for_roles],
        "due_from": d.due_from.isoformat(),
        "due_by": d.due_by.isoformat(),
        "status": d.status,
        "met_at": d.met_at.isoformat() if d.met_at else None,
        "rule": {
            "id": d.rule.rule_id,
            "version": d.rule.version,
            "source": d.rule.source,
            "checked": d.rule.checked,
        },
    }


def _alert(a: Any) -> dict[str, Any]:
    return {
        "key": a.key,
        "severity": a.severity,
        "title": a.title,
        "for_roles": [r.value for r in a.for_roles],
        "raised_at": a.raised_at.isoformat(),
        "closed_at": a.closed_at.isoformat() if a.closed_at else None,
        "open": a.open,
        "rule": {
            "id": a.rule.rule_id,
            "version": a.rule.version,
            "source": a.rule.source,
            "checked": a.rule.checked,
        },
    }


MEDICATION_KINDS = kinds(
    MedicationStarted,
    MedicationSwitched,
    DoseChanged,
    DoseTimingChanged,
    TaperStarted,
    MedicationStopped,
)


def canonical(body: dict[str, Any]) -> bytes:
    """The exact bytes sent: sorted keys, no spaces, so a replay can compare hashes."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
