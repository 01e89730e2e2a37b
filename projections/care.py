"""The coordination picture built from the record index: due items and alerts per patient,
the multi-team board, outcomes and the medication timeline. Pure functions of index rows
and a time, so the board is always what the rules say of the record as it stands."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from uuid import UUID

from domain.history import care_team, demographics, medication_courses, messages, sessions
from domain.history.demographics import DETAILS
from domain.instruments import InstrumentCode
from domain.measures import FunctionalOutcomeRecorded, QuestionnaireAnswered, SleepLogged
from domain.record import kind_of
from domain.rules.care import Alert, DueItem, Fact, PatientContext
from domain.rules.improvement import not_improving
from domain.rules.monitoring import MONITORING, MonitoringTable, monitoring_picture
from domain.rules.outcomes import series
from domain.rules.reassessment import reassessment_items
from domain.rules.safety import safety_picture
from domain.rules.scoring import Score, score, scoring_rule
from domain.therapy import MISSED
from domain.vocabulary import DataClass
from projections.record_index import EventRow


def fact_of(row: EventRow) -> Fact:
    """A row as the rules and the record's history (domain.history) read it."""
    return Fact(
        row.position,
        row.kind,
        row.clinical_time,
        row.author,
        row.author_role,
        row.payload,
        row.version,
    )


def facts_of(rows: Iterable[EventRow]) -> list[Fact]:
    return [fact_of(r) for r in rows]


def context_of(rows: Iterable[EventRow]) -> PatientContext:
    rows = list(rows)
    details = demographics(facts_of(rows))
    sources = frozenset(r.position for r in rows if r.kind in DETAILS)
    if details is None:
        return PatientContext(None, None, sources)
    return PatientContext(details.birth_date, details.sex_at_birth, sources)


# --- what an item was computed from -------------------------------------------------------


@dataclass(frozen=True)
class Provenance:
    """What one due item or alert was computed from: the rows it read, the data classes
    of those and of the events whose absence it reports, and whether any input row is a
    Part 2 record."""

    rows: tuple[EventRow, ...]
    awaits: frozenset[DataClass]
    classes: frozenset[str]
    part2: bool


def provenance(item: DueItem | Alert, by_position: Mapping[int, EventRow]) -> Provenance:
    rows = tuple(by_position[p] for p in sorted(item.inputs) if p in by_position)
    classes = {r.data_class for r in rows} | {c.value for c in item.awaits}
    return Provenance(rows, item.awaits, frozenset(classes), any(r.part2 for r in rows))


@dataclass(frozen=True)
class CarePicture:
    due: list[DueItem]
    alerts: list[Alert]


def picture(
    rows: Sequence[EventRow],
    now: datetime,
    zone: tzinfo | None = None,
    *,
    reassessment: bool = True,
    table: MonitoringTable = MONITORING,
) -> CarePicture:
    """Due items and alerts at `now`; "the same day" is the day in the clinic's `zone`.
    Without `reassessment`, as answers given before the reassessment and deprescribing
    rules were; `table`, the monitoring rules (view layouts 1 and 2 keep rule version 1:
    role_views)."""
    facts = facts_of(rows)
    safety_alerts, safety_due = safety_picture(facts, now, zone)
    monitoring_due, monitoring_alerts = monitoring_picture(
        facts, context_of(rows), now, table, zone=zone
    )
    due = [
        *safety_due,
        *monitoring_due,
        *not_improving(facts, now),
        *(reassessment_items(facts, now, zone=zone) if reassessment else []),
    ]
    return CarePicture(
        due=sorted(due, key=lambda d: (d.due_by, d.key)),
        alerts=sorted([*safety_alerts, *monitoring_alerts], key=lambda a: (a.raised_at, a.key)),
    )


# --- the board ------------------------------------------------------------------------


@dataclass(frozen=True)
class PatientOnBoard:
    patient_id: UUID
    name: str
    team: dict[str, str]  # user -> role
    due: list[DueItem]
    overdue: list[DueItem]
    upcoming: list[DueItem]
    alerts: list[Alert]
    missed_sessions: list[dict[str, Any]]
    unacknowledged: list[dict[str, Any]]


def board_entry(
    patient_id: UUID,
    rows: Sequence[EventRow],
    now: datetime,
    zone: tzinfo | None = None,
    *,
    reassessment: bool = True,
    table: MonitoringTable = MONITORING,
) -> PatientOnBoard:
    care = picture(rows, now, zone, reassessment=reassessment, table=table)
    facts = facts_of(rows)
    details = demographics(facts)
    missed = [(s.outcome, s) for s in sessions(facts).values() if s.status == MISSED and s.outcome]
    missed.sort(key=lambda found: found[0].position)  # in the order they were recorded
    return PatientOnBoard(
        patient_id=patient_id,
        name=details.name if details is not None else "",
        team={user: m.role.value for user, m in care_team(facts).items() if m.active},
        due=[d for d in care.due if d.status == "due" and d.due_from <= now],
        overdue=[d for d in care.due if d.status == "overdue"],
        upcoming=[d for d in care.due if d.status == "due" and d.due_from > now],
        alerts=[a for a in care.alerts if a.open],
        missed_sessions=[
            {"session_id": s.session_id, "at": outcome.at.isoformat(), "reason": s.reason}
            for outcome, s in missed
        ],
        unacknowledged=[
            {
                "message_id": m.message_id,
                "from": m.sender,
                "to": m.to,
                "subject": m.subject,
                "sent": m.sent.at.isoformat(),
                "waiting_for": sorted(m.waiting_for),
            }
            for m in messages(facts).values()
            if m.waiting_for
        ],
    )


# --- outcomes and the medication timeline -----------------------------------------------


@dataclass
class Outcomes:
    series: dict[str, dict[str, Any]] = field(default_factory=dict)
    functional: list[dict[str, Any]] = field(default_factory=list)
    sleep: list[dict[str, Any]] = field(default_factory=list)


def outcomes(rows: Sequence[EventRow], sex_at_birth: str | None = None) -> Outcomes:
    found = Outcomes()
    by_instrument: dict[str, list[tuple[datetime, Any]]] = {}
    for r in rows:
        p = r.payload
        if r.kind == kind_of(QuestionnaireAnswered):
            code = InstrumentCode(p["instrument"])
            answers = {k: int(v) for k, v in p["answers"].items()}
            by_instrument.setdefault(code.value, []).append(
                (r.clinical_time, score(code, answers, sex_at_birth, p.get("scoring_version")))
            )
        elif r.kind == kind_of(FunctionalOutcomeRecorded):
            found.functional.append(
                {
                    "setting": p["setting"],
                    "measure": p["measure"],
                    "achieved": p["achieved"],
                    "expected": p["expected"],
                    "period_start": p["period_start"],
                    "period_end": p["period_end"],
                    "note": p.get("note"),
                }
            )
        elif r.kind == kind_of(SleepLogged):
            found.sleep.append(
                {
                    "night_of": p["night_of"],
                    "hours_asleep": p["hours_asleep"],
                    "quality": p["quality"],
                }
            )
    for name, stored in by_instrument.items():
        # In clinical-time order: a late entry is stored after answers it predates. (Only
        # reads that used to fail change: series() refused points out of order.)
        points = sorted(stored, key=lambda point: point[0])
        summary = series(points)
        found.series[name] = {
            "points": [
                {"at": at.isoformat(), "total": s.total, "band": s.band, "flags": list(s.flags)}
                for at, s in points
            ],
            "baseline": summary.baseline.total,
            "latest": summary.latest.total,
            "latest_band": summary.latest.band,
            "change": summary.change,
            "response": summary.response,
            "remission": summary.remission,
            "minimal_important_difference": summary.minimal_important_difference,
            "reliable_change_index": summary.reliable_change_index,
            "reliable": summary.reliable,
        }
    return found


def scored_outcomes(rows: Sequence[EventRow], sex_at_birth: str | None = None) -> Outcomes:
    """`outcomes` with what each score was scored by: every point names its scoring row's
    version, its cut-off (or shaded rule, or triage levels) and that cut-off's source; a
    screen (AUDIT-C, ASRS, C-SSRS) gives its result or triage level and no response,
    remission or change, which say nothing of a screen."""
    found = outcomes(rows, sex_at_birth)
    by_instrument: dict[str, list[tuple[datetime, Score]]] = {}
    for r in rows:
        if r.kind == kind_of(QuestionnaireAnswered):
            p = r.payload
            code = InstrumentCode(p["instrument"])
            answers = {k: int(v) for k, v in p["answers"].items()}
            scored = score(code, answers, sex_at_birth, p.get("scoring_version"))
            by_instrument.setdefault(code.value, []).append((r.clinical_time, scored))
    for name, stored in by_instrument.items():
        points = sorted(stored, key=lambda point: point[0])
        shown = found.series[name]
        latest = points[-1][1]
        rule = scoring_rule(latest.instrument, latest.rules_version)
        shown["points"] = [
            {**old, **_scored_with(s)} for old, (_, s) in zip(shown["points"], points, strict=True)
        ]
        shown.update({f"latest_{k}": v for k, v in _scored_with(latest).items()})
        shown["screening"] = rule.screening
        if rule.screening:
            for said in CHANGE_OVER_TIME:
                del shown[said]
            shown["triage_level" if rule.triage else "screen_result"] = latest.band
    return found


# What a series says of change, which a screen's series leaves out.
CHANGE_OVER_TIME = (
    "change",
    "response",
    "remission",
    "minimal_important_difference",
    "reliable_change_index",
    "reliable",
)


def _scored_with(s: Score) -> dict[str, Any]:
    rule = scoring_rule(s.instrument, s.rules_version)
    return {
        "rules_version": s.rules_version,
        "cutoff": s.detail.get("cutoff"),
        "cutoff_basis": s.detail.get("cutoff_basis"),
        "cutoff_source": rule.cutoff_source or None,
    }


def medication_timeline(rows: Sequence[EventRow]) -> list[dict[str, Any]]:
    """Each medication with its doses over time, the reasons, and its side effects."""
    return [
        {
            "medication_id": course.medication_id,
            "drug": course.drug,
            "rxnorm": course.rxnorm,
            "started": course.started.at.isoformat(),
            "stopped": course.stopped_at.isoformat() if course.stopped_at else None,
            "stop_reason": (
                f"switched: {course.stop_reason}" if course.switched_to else course.stop_reason
            ),
            "doses": [
                {"at": step.fact.at.isoformat(), "dose": step.dose, "reason": step.reason}
                for step in course.doses
            ],
            "side_effects": [
                {
                    "at": f.at.isoformat(),
                    "effect": f.payload["effect"],
                    "severity": f.payload["severity"],
                }
                for f in course.side_effects
            ],
            "adherence": [
                {
                    "at": f.at.isoformat(),
                    "taken": f.payload["doses_taken"],
                    "prescribed": f.payload["doses_prescribed"],
                }
                for f in course.adherence
            ],
        }
        for course in medication_courses(facts_of(rows)).values()
    ]


# --- rendering ------------------------------------------------------------------------


def due_json(d: DueItem) -> dict[str, Any]:
    """A due item as an answer renders it (the care views, the board)."""
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


def alert_json(a: Alert) -> dict[str, Any]:
    """An alert as an answer renders it (the care views, the board)."""
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
