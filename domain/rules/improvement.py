"""Not improving: after 8-12 weeks at an adequate dose without response, the regimen and
the therapy plan are due for review (clinical/instruments.md, "Measurement-based-care
definitions"). The review is a coordination task for both prescriber and therapist."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.careplan import PhaseChanged
from domain.history import DoseStep, MedicationCourse, medication_courses
from domain.instruments import InstrumentCode
from domain.measures import QuestionnaireAnswered
from domain.medication import DoseChanged, MedicationReassessed, MedicationSwitched
from domain.record import kind_of, kinds
from domain.rules.care import DueItem, DueStatus, Fact, RuleRef, classes_of, positions
from domain.rules.outcomes import series
from domain.rules.scoring import score
from domain.vocabulary import Role

RULE = RuleRef(
    "not-improving",
    "1",
    "instruments.md: no response after 8-12 weeks at an adequate dose -> review regimen and plan",
    True,
)
# Lowest doses usually counted as an adequate antidepressant trial (mg/day). From the labels'
# usual effective doses; not read in a primary source here, hence checked=False.
ADEQUATE_DOSE_MG: dict[str, Decimal] = {
    "sertraline": Decimal(50),
    "escitalopram": Decimal(10),
    "fluoxetine": Decimal(20),
    "venlafaxine": Decimal(75),
    "duloxetine": Decimal(60),
    "bupropion": Decimal(150),
}
ADEQUATE_DOSE_RULE = RuleRef(
    "adequate-antidepressant-dose", "1", "product labels (usual effective dose)", False
)
REVIEW_WINDOW = timedelta(days=14)
SATISFIED_BY = kinds(MedicationReassessed, PhaseChanged, DoseChanged, MedicationSwitched)
AWAITS = classes_of(MedicationReassessed, PhaseChanged, DoseChanged, MedicationSwitched)


@dataclass(frozen=True)
class Settings:
    weeks: int = 8  # configurable between 8 and 12


def _adequate_since(facts: Sequence[Fact]) -> datetime | None:
    """When the current antidepressant reached an adequate dose (None if it has not): each
    start, switch or dose change of any medication, in the record's order, sets or clears
    it, and a stop clears it."""
    moments: list[tuple[Fact, MedicationCourse, DoseStep | None]] = []
    for course in medication_courses(facts).values():
        moments += [(step.fact, course, step) for step in course.doses]
        if course.stopped is not None and course.switched_to is None:
            moments.append((course.stopped, course, None))
    since: datetime | None = None
    for fact, course, step in sorted(moments, key=lambda moment: moment[0].position):
        if step is None:
            since = None
        elif step is course.doses[0]:  # the course began (a start, or a switch to it)
            since = fact.at if _adequate(course.drug, step.dose) else None
        else:
            since = (since or fact.at) if _adequate(course.drug, step.dose) else None
    return since


def _adequate(drug: str, dose: Mapping[str, Any]) -> bool:
    floor = ADEQUATE_DOSE_MG.get(drug.lower())
    return floor is not None and dose.get("unit") == "mg" and Decimal(str(dose["amount"])) >= floor


def not_improving(
    facts: Sequence[Fact], now: datetime, settings: Settings = Settings()
) -> list[DueItem]:
    since = _adequate_since(facts)
    if since is None:
        return []
    trial_end = since + timedelta(weeks=settings.weeks)
    if now < trial_end:
        return []
    # Every course was read to find the trial (`_adequate_since`).
    courses = [f for course in medication_courses(facts).values() for f in course.course_facts]
    items = []
    for code in (InstrumentCode.PHQ9, InstrumentCode.GAD7):
        answered = [
            f
            for f in facts
            if f.kind == kind_of(QuestionnaireAnswered) and f.payload["instrument"] == code.value
        ]
        points = sorted(
            (
                (f.at, score(code, {k: int(v) for k, v in f.payload["answers"].items()}))
                for f in answered
            ),
            key=lambda point: point[0],  # a late entry is stored after answers it predates
        )
        if len(points) < 2:
            continue
        summary = series(points)
        if summary.response or summary.baseline.total is None or summary.baseline.total < 5:
            continue
        meeting = next((f for f in facts if f.kind in SATISFIED_BY and f.at >= trial_end), None)
        met = meeting.at if meeting is not None else None
        status: DueStatus = (
            "met" if met else ("overdue" if now > trial_end + REVIEW_WINDOW else "due")
        )
        items.append(
            DueItem(
                key=f"not-improving:{code.value}:{since.isoformat()}",
                kind="review",
                title=(
                    f"No response on {code.value.upper()} after {settings.weeks} weeks at an "
                    "adequate dose: review regimen and therapy plan together"
                ),
                for_roles=(Role.PRESCRIBER, Role.THERAPIST),
                due_from=trial_end,
                due_by=trial_end + REVIEW_WINDOW,
                status=status,
                rule=RULE,
                met_at=met,
                inputs=positions([*courses, *answered, meeting]),
                awaits=AWAITS,
            )
        )
    return items
