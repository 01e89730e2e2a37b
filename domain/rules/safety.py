"""Safety rules: what a patient's facts require of the treating clinicians.

Each rule is a row of `SAFETY_RULES`: the fact that triggers it, the alert it raises and
what closes that alert, and the tasks it makes due, with their deadlines and what meets
them. `safety_picture` reads the rows; adding a rule is adding a row.

Facts are taken as recorded: a later fact answers a rule when its clinical time is at or
after the trigger's. `now` decides only whether an unmet task is overdue. Nothing here
discharges anyone: a lapse leads to contact, a risk assessment and a plan adjustment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any, Literal

from domain.careplan import GoalSet, PhaseChanged
from domain.instruments import InstrumentCode
from domain.measures import QuestionnaireAnswered
from domain.medication import DoseChanged, MedicationReassessed
from domain.messaging import MessageSent
from domain.record import RecordEvent, kind_of
from domain.rules.care import (
    Alert,
    DueItem,
    DueKind,
    Fact,
    RuleRef,
    classes_of,
    end_of_day,
    positions,
)
from domain.rules.scoring import score
from domain.safety import LapseReported, RiskAssessed
from domain.therapy import SessionAttended
from domain.vocabulary import TREATING_ROLES, DataClass, Role

TREATING_CLINICIANS = (Role.THERAPIST, Role.PRESCRIBER)
SHEET = "clinical/instruments.md, 'Safety rules'"


@dataclass(frozen=True)
class AnsweredBy:
    """A fact that answers a rule: one of this kind, by one of these author roles (None:
    whoever the event's own author table allows)."""

    event: type[RecordEvent]
    author_roles: frozenset[str] | None = None

    @property
    def kind(self) -> str:
        return kind_of(self.event)

    def matches(self, fact: Fact) -> bool:
        return fact.kind == self.kind and (
            self.author_roles is None or fact.author_role in self.author_roles
        )


Answers = tuple[AnsweredBy, ...]


def awaited(answers: Answers) -> frozenset[DataClass]:
    return classes_of(*(a.event for a in answers))


@dataclass(frozen=True)
class Deadline:
    """A window from the trigger, or (within None) the end of the trigger's calendar day in
    the clinic's time zone (`zone`; None: in the trigger's own UTC offset, as before the
    clinic had one)."""

    within: timedelta | None = None

    def due_by(self, start: datetime, zone: tzinfo | None = None) -> datetime:
        if self.within is not None:
            return start + self.within
        return end_of_day(start, zone)

    def __str__(self) -> str:
        return "by the end of the day" if self.within is None else f"within {self.within}"


@dataclass(frozen=True)
class AlertSpec:
    severity: Literal["high", "moderate"]
    title: str
    closed_by: Answers


@dataclass(frozen=True)
class TaskSpec:
    name: str  # part of the due item's key
    kind: DueKind
    title: str
    deadline: Deadline
    met_by: Answers


@dataclass(frozen=True)
class SafetyRule:
    ref: RuleRef
    trigger: Callable[[Fact], bool]
    for_roles: tuple[Role, ...]
    alert: AlertSpec | None = None
    tasks: tuple[TaskSpec, ...] = ()


def _answers(fact: Fact, instrument: InstrumentCode) -> dict[str, int] | None:
    if fact.kind != QuestionnaireAnswered.__name__ or fact.payload.get("instrument") != instrument:
        return None
    raw: dict[str, Any] = fact.payload.get("answers") or {}
    return {key: int(value) for key, value in raw.items()}


def phq9_item9(fact: Fact) -> bool:
    answers = _answers(fact, InstrumentCode.PHQ9)
    return answers is not None and answers.get("9", 0) >= 1


def cssrs_triage(level: str) -> Callable[[Fact], bool]:
    def triggered(fact: Fact) -> bool:
        answers = _answers(fact, InstrumentCode.CSSRS)
        return answers is not None and score(InstrumentCode.CSSRS, answers).band == level

    return triggered


def lapse(fact: Fact) -> bool:
    return fact.kind == LapseReported.__name__


RISK_ASSESSED: Answers = (AnsweredBy(RiskAssessed),)
RISK_ASSESSMENT_DUE_TODAY = TaskSpec(
    "assessment", "assessment", "suicide-risk assessment", Deadline(), RISK_ASSESSED
)
CONTACT: Answers = (
    # Anyone on the team may message; only a treating clinician's message is the contact.
    AnsweredBy(MessageSent, frozenset(TREATING_ROLES)),
    AnsweredBy(SessionAttended),
    AnsweredBy(RiskAssessed),
)
PLAN_ADJUSTED: Answers = tuple(
    AnsweredBy(kind) for kind in (PhaseChanged, DoseChanged, GoalSet, MedicationReassessed)
)

SAFETY_RULES: tuple[SafetyRule, ...] = (
    SafetyRule(
        RuleRef(
            "phq9-item9",
            "1",
            f"{SHEET}: PHQ-9 item 9 answered 1 or more: a same-day suicide-risk assessment "
            "is due, whatever the total; the alert goes to the treating clinicians at once "
            "and stays open until a risk assessment is recorded.",
            False,
        ),
        phq9_item9,
        TREATING_CLINICIANS,
        alert=AlertSpec("high", "same-day suicide-risk assessment due", RISK_ASSESSED),
        tasks=(RISK_ASSESSMENT_DUE_TODAY,),
    ),
    SafetyRule(
        RuleRef(
            "cssrs-high",
            "1",
            f"{SHEET}: C-SSRS high risk: immediate evaluation and safety precautions.",
            False,
        ),
        cssrs_triage("high"),
        TREATING_CLINICIANS,
        alert=AlertSpec("high", "immediate evaluation and safety precautions", RISK_ASSESSED),
    ),
    SafetyRule(
        RuleRef(
            "cssrs-moderate",
            "1",
            f"{SHEET}: C-SSRS moderate risk: assessment within the day by the treating "
            "clinician (taken as within 24 hours).",
            False,
        ),
        cssrs_triage("moderate"),
        TREATING_CLINICIANS,
        alert=AlertSpec(
            "moderate", "assessment within the day by the treating clinician", RISK_ASSESSED
        ),
        tasks=(
            TaskSpec(
                "assessment",
                "assessment",
                "risk assessment by the treating clinician",
                Deadline(timedelta(hours=24)),
                RISK_ASSESSED,
            ),
        ),
    ),
    SafetyRule(
        RuleRef(
            "lapse",
            "1",
            "domain/safety.py: a lapse leads to contact and a plan adjustment, never to "
            "discharge. The windows (contact 4 h, risk assessment 24 h, plan review 7 days) "
            "are this project's choices, not from a published source.",
            False,
        ),
        lapse,
        TREATING_CLINICIANS,
        tasks=(
            TaskSpec(
                "contact",
                "contact",
                "contact the patient after a lapse",
                Deadline(timedelta(hours=4)),
                CONTACT,
            ),
            TaskSpec(
                "assessment",
                "assessment",
                "risk assessment after a lapse",
                Deadline(timedelta(hours=24)),
                RISK_ASSESSED,
            ),
            TaskSpec(
                "plan-review",
                "review",
                "plan adjustment after a lapse",
                Deadline(timedelta(days=7)),
                PLAN_ADJUSTED,
            ),
        ),
    ),
)


def answered_by(event: type[RecordEvent]) -> frozenset[str]:
    """The ids of the safety rules whose alert an event of this kind closes (the risk
    assessment form names the open alerts it answers)."""
    return frozenset(
        rule.ref.rule_id
        for rule in SAFETY_RULES
        if rule.alert is not None and any(a.event is event for a in rule.alert.closed_by)
    )


def safety_picture(
    facts: Sequence[Fact], now: datetime, zone: tzinfo | None = None
) -> tuple[list[Alert], list[DueItem]]:
    """The safety alerts and due items the facts call for, in log order of their triggers;
    "the same day" is the day in the clinic's time zone `zone` (see Deadline).

    Keys are `{rule_id}:{position}` for alerts and `{rule_id}:{task}:{position}` for due
    items, the position being the triggering fact's, so they are stable across evaluations.
    """
    ordered = sorted(facts, key=lambda f: f.position)
    alerts: list[Alert] = []
    due: list[DueItem] = []
    for fact in ordered:
        for rule in SAFETY_RULES:
            if not rule.trigger(fact):
                continue
            if rule.alert is not None:
                closing = _first_answer(ordered, fact, rule.alert.closed_by)
                alerts.append(
                    Alert(
                        key=f"{rule.ref.rule_id}:{fact.position}",
                        severity=rule.alert.severity,
                        title=rule.alert.title,
                        for_roles=rule.for_roles,
                        raised_at=fact.at,
                        rule=rule.ref,
                        closed_at=closing.at if closing else None,
                        anchor_position=fact.position,
                        inputs=positions((fact, closing)),
                        awaits=awaited(rule.alert.closed_by),
                    )
                )
            due.extend(_task(rule, task, fact, ordered, now, zone) for task in rule.tasks)
    return alerts, due


def _task(
    rule: SafetyRule,
    task: TaskSpec,
    trigger: Fact,
    facts: Sequence[Fact],
    now: datetime,
    zone: tzinfo | None,
) -> DueItem:
    due_by = task.deadline.due_by(trigger.at, zone)
    meeting = _first_answer(facts, trigger, task.met_by)
    status: Literal["due", "overdue", "met"] = (
        "met" if meeting else "overdue" if now > due_by else "due"
    )
    return DueItem(
        key=f"{rule.ref.rule_id}:{task.name}:{trigger.position}",
        kind=task.kind,
        title=task.title,
        for_roles=rule.for_roles,
        due_from=trigger.at,
        due_by=due_by,
        status=status,
        rule=rule.ref,
        met_at=meeting.at if meeting else None,
        anchor_position=trigger.position,
        inputs=positions((trigger, meeting)),
        awaits=awaited(task.met_by),
    )


def _first_answer(facts: Sequence[Fact], trigger: Fact, answers: Answers) -> Fact | None:
    found = [
        f
        for f in facts
        if f.position != trigger.position
        and f.at >= trigger.at
        and any(a.matches(f) for a in answers)
    ]
    return min(found, key=lambda f: (f.at, f.position), default=None)
