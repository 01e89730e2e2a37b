"""The coordination picture built from the record index: due items and alerts per patient,
the multi-team board, outcomes and the medication timeline. Pure functions of index rows
and a time, so the board is always what the rules say of the record as it stands."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.instruments import InstrumentCode
from domain.rules.care import Alert, DueItem, Fact, PatientContext
from domain.rules.improvement import not_improving
from domain.rules.monitoring import monitoring_picture
from domain.rules.outcomes import series
from domain.rules.safety import safety_picture
from domain.rules.scoring import score
from projections.record_index import EventRow


def facts_of(rows: Iterable[EventRow]) -> list[Fact]:
    return [
        Fact(r.position, r.kind, r.clinical_time, r.author, r.author_role, r.payload) for r in rows
    ]


def context_of(rows: Iterable[EventRow]) -> PatientContext:
    born: date | None = None
    sex: str | None = None
    for r in rows:
        if r.kind in ("PatientRegistered", "DemographicsUpdated"):
            born = date.fromisoformat(r.payload["birth_date"])
            sex = r.payload.get("sex_at_birth")
    return PatientContext(born, sex)


@dataclass(frozen=True)
class CarePicture:
    due: list[DueItem]
    alerts: list[Alert]


def picture(rows: Sequence[EventRow], now: datetime) -> CarePicture:
    facts = facts_of(rows)
    safety_alerts, safety_due = safety_picture(facts, now)
    monitoring_due, monitoring_alerts = monitoring_picture(facts, context_of(rows), now)
    due = [*safety_due, *monitoring_due, *not_improving(facts, now)]
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


def board_entry(patient_id: UUID, rows: Sequence[EventRow], now: datetime) -> PatientOnBoard:
    care = picture(rows, now)
    name = ""
    team: dict[str, str] = {}
    messages: dict[str, dict[str, Any]] = {}
    missed = []
    for r in rows:
        p = r.payload
        if r.kind in ("PatientRegistered", "DemographicsUpdated"):
            name = f"{p['given_name']} {p['family_name']}"
        elif r.kind == "CareTeamMemberAdded":
            team[p["user_id"]] = p["role"]
        elif r.kind == "CareTeamMemberRemoved":
            team.pop(p["user_id"], None)
        elif r.kind == "SessionMissed":
            missed.append(
                {
                    "session_id": p["session_id"],
                    "at": r.clinical_time.isoformat(),
                    "reason": p.get("reason"),
                }
            )
        elif r.kind == "MessageSent":
            messages[p["message_id"]] = {
                "message_id": p["message_id"],
                "from": r.author,
                "to": list(p["to"]),
                "subject": p["subject"],
                "sent": r.clinical_time.isoformat(),
                "waiting_for": set(p["to"]),
            }
        elif r.kind == "MessageAcknowledged" and p["message_id"] in messages:
            messages[p["message_id"]]["waiting_for"].discard(r.author)
    unacknowledged = [
        {**m, "waiting_for": sorted(m["waiting_for"])}
        for m in messages.values()
        if m["waiting_for"]
    ]
    return PatientOnBoard(
        patient_id=patient_id,
        name=name,
        team=team,
        due=[d for d in care.due if d.status == "due" and d.due_from <= now],
        overdue=[d for d in care.due if d.status == "overdue"],
        upcoming=[d for d in care.due if d.status == "due" and d.due_from > now],
        alerts=[a for a in care.alerts if a.open],
        missed_sessions=missed,
        unacknowledged=unacknowledged,
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
        if r.kind == "QuestionnaireAnswered":
            code = InstrumentCode(p["instrument"])
            answers = {k: int(v) for k, v in p["answers"].items()}
            by_instrument.setdefault(code.value, []).append(
                (r.clinical_time, score(code, answers, sex_at_birth))
            )
        elif r.kind == "FunctionalOutcomeRecorded":
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
        elif r.kind == "SleepLogged":
            found.sleep.append(
                {
                    "night_of": p["night_of"],
                    "hours_asleep": p["hours_asleep"],
                    "quality": p["quality"],
                }
            )
    for name, points in by_instrument.items():
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


def medication_timeline(rows: Sequence[EventRow]) -> list[dict[str, Any]]:
    """Each medication with its doses over time, the reasons, and its side effects."""
    meds: dict[str, dict[str, Any]] = {}
    for r in rows:
        p = r.payload
        at = r.clinical_time.isoformat()
        if r.kind in ("MedicationStarted", "MedicationSwitched"):
            med_id = str(p.get("to_medication_id") or p["medication_id"])
            if r.kind == "MedicationSwitched" and p["medication_id"] in meds:
                meds[p["medication_id"]]["stopped"] = at
                meds[p["medication_id"]]["stop_reason"] = f"switched: {p['reason']}"
            meds[med_id] = {
                "medication_id": med_id,
                "drug": p["drug"],
                "rxnorm": p["rxnorm"],
                "started": at,
                "stopped": None,
                "stop_reason": None,
                "doses": [
                    {"at": at, "dose": p["dose"], "reason": p.get("indication") or p.get("reason")}
                ],
                "side_effects": [],
                "adherence": [],
            }
        elif p.get("medication_id") in meds:
            med = meds[p["medication_id"]]
            if r.kind == "DoseChanged":
                med["doses"].append({"at": at, "dose": p["dose"], "reason": p["reason"]})
            elif r.kind == "SideEffectReported":
                med["side_effects"].append(
                    {"at": at, "effect": p["effect"], "severity": p["severity"]}
                )
            elif r.kind == "AdherenceRecorded":
                med["adherence"].append(
                    {"at": at, "taken": p["doses_taken"], "prescribed": p["doses_prescribed"]}
                )
            elif r.kind == "MedicationStopped":
                med["stopped"], med["stop_reason"] = at, p["reason"]
    return list(meds.values())
