"""Per-role views of one patient, built from the record index and filtered by one access
decision. Pure functions: the same rows, decision and position give the same bytes, which
is what lets a past read be replayed exactly.

Each role gets the sections its work needs (DESIGN.md's people table); every section holds
only events the decision permits, so a section can never leak a class the policy forbids.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from uuid import UUID

from domain.access import Decision, EventFacts
from domain.careplan import FunctionalRecommendationMade
from domain.consent import PatientConsents
from domain.consent_terms import ConsentTerms
from domain.directory import Directory
from domain.history import care_team, demographics, medication_courses, sessions
from domain.history.demographics import DETAILS
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
from domain.registration import EmergencyContactSet, PatientRegistered
from domain.rules.care import Fact
from domain.rules.monitoring import MONITORING, MonitoringTable
from domain.rules.monitoring.table import MONITORING_V3
from domain.rules.monitoring.v1.table import MONITORING as MONITORING_V1
from domain.therapy import SessionAttended, SessionCancelled, SessionMissed, SessionScheduled
from domain.vocabulary import DataClass, Role
from projections import care, corrections
from projections.board import PatientBoard, PolicyFacts, board_of, status_at
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
    "consent-list",
    "care",
    "outcomes",
    "medications",
    "care-items",
    "identity",
    "timeline-page",
    "events-page",
    "scored-outcomes",
    "board-items",
    "view-page",
    "patient-page",
    "own-page",
    "appointments",
)
# "scored-outcomes" (added for instrument presentation) is "outcomes" with what each score
# was scored by (its scoring version, cut-off and the cut-off's source) and, for a screen,
# its result or triage level in place of response and remission. "outcomes" keeps its
# builder for the replays of reads answered with it.
# "board-items" (added for the board as a projection) is care-items' board sections read
# from the stored board (projections.board), not from the rules (`build_board`).
# "identity" (added for patient search) is the patient section alone (name, MRN, birth
# date, language), for the roles whose views show it.
# "appointments" (added for the schedule page) is the patient section (for the roles whose
# views show it) and the patient's sessions: each one the rows the decision permits
# schedule, with its start, length, mode, kind, modality and status (scheduled, attended,
# missed or cancelled), in the order they were scheduled.
# The kinds whose answer is the consent history (consent-terms adds the terms in force, with
# the ids their revocation names; consent-list adds every consent given, in force or not, with
# its id, the directory entry it names and whether it is still waiting for one). An existing
# kind's answer never changes shape: a replay of a past read must rebuild the very bytes it
# recorded.
CONSENT_KINDS = ("consents", "consent-terms", "consent-list")

# "timeline-page" and "events-page" are "timeline" and "events" one page at a time: newest
# first, the entries before a log position (`Page.before`; None: the newest), at most
# `Page.size` of them. The answer's `page` says which page it is and where the next (older)
# one starts, and the access record keeps both, so a replay rebuilds the very page.
# "view-page" (added for paged views) is "view" with its timeline one page at a time, so a
# role view's size is bounded whatever the history's length; "view" keeps its builder for
# the replays of reads answered with it.
PAGED_KINDS = {"timeline-page": "timeline", "events-page": "events", "view-page": "view"}
# "patient-page" (added for one access record per page view) is everything the patient page
# shows, in one answer: its `sections`, each the answer its own kind would give at the same
# position for the same decision (`PAGE_SECTIONS`): "view" (a view-page, paged by the same
# Page) always; then, as the view's basis and classes call for them, the care items (the
# treating team's), the scored outcomes, the medication timeline and the events (the
# treating team's: what the page's forms offer). An emergency read shows the view alone.
PATIENT_PAGE = "patient-page"
# "own-page" is everything the patient's own page (/me) shows, in one answer: its
# `sections` "view" (the whole view), "outcomes" (scored), "medications", "consents" (the
# consent list) and "events", each the answer its own kind would give (`OWN_SECTIONS`).
OWN_PAGE = "own-page"
OWN_SECTIONS: tuple[tuple[str, str], ...] = (
    ("view", "view"),
    ("outcomes", "scored-outcomes"),
    ("medications", "medications"),
    ("consents", "consent-list"),
    ("events", "events"),
)
# The composite kinds: the consent rows and the consent list are read for them too.
COMPOSITE_KINDS = frozenset({PATIENT_PAGE, OWN_PAGE})
# The pages' kinds: paged, their access record keeping the page they disclosed.
PAGE_KINDS = frozenset({*PAGED_KINDS, PATIENT_PAGE})
PAGE_DEFAULT = 50
PAGE_MAX = 500


@dataclass(frozen=True)
class Page:
    """Which page of a paged kind: the entries before log position `before` (None: from
    the newest), at most `size` of them."""

    before: int | None = None
    size: int = PAGE_DEFAULT


def _paged(shown: list[EventRow], page: Page) -> tuple[list[EventRow], dict[str, Any]]:
    """One page of the rows shown, newest first, and the `page` section that names it."""
    older = [r for r in reversed(shown) if page.before is None or r.position < page.before]
    taken = older[: page.size]
    more = len(older) > page.size
    return taken, {
        "before": page.before,
        "size": page.size,
        "count": len(taken),
        "next_before": taken[-1].position if more else None,
    }


# How an answer is laid out; each access record keeps the layout it was answered in, so a
# replay rebuilds it in that layout. 1: a Part 2 record showed the class `sud` in place of
# its own (and so fell out of the sections built by class, the care team among them);
# 2: it shows its own class, with `part2: true` beside it; 3: as 2, with the care views'
# rules those of the rule audit (domain.rules.monitoring) and the reassessment and
# deprescribing rules (domain/rules/reassessment.py); formats 1 and 2 keep the monitoring
# table of rule version 1 (domain.rules.monitoring.v1) and no reassessment items, so their
# answers replay to their bytes; 4: as 3, with the rows of the rule audit's last lithium
# and lamotrigine items (a baseline ECG with cardiovascular disease or risk factors;
# 3-monthly levels after year 1 with interacting drugs, renal decline, poor adherence or
# pregnancy; lamotrigine re-titrated after a restart; lamotrigine with an estrogen-containing
# contraceptive); format 3 keeps the table without them
# (domain.rules.monitoring.table.MONITORING_V3).
VIEW_FORMAT = 4
REASSESSMENT_FORMAT = 3


def monitoring_table(view_format: int) -> MonitoringTable:
    """The monitoring rules an answer in `view_format` was computed with."""
    if view_format >= 4:
        return MONITORING
    return MONITORING_V3 if view_format == 3 else MONITORING_V1


def facts(row: EventRow) -> EventFacts:
    return EventFacts(
        data_class=DataClass(row.data_class),
        author=row.author,
        sud_counseling=row.sud_counseling,
        part2=row.part2,
    )


def _was_sud(row: EventRow) -> bool:
    """A Part 2 record that carried the class `sud` before Part 2 became a label (an SUD
    counseling note never did: it kept `psychotherapy-note`)."""
    return row.part2 and row.data_class != DataClass.PSYCHOTHERAPY_NOTE.value


def shown_class(row: EventRow, view_format: int) -> str:
    """A row's data class as an answer in `view_format` names it."""
    return DataClass.SUD.value if view_format < 2 and _was_sud(row) else row.data_class


def accounted(rows: Sequence[EventRow], view_format: int) -> set[str]:
    """The classes an access record accounts for: each row's class, and `sud` for any
    Part 2 record disclosed (42 CFR 2.25, 2.32: Part 2 disclosures are listed apart)."""
    found = {shown_class(r, view_format) for r in rows}
    if any(_was_sud(r) for r in rows):
        found.add(DataClass.SUD.value)
    return found


def permitted(rows: Iterable[EventRow], decision: Decision) -> list[EventRow]:
    """The rows the decision permits. The policy reads only a row's facts, and a record
    has few distinct ones (classes x authors), so each is decided once."""
    decided: dict[tuple[str, str, bool, bool], bool] = {}
    shown = []
    for r in rows:
        key = (r.data_class, r.author, r.sud_counseling, r.part2)
        allowed = decided.get(key)
        if allowed is None:
            allowed = decided[key] = decision.permits(facts(r))
        if allowed:
            shown.append(r)
    return shown


EMERGENCY_CONTACT = kind_of(EmergencyContactSet)


def _patient(rows: list[EventRow], patient_id: UUID) -> dict[str, Any]:
    shown: dict[str, Any] = {"id": str(patient_id)}
    details = demographics(care.facts_of(r for r in rows if r.kind in DETAILS))
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
    contacts = [r for r in rows if r.kind == EMERGENCY_CONTACT]
    if contacts:  # the last one set stands (a record without one keeps its bytes)
        last = contacts[-1].payload
        shown["emergency_contact"] = {k: last[k] for k in ("name", "relationship", "phone")}
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


def _entry(
    r: EventRow,
    with_payload: bool,
    view_format: int,
    correction: corrections.Correction | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "position": r.position,
        "version": r.version,
        "kind": r.kind,
        "data_class": shown_class(r, view_format),
        "clinical_time": r.clinical_time_text,
        "recorded_at": r.recorded_at_text,
        "author": r.author,
        "author_role": r.author_role,
        "author_org": r.author_org,
        "summary": r.summary,
    }
    if view_format >= 2:
        entry["part2"] = r.part2
    if with_payload:
        entry["payload"] = r.payload
    if correction is not None:  # only on a corrected entry: others keep their bytes
        entry["correction"] = correction.mark()
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


def _sections(kind: str, decision: Decision) -> tuple[str, ...]:
    """The sections an answer of `kind` holds for this reader."""
    sections = SECTIONS.get(decision.viewer.role, ("timeline",))
    if decision.basis == "break-the-glass":
        sections = SECTIONS[Role.THERAPIST]
    kind = PAGED_KINDS.get(kind, kind)
    if kind == "timeline":
        sections = ("timeline",)
    elif kind == "events":
        sections = ("events",)
    elif kind == "summary":
        sections = tuple(s for s in sections if s != "timeline")
    elif kind == "identity":
        sections = tuple(s for s in sections if s == "patient")
    elif kind == APPOINTMENTS:
        sections = (*(s for s in sections if s == "patient"), "sessions")
    elif kind in (*CONSENT_KINDS, *CARE_KINDS, CARE_ITEMS):
        sections = ()
    return sections


# A patient page's sections after its view: (name, kind, for the treating team only, the
# view classes any one of which calls for it; empty: always).
PAGE_SECTIONS: tuple[tuple[str, str, bool, frozenset[str]], ...] = (
    ("care", "care-items", True, frozenset()),
    ("outcomes", "scored-outcomes", False, frozenset({"measure", "functional", "sud"})),
    ("medications", "medications", False, frozenset({"medication", "sud"})),
    ("events", "events", True, frozenset()),
)


def _patient_page(
    patient_id: UUID,
    rows: list[EventRow],
    decision: Decision,
    position: int,
    view_format: int,
    page: Page | None,
    zone: tzinfo | None,
) -> tuple[dict[str, Any], frozenset[str]]:
    """Every section the patient page shows, each built as its own kind would be."""

    def part(kind: str) -> tuple[dict[str, Any], frozenset[str]]:
        return build(
            kind,
            patient_id,
            rows,
            decision,
            position,
            view_format=view_format,
            page=page,
            zone=zone,
        )

    view, accounted = part("view-page")
    sections = {"view": view}
    shown = set(view.get("classes") or [])
    if decision.basis != "break-the-glass":
        treating = decision.basis == "treating-team"
        for name, kind, team_only, wanted in PAGE_SECTIONS:
            if (treating or not team_only) and (not wanted or shown & wanted):
                sections[name], classes = part(kind)
                accounted |= classes
    body = composite(sections, PATIENT_PAGE)
    return body, accounted


def composite(sections: dict[str, dict[str, Any]], kind: str) -> dict[str, Any]:
    """A composite answer: the view's reader, basis and position, and its sections."""
    view = sections["view"]
    body: dict[str, Any] = {
        key: view[key]
        for key in (
            "patient_id",
            "viewer_role",
            "basis",
            "purpose",
            "as_of_position",
            "consents",
            "notice",
        )
    }
    body["view"] = kind
    body["sections"] = sections
    body["classes"] = sorted({c for b in sections.values() for c in b.get("classes") or []})
    body["part2"] = any(b.get("part2") for b in sections.values())
    return body


def _own_page(
    patient_id: UUID,
    rows: list[EventRow],
    decision: Decision,
    position: int,
    consent_rows: list[ConsentRow] | None,
    consent_terms: Sequence[ConsentTerms],
    listed: Sequence[dict[str, Any]],
    view_format: int,
    zone: tzinfo | None,
) -> tuple[dict[str, Any], frozenset[str]]:
    """Every section the patient's own page shows, each built as its own kind would be."""
    sections: dict[str, dict[str, Any]] = {}
    accounted: frozenset[str] = frozenset()
    for name, kind in OWN_SECTIONS:
        sections[name], classes = build(
            kind,
            patient_id,
            rows,
            decision,
            position,
            consent_rows,
            consent_terms,
            listed,
            view_format,
            None,
            zone,
        )
        accounted |= classes
    return composite(sections, OWN_PAGE), accounted


def build(
    kind: str,
    patient_id: UUID,
    rows: list[EventRow],
    decision: Decision,
    position: int,
    consent_rows: list[ConsentRow] | None = None,
    consent_terms: Sequence[ConsentTerms] = (),
    listed: Sequence[dict[str, Any]] = (),
    view_format: int = VIEW_FORMAT,
    page: Page | None = None,
    zone: tzinfo | None = None,
) -> tuple[dict[str, Any], frozenset[str]]:
    """The view, and the data classes it actually contains (`accounted`): a composite
    kind (the patient page, the patient's own page) built from its sections, each as its
    own kind (`_single`)."""
    if kind == PATIENT_PAGE:
        return _patient_page(patient_id, rows, decision, position, view_format, page, zone)
    if kind == OWN_PAGE:
        return _own_page(
            patient_id,
            rows,
            decision,
            position,
            consent_rows,
            consent_terms,
            listed,
            view_format,
            zone,
        )
    return _single(
        kind,
        patient_id,
        rows,
        decision,
        position,
        consent_rows,
        consent_terms,
        listed,
        view_format,
        page,
        zone,
    )


def _single(
    kind: str,
    patient_id: UUID,
    rows: list[EventRow],
    decision: Decision,
    position: int,
    consent_rows: list[ConsentRow] | None = None,
    consent_terms: Sequence[ConsentTerms] = (),
    listed: Sequence[dict[str, Any]] = (),
    view_format: int = VIEW_FORMAT,
    page: Page | None = None,
    zone: tzinfo | None = None,
) -> tuple[dict[str, Any], frozenset[str]]:
    """The view, and the data classes it actually contains (`accounted`); `page` for the
    paged kinds (default: the newest PAGE_DEFAULT entries). `zone` is the clinic's time
    zone the care rules count days in (None: the rule before it had one). Corrections are
    folded in first (projections.corrections): every section, chart and rule reads the
    record as it stands; a timeline lists an errored entry with its mark."""
    listed_rows = permitted(rows, decision) if kind not in CONSENT_KINDS else []
    found = corrections.corrections(rows) if listed_rows else {}
    rows = corrections.standing(rows, found)
    shown = corrections.standing(listed_rows, found)
    sections = _sections(kind, decision)
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
    used_rows: list[EventRow] = []
    used: set[str] = set()
    by_class = {shown_class(r, view_format) for r in shown}
    if "patient" in sections and DataClass.DEMOGRAPHICS.value in by_class:
        body["patient"] = _patient(shown, patient_id)
        used.add(DataClass.DEMOGRAPHICS.value)
    if "team" in sections and DataClass.CARE_TEAM.value in by_class:
        team_rows = [r for r in shown if shown_class(r, view_format) == DataClass.CARE_TEAM.value]
        body["team"] = [
            {"user_id": m.user_id, "role": m.role.value, "organisation": m.organisation}
            for m in care_team(care.facts_of(team_rows)).values()
            if m.active
        ]
        used_rows += team_rows
    if "medications" in sections:
        med_rows = [r for r in shown if r.kind in MEDICATION_KINDS]
        if med_rows:
            body["medications"] = _medications(med_rows)
            used_rows += med_rows
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
            used_rows += recs
    if "sessions" in sections:
        used_rows += _session_section(body, shown)
    if "timeline" in sections or "events" in sections:
        entries = listed_rows
        if kind in PAGED_KINDS:
            entries, body["page"] = _paged(listed_rows, page or Page())
        body["entries"] = [
            _entry(r, "events" in sections, view_format, correction)
            for r, correction in corrections.shown_in_timeline(
                entries, found, amend="timeline" in sections
            )
        ]
        used_rows += entries
    if kind in CONSENT_KINDS and _consent_section(
        body, kind, decision, consent_rows or [], consent_terms, listed
    ):
        used.add(DataClass.CONSENT.value)
    if kind in CARE_KINDS:
        used_rows += CARE_KINDS[kind](body, patient_id, shown, decision, view_format, zone)
    if kind == CARE_ITEMS:
        item_rows, awaited = _care_items(body, patient_id, rows, shown, decision, zone, view_format)
        used_rows += item_rows
        used.update(awaited)
    used.update(shown_class(r, view_format) for r in used_rows)
    body["classes"] = sorted(used)
    if view_format >= 2:
        body["part2"] = any(r.part2 for r in used_rows)
    return body, frozenset(used | accounted(used_rows, view_format))


APPOINTMENTS = "appointments"
SESSION_KINDS = kinds(SessionScheduled, SessionAttended, SessionMissed, SessionCancelled)


def _session_section(body: dict[str, Any], shown: list[EventRow]) -> list[EventRow]:
    """The appointments view's sessions, from the rows shown; the rows they rest on."""
    session_rows = [r for r in shown if r.kind in SESSION_KINDS]
    body["sessions"] = _sessions(session_rows)
    return session_rows


def _sessions(rows: list[EventRow]) -> list[dict[str, Any]]:
    """The sessions the rows schedule, each with its status as the rows leave it (a session
    whose scheduling the rows do not show is left out: it has no time to show)."""
    shown = []
    for session in sessions(care.facts_of(rows)).values():
        if session.scheduled is None:
            continue
        shown.append(
            {
                "session_id": session.session_id,
                "position": session.scheduled.position,
                "starts_at": session.scheduled.payload["starts_at"],
                "duration_minutes": session.duration_minutes,
                "mode": session.mode,
                "kind": session.kind,
                "modality": session.modality,
                "status": session.status,
            }
        )
    return shown


def _consent_section(
    body: dict[str, Any],
    kind: str,
    decision: Decision,
    consent_rows: list[ConsentRow],
    consent_terms: Sequence[ConsentTerms],
    listed: Sequence[dict[str, Any]],
) -> bool:
    """The consent history (and for consent-terms the terms in force), if the viewer may
    see consents; whether it shows anything."""
    consent_facts = [
        c
        for c in consent_rows
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
    if kind == "consent-list" and decision.permits(
        EventFacts(data_class=DataClass.CONSENT, author="")
    ):
        body["given"] = list(listed)
    return bool(consent_facts or body.get("in_force") or body.get("given"))


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


def listed_consents(
    consents: PatientConsents, directory: Directory | None, at: datetime
) -> list[dict[str, Any]]:
    """Every consent the patient has given, in the order given, as the consent-list view
    shows it at `at`: its id (which its amendment, revocation or resolution names), the
    recipient as the consent names it, the directory entry that is (None while it names
    none: then it opens nothing and the clinic is asked to resolve it), and whether it is in
    force."""
    listed = []
    for consent_id, history in consents.consents.items():
        terms = history.version_at(at) or history.current
        resolved = directory.resolved(terms) if directory is not None else terms
        entry = (
            directory.entries.get(resolved.recipient_id)
            if directory is not None and resolved is not None and resolved.recipient_id
            else None
        )
        listed.append(
            {
                "consent_id": str(consent_id),
                "recipient_kind": terms.recipient_kind,
                "recipient": terms.recipient,
                "recipient_id": str(entry.entry_id) if entry else None,
                "recipient_name": entry.name if entry else None,
                "recipient_role": entry.role.value if entry else None,
                "resolved": resolved is not None,
                "in_force": resolved is not None and history.in_force_at(at) is not None,
                "ended": history.ended_how,
                "granted_at": history.granted_at.isoformat(),
                "data_classes": sorted(c.value for c in terms.data_classes),
                "purpose": terms.purpose.value,
                "valid_from": terms.valid_from.isoformat(),
                "valid_until": terms.valid_until.isoformat() if terms.valid_until else None,
                "part2": terms.part2,
            }
        )
    return listed


def _care(
    body: dict[str, Any],
    patient_id: UUID,
    shown: list[EventRow],
    decision: Decision,
    view_format: int,
    zone: tzinfo | None = None,
) -> list[EventRow]:
    care_rows = [r for r in shown if shown_class(r, view_format) in CARE_CLASSES]
    reassessment = view_format >= REASSESSMENT_FORMAT
    entry = care.board_entry(
        patient_id,
        care_rows,
        decision.at,
        zone,
        reassessment=reassessment,
        table=monitoring_table(view_format),
    )
    body["name"] = entry.name or None
    body["due"] = [_due(d) for d in entry.due]
    body["overdue"] = [_due(d) for d in entry.overdue]
    body["upcoming"] = [_due(d) for d in entry.upcoming]
    body["alerts"] = [_alert(a) for a in entry.alerts]
    body["missed_sessions"] = entry.missed_sessions
    body["unacknowledged_messages"] = entry.unacknowledged
    return care_rows


def _care_items(
    body: dict[str, Any],
    patient_id: UUID,
    rows: list[EventRow],
    shown: list[EventRow],
    decision: Decision,
    zone: tzinfo | None = None,
    view_format: int = VIEW_FORMAT,
) -> tuple[list[EventRow], set[str]]:
    """The care view with the rules run on the whole record: a reader gets each due item
    and alert only if the decision permits every row it was computed from and every class
    whose absence it reports, with those classes and whether a Part 2 record was among its
    inputs. ("care" ran them on the rows the reader may see, so a partial view made items
    the treating team does not have; it is kept to replay the reads made with it.) Returns
    the rows the answer rests on and the classes whose absence its items report."""
    care_rows = [r for r in shown if r.data_class in CARE_CLASSES]
    reassessment = view_format >= REASSESSMENT_FORMAT
    table = monitoring_table(view_format)
    seen = care.board_entry(
        patient_id, care_rows, decision.at, zone, reassessment=reassessment, table=table
    )
    whole = care.board_entry(
        patient_id, rows, decision.at, zone, reassessment=reassessment, table=table
    )
    by_position = {r.position: r for r in rows}
    used_rows = list(care_rows)
    awaited: set[str] = set()

    def kept(items: Sequence[Any], render: Any) -> list[dict[str, Any]]:
        found = []
        for item in items:
            source = care.provenance(item, by_position)
            if _opens(decision, source):
                found.append(
                    {**render(item), "classes": sorted(source.classes), "part2": source.part2}
                )
                used_rows.extend(source.rows)
                awaited.update(c.value for c in source.awaits)
        return found

    body["name"] = seen.name or None
    body["due"] = kept(whole.due, _due)
    body["overdue"] = kept(whole.overdue, _due)
    body["upcoming"] = kept(whole.upcoming, _due)
    body["alerts"] = kept(whole.alerts, _alert)
    body["missed_sessions"] = seen.missed_sessions
    body["unacknowledged_messages"] = seen.unacknowledged
    return used_rows, awaited


def _opens(decision: Decision, source: care.Provenance) -> bool:
    """Whether the reader may see everything an item was computed from."""
    return all(decision.permits(facts(r)) for r in source.rows) and all(
        decision.permits(EventFacts(data_class=c, author="")) for c in source.awaits
    )


def _outcomes(
    body: dict[str, Any],
    patient_id: UUID,
    shown: list[EventRow],
    decision: Decision,
    view_format: int,
    zone: tzinfo | None = None,
) -> list[EventRow]:
    outcome_rows = [r for r in shown if r.kind in OUTCOME_KINDS]
    # Scored with the sex at birth the registration gave, as this view always has been (a
    # replay must rebuild the bytes it recorded; the care picture reads the latest).
    registrations = [r for r in shown if r.kind == kind_of(PatientRegistered)]
    registered = demographics(care.facts_of(registrations))
    sex = registered.sex_at_birth if registered is not None else None
    found = (care.scored_outcomes if body["view"] == SCORED_OUTCOMES else care.outcomes)(
        outcome_rows, sex
    )
    body["series"] = found.series
    body["functional_outcomes"] = found.functional
    body["sleep"] = found.sleep
    return outcome_rows


def _medication_timeline(
    body: dict[str, Any],
    patient_id: UUID,
    shown: list[EventRow],
    decision: Decision,
    view_format: int,
    zone: tzinfo | None = None,
) -> list[EventRow]:
    med_rows = [r for r in shown if r.kind in MEDICATION_TIMELINE_KINDS]
    body["medication_timeline"] = care.medication_timeline(med_rows)
    return med_rows


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


# The care view whose rules read the whole record (see `_care_items`).
CARE_ITEMS = "care-items"
SCORED_OUTCOMES = "scored-outcomes"
CARE_KINDS = {
    "care": _care,
    "outcomes": _outcomes,
    "medications": _medication_timeline,
    SCORED_OUTCOMES: _outcomes,
}


# How a due item and an alert are rendered in an answer (projections.care).
_due = care.due_json
_alert = care.alert_json


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


# The board's view of one patient, read from the stored board (see `build_board`).
BOARD_ITEMS = "board-items"


def board_in(
    patient_id: UUID,
    rows: Sequence[EventRow],
    reading_at: datetime | None = None,
    zone: tzinfo | None = None,
    view_format: int = VIEW_FORMAT,
) -> PatientBoard | None:
    """The patient's board (projections.board) by the rules of layout `view_format`: what
    the record index stores (the current layout) and what a replay recomputes (the
    recorded one)."""
    return board_of(
        patient_id,
        rows,
        reading_at,
        zone,
        table=monitoring_table(view_format),
        reassessment=view_format >= REASSESSMENT_FORMAT,
    )


def header(kind: str, patient_id: UUID, decision: Decision, position: int) -> dict[str, Any]:
    """What every answer begins with: the patient, the kind, the reader, the basis, the
    purpose, the position it reflects, the consents relied on and the notice."""
    return {
        "patient_id": str(patient_id),
        "view": kind,
        "viewer_role": decision.viewer.role.value,
        "basis": decision.basis,
        "purpose": decision.purpose.value,
        "as_of_position": position,
        "consents": [str(c) for c in decision.consents],
        "notice": decision.notice,
    }


def build_board(
    patient_id: UUID, board: PatientBoard, decision: Decision, position: int
) -> tuple[dict[str, Any], frozenset[str]]:
    """The board-items view: the stored board's items the decision opens (every input
    row's policy facts and every class whose absence it reports, as care-items decides),
    each with its classes and Part 2 flag, due items split by their stored due times at
    the reading time. Built from the board alone: its cost is what the patient's board
    holds, not their history. The classes it contains are returned as `build` returns
    them."""
    body = header(BOARD_ITEMS, patient_id, decision, position)
    if decision.basis == "treating-team":
        body["record_version"] = board.version
    decided: dict[PolicyFacts, bool] = {}
    opened: dict[tuple[tuple[PolicyFacts, ...], tuple[str, ...]], bool] = {}

    def permits(f: PolicyFacts) -> bool:
        allowed = decided.get(f)
        if allowed is None:
            allowed = decided[f] = decision.permits(
                EventFacts(data_class=DataClass(f[0]), author=f[1], sud_counseling=f[2], part2=f[3])
            )
        return allowed

    def opens(facts: tuple[PolicyFacts, ...], awaits: tuple[str, ...]) -> bool:
        # Each distinct fact, and each distinct set of an item's inputs (items of one
        # board share them often), is decided once for the whole board. A class whose
        # absence an item reports is decided as a row of that class by no one in
        # particular.
        allowed = opened.get((facts, awaits))
        if allowed is None:
            allowed = opened[(facts, awaits)] = all(map(permits, facts)) and all(
                permits((c, "", False, False)) for c in awaits
            )
        return allowed

    sections: dict[str, list[dict[str, Any]]] = {
        "due": [],
        "overdue": [],
        "alerts": [],
        "missed_sessions": [],
        "unacknowledged_messages": [],
    }
    name = None
    used: set[str] = set()
    part2 = False
    was_sud = False
    for item in board.items:
        if item.section == "due":
            status = status_at(item, decision.at)
            if status is None:
                continue
            target, shown = status, {**item.shown, "status": status}
        elif item.section == "alert":
            target, shown = "alerts", dict(item.shown)
        elif item.section == "missed":
            target, shown = "missed_sessions", dict(item.shown)
        elif item.section == "message":
            target, shown = "unacknowledged_messages", dict(item.shown)
        else:
            target, shown = "name", dict(item.shown)
        if not opens(item.facts, item.awaits):
            continue
        used.update(item.classes)
        part2 = part2 or item.part2
        was_sud = was_sud or any(
            f[3] and f[0] != DataClass.PSYCHOTHERAPY_NOTE.value for f in item.facts
        )
        if target == "name":
            name = shown["name"]
            continue
        sections[target].append({**shown, "classes": list(item.classes), "part2": item.part2})
    body["name"] = name
    body.update(sections)
    body["classes"] = sorted(used)
    body["part2"] = part2
    accounted_classes = used | ({DataClass.SUD.value} if was_sud else set())
    return body, frozenset(accounted_classes)
