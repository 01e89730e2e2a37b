"""Periodic reassessment and deprescribing, as versioned data.

A stable regimen is reassessed so that it stays as light as possible. Each row of
`REASSESSMENT` says which medications it is about, from what moment its interval runs
(remission, the last decision on the medication, the start), how long the interval is, and
its source, read in a primary source ("checked") or only in a secondary one:

- an antidepressant continued past the continuation phase after remission puts
  "reassess: continue, taper or stop" on the prescriber's board (9 months after remission
  of a first episode; 24 months for recurrent illness, which the care plan records:
  `ConditionRecorded.episode`, or an F33 code);
- every active medication is due for reassessment 6 months after the last decision on it
  (its start, a dose or timing change, a titration plan, a reassessment);
- a benzodiazepine or Z-drug taken beyond 4 weeks raises a deprescribing review.

A taper (a titration plan with direction down, or a TaperStarted recorded before plans had
a direction) brings its own monitoring (`TAPER_MONITORING`): a discontinuation-symptom check
after each step, and a PHQ-9 during and after the taper.

Day arithmetic is in UTC: the clinic's time zone is not applied here.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

from domain.careplan import ConditionRecorded
from domain.history import MedicationCourse, medication_courses
from domain.instruments import InstrumentCode
from domain.measures import QuestionnaireAnswered
from domain.medication import (
    STOPPED,
    TAPERING,
    DoseChanged,
    DoseReported,
    DoseTimingChanged,
    MedicationReassessed,
    MedicationStopped,
    MedicationSwitched,
    SideEffectReported,
    TaperStarted,
    TitrationPlanned,
)
from domain.record import kind_of, kinds
from domain.rules.care import (
    DueItem,
    DueKind,
    DueStatus,
    Fact,
    RuleRef,
    classes_of,
    end_of_day,
    positions,
)
from domain.rules.monitoring.codes import SSRIS_AND_SNRIS
from domain.rules.monitoring.rows import Drugs, words
from domain.rules.scoring import score
from domain.vocabulary import Role

Anchor = Literal["remission", "last decision", "last review"]
Episode = Literal["first", "recurrent"]
PRESCRIBER = (Role.PRESCRIBER,)
PRESCRIBER_AND_THERAPIST = (Role.PRESCRIBER, Role.THERAPIST)

ANTIDEPRESSANTS = Drugs(
    "antidepressant",
    SSRIS_AND_SNRIS.rxnorm,
    SSRIS_AND_SNRIS.names
    | words(
        "bupropion mirtazapine vortioxetine vilazodone trazodone amitriptyline nortriptyline "
        "imipramine desipramine clomipramine doxepin phenelzine tranylcypromine"
    ),
)
# By name only: no RxNorm code here was checked against RxNorm itself.
BENZODIAZEPINES_AND_Z_DRUGS = Drugs(
    "benzodiazepine or Z-drug hypnotic",
    frozenset(),
    words(
        "alprazolam chlordiazepoxide clobazam clonazepam clorazepate diazepam estazolam "
        "flurazepam lorazepam oxazepam temazepam triazolam zolpidem zaleplon zopiclone "
        "eszopiclone"
    ),
)
EVERY_MEDICATION = Drugs("medication")  # matched by `ReassessmentRule.every_medication`


@dataclass(frozen=True)
class Interval:
    """A length of time in calendar months, or in days."""

    months: int = 0
    days: int = 0

    def after(self, moment: datetime) -> datetime:
        month = moment.month - 1 + self.months
        year, month = moment.year + month // 12, month % 12 + 1
        day = min(moment.day, calendar.monthrange(year, month)[1])
        return moment.replace(year=year, month=month, day=day) + timedelta(days=self.days)

    def __str__(self) -> str:
        if self.months:
            return f"{self.months} months"
        return f"{self.days // 7} weeks" if self.days % 7 == 0 else f"{self.days} days"


@dataclass(frozen=True)
class ReassessmentRule:
    """One row: for the medications `drugs` names, a review is due `interval` after
    `anchor` (for `episode` only, where given), to be done within `window`."""

    rule: RuleRef
    drugs: Drugs
    anchor: Anchor
    interval: Interval
    window: Interval
    title: str  # with {drug} and {interval}
    for_roles: tuple[Role, ...]
    episode: Episode | None = None
    every_medication: bool = False

    def matches(self, course: MedicationCourse) -> bool:
        return self.every_medication or self.drugs.match(course.drug, course.rxnorm)


APA_MDD_2010 = (
    "APA Practice Guideline for the Treatment of Patients With Major Depressive Disorder, "
    "3rd ed. (2010), continuation phase: continue the antidepressant 4-9 months after "
    "remission (read only in secondary sources)"
)
NICE_NG222_RELAPSE = (
    "NICE NG222 (2022) 1.8.2 and 1.8.5: recurrent episodes raise the risk of relapse; consider "
    "continuing the antidepressant. 1.8.5 states no duration: 24 months is the 'up to two "
    "years' of a secondary summary of the draft"
)
NICE_NG222_REVIEW = (
    "NICE NG222 (2022) 1.4.11: treatment 'for at least 6 months after the remission of "
    "symptoms, but should be reviewed regularly'; the 6-month interval while stable is the "
    "clinic's default, not a guideline figure"
)
BENZODIAZEPINE_DURATION = (
    "BNF / CSM 1988 / MHRA 2011: benzodiazepines and Z-drugs for 2-4 weeks only (read in "
    "formularies quoting them, not in the BNF itself); FDA Drug Safety Communication "
    "2020-09-23 (Boxed Warning: abuse, physical dependence, withdrawal reactions; read); "
    "AGS Beers Criteria (avoid in older adults; not read)"
)
NICE_NG222_TAPER = (
    "NICE NG222 (2022) 1.4.18: monitor and review while the dose is reduced, for withdrawal "
    "symptoms and the return of symptoms of depression; 1.4.15: withdrawal symptoms appear "
    "within days of a reduction and usually pass in 1-2 weeks. The windows are the clinic's"
)

REASSESSMENT: tuple[ReassessmentRule, ...] = (
    ReassessmentRule(
        RuleRef("reassess-continuation-first-episode", "1", APA_MDD_2010, False),
        ANTIDEPRESSANTS,
        "remission",
        Interval(months=9),
        Interval(days=30),
        "reassess: continue, taper or stop {drug} ({interval} in remission after a first "
        "episode: the continuation phase is over)",
        PRESCRIBER,
        episode="first",
    ),
    ReassessmentRule(
        RuleRef("reassess-maintenance-recurrent", "1", NICE_NG222_RELAPSE, False),
        ANTIDEPRESSANTS,
        "remission",
        Interval(months=24),
        Interval(days=30),
        "reassess: continue, taper or stop {drug} ({interval} in remission, recurrent depression)",
        PRESCRIBER,
        episode="recurrent",
    ),
    ReassessmentRule(
        RuleRef("reassess-periodic", "1", NICE_NG222_REVIEW, False),
        EVERY_MEDICATION,
        "last decision",
        Interval(months=6),
        Interval(days=30),
        "Reassessment due: {drug} unchanged for {interval} (continue, adjust, taper or stop)",
        PRESCRIBER,
        every_medication=True,
    ),
    ReassessmentRule(
        RuleRef("deprescribing-benzodiazepine", "1", BENZODIAZEPINE_DURATION, False),
        BENZODIAZEPINES_AND_Z_DRUGS,
        "last review",
        Interval(days=28),
        Interval(days=14),
        "Deprescribing review: {drug} taken beyond {interval} (dependence and withdrawal "
        "risk): continue, taper or stop",
        PRESCRIBER,
    ),
)


@dataclass(frozen=True)
class TaperCheck:
    """One kind of monitoring a taper brings: from `start` (a step, the first step or the
    last one) plus `offset`, due within `window`."""

    key: str
    kind: DueKind
    title: str  # with {drug} and, for each step, {step}
    start: Literal["each step", "first step", "last step"]
    offset: Interval
    window: Interval


TAPER_RULE = RuleRef("taper-monitoring", "1", NICE_NG222_TAPER, True)
TAPER_MONITORING: tuple[TaperCheck, ...] = (
    TaperCheck(
        "taper-discontinuation",
        "assessment",
        "Discontinuation-symptom check after taper step {step} of {drug}",
        "each step",
        Interval(),
        Interval(days=7),
    ),
    TaperCheck(
        "taper-phq9-during",
        "questionnaire",
        "PHQ-9 during the taper of {drug}",
        "first step",
        Interval(),
        Interval(days=14),
    ),
    TaperCheck(
        "taper-phq9-after",
        "questionnaire",
        "PHQ-9 after the taper of {drug}",
        "last step",
        Interval(days=28),
        Interval(days=14),
    ),
)

# What counts as a decision on a medication (moves the periodic reassessment on), and
# what answers a review (a reassessment, a taper, a stop or a switch).
DECISIONS = kinds(
    DoseChanged, DoseTimingChanged, TitrationPlanned, MedicationReassessed, TaperStarted
)
REVIEWS = kinds(MedicationReassessed)
ANSWERS = kinds(MedicationReassessed, TaperStarted, MedicationStopped, MedicationSwitched)
ANSWER_CLASSES = classes_of(MedicationReassessed)
DISCONTINUATION_ANSWERS = kinds(SideEffectReported, MedicationReassessed, DoseReported)
PHQ9 = InstrumentCode.PHQ9
RECURRENT_ICD10 = "F33"  # ICD-10 F33: recurrent depressive disorder
DEPRESSIVE_ICD10 = ("F32", "F33")


def is_taper(fact: Fact) -> bool:
    if fact.kind == kind_of(TaperStarted):
        return True
    return fact.kind == kind_of(TitrationPlanned) and fact.payload.get("direction") == "down"


def _about(fact: Fact, medication_id: str) -> bool:
    return str(fact.payload.get("medication_id")) == medication_id


# --- the care plan: episode and remission --------------------------------------------


def depressive_conditions(facts: Sequence[Fact]) -> list[Fact]:
    return [
        f
        for f in facts
        if f.kind == kind_of(ConditionRecorded)
        and str(f.payload.get("icd10", "")).upper().startswith(DEPRESSIVE_ICD10)
    ]


def episode_of(facts: Sequence[Fact]) -> tuple[Episode, Fact | None]:
    """First episode or recurrent illness, as the care plan records it: the latest
    depressive condition that states it, else an F33 code; a first episode when nothing
    says (the earlier reassessment)."""
    conditions = depressive_conditions(facts)
    for fact in reversed(conditions):
        stated = fact.payload.get("episode")
        if stated in ("first", "recurrent"):
            return stated, fact
    for fact in reversed(conditions):
        if str(fact.payload["icd10"]).upper().startswith(RECURRENT_ICD10):
            return "recurrent", fact
    return "first", None


def remission_since(facts: Sequence[Fact]) -> tuple[datetime, list[Fact]] | None:
    """When the current remission began: the first PHQ-9 of the latest run below 5 (in
    clinical-time order; the latest PHQ-9 must be below 5), or a depressive condition
    recorded in remission with no PHQ-9 of 5 or more after it; the earlier of the two."""
    answered = sorted(
        (f for f in facts if f.kind == kind_of(QuestionnaireAnswered)),
        key=lambda f: f.at,
    )
    phq9 = [
        (f, score(PHQ9, {k: int(v) for k, v in f.payload["answers"].items()}).total)
        for f in answered
        if f.payload.get("instrument") == PHQ9.value
    ]
    found: list[tuple[datetime, list[Fact]]] = []
    run: list[Fact] = []
    for fact, total in phq9:
        run = [*run, fact] if total is not None and total < 5 else []
    if run:
        found.append((run[0].at, run))
    conditions = depressive_conditions(facts)
    if conditions and conditions[-1].payload.get("status") == "remission":
        said = conditions[-1]
        if not any(f.at >= said.at and (t is None or t >= 5) for f, t in phq9):
            found.append((said.at, [said]))
    return min(found, key=lambda moment: moment[0]) if found else None


# --- the rules -----------------------------------------------------------------------


def _status(now: datetime, due_by: datetime, met: Fact | None) -> DueStatus:
    if met is not None:
        return "met"
    return "overdue" if now > due_by else "due"


def _current(course: MedicationCourse) -> bool:
    return course.status not in (STOPPED, TAPERING)


def _decisions(facts: Sequence[Fact], course: MedicationCourse, anchor: Anchor) -> list[Fact]:
    """What moves a row's interval on: any decision on the medication, or (a duration
    rule, where a dose change does not restart the time taken) only a reassessment."""
    moving = DECISIONS if anchor == "last decision" else REVIEWS
    return [f for f in facts if f.kind in moving and _about(f, course.medication_id)]


def _item(
    row: ReassessmentRule,
    course: MedicationCourse,
    anchor: datetime,
    key: str,
    now: datetime,
    facts: Sequence[Fact],
    read: Sequence[Fact],
    met: Fact | None = None,
) -> DueItem:
    due_from = row.interval.after(anchor)
    due_by = row.window.after(due_from)
    return DueItem(
        key=key,
        kind="review",
        title=row.title.format(drug=course.drug, interval=row.interval),
        for_roles=row.for_roles,
        due_from=due_from,
        due_by=due_by,
        status=_status(now, due_by, met),
        rule=row.rule,
        met_at=met.at if met is not None else None,
        anchor_position=course.started.position,
        inputs=positions([*course.course_facts, *read, met]),
        awaits=ANSWER_CLASSES,
    )


def continuation(row: ReassessmentRule, facts: Sequence[Fact], now: datetime) -> list[DueItem]:
    episode, stated = episode_of(facts)
    remission = remission_since(facts)
    if row.episode != episode or remission is None:
        return []
    since, evidence = remission
    items = []
    for course in medication_courses(facts).values():
        if not row.matches(course) or course.started.at > since:
            continue
        due_from = row.interval.after(since)
        met = next(
            (
                f
                for f in facts
                if (f.kind in ANSWERS or is_taper(f))
                and _about(f, course.medication_id)
                and f.at >= due_from
            ),
            None,
        )
        if met is None and not _current(course):
            continue  # stopped or tapering before it fell due: nothing to reassess
        key = f"{row.rule.rule_id}:{course.medication_id}:{since.isoformat()}"
        read = [*evidence, *([stated] if stated is not None else [])]
        items.append(_item(row, course, since, key, now, facts, read, met))
    return items


def periodic(row: ReassessmentRule, facts: Sequence[Fact], now: datetime) -> list[DueItem]:
    """Due `interval` after the start or the last decision (or review) on each current
    matching medication: a reassessment moves it on."""
    items = []
    for course in medication_courses(facts).values():
        if not row.matches(course) or not _current(course):
            continue
        decided = _decisions(facts, course, row.anchor)
        last = max([course.started, *decided], key=lambda f: f.at)
        key = f"{row.rule.rule_id}:{course.medication_id}:{last.position}"
        items.append(_item(row, course, last.at, key, now, facts, decided))
    return items


def reassessment_items(
    facts: Sequence[Fact],
    now: datetime,
    table: Sequence[ReassessmentRule] = REASSESSMENT,
    zone: tzinfo | None = None,
) -> list[DueItem]:
    """The reassessment, deprescribing and taper items at `now`; with the clinic's `zone`,
    each due by the local midnight that ends its window's last day, as monitoring items
    are (without one, at the window's own moment)."""
    items: list[DueItem] = []
    for row in table:
        if row.anchor == "remission":
            items += continuation(row, facts, now)
        else:
            items += periodic(row, facts, now)
    items += taper_items(facts, now)
    if zone is None:
        return items
    return [_by_local_midnight(item, now, zone) for item in items]


def _by_local_midnight(item: DueItem, now: datetime, zone: tzinfo) -> DueItem:
    due_by = end_of_day(item.due_by, zone)
    status = item.status if item.status == "met" else ("overdue" if now > due_by else "due")
    return replace(item, due_by=due_by, status=status)


# --- the taper's monitoring ------------------------------------------------------------


def _day(on: date) -> datetime:
    return datetime.combine(on, time(0, 0), tzinfo=UTC)


def _step_days(plan: Fact) -> list[date]:
    return [date.fromisoformat(str(s["on_or_after"])) for s in plan.payload["steps"]]


def taper_items(
    facts: Sequence[Fact], now: datetime, checks: Sequence[TaperCheck] = TAPER_MONITORING
) -> list[DueItem]:
    """The monitoring of each medication's latest taper."""
    items: list[DueItem] = []
    for course in medication_courses(facts).values():
        plans = [f for f in facts if is_taper(f) and _about(f, course.medication_id)]
        if not plans:
            continue
        plan = plans[-1]
        days = _step_days(plan)
        for check in checks:
            starts = {
                "each step": list(enumerate(days, start=1)),
                "first step": [(1, days[0])],
                "last step": [(len(days), days[-1])],
            }[check.start]
            for number, day in starts:
                due_from = check.offset.after(_day(day))
                due_by = check.window.after(due_from)
                if check.kind == "questionnaire":
                    answers = [
                        f
                        for f in facts
                        if f.kind == kind_of(QuestionnaireAnswered)
                        and f.payload.get("instrument") == PHQ9.value
                    ]
                    awaits = classes_of(QuestionnaireAnswered)
                else:
                    answers = [
                        f
                        for f in facts
                        if f.kind in DISCONTINUATION_ANSWERS and _about(f, course.medication_id)
                    ]
                    awaits = classes_of(SideEffectReported, MedicationReassessed)
                met = next((f for f in answers if f.at >= due_from), None)
                suffix = f":{number}" if check.start == "each step" else ""
                items.append(
                    DueItem(
                        key=f"{check.key}:{course.medication_id}:{plan.position}{suffix}",
                        kind=check.kind,
                        title=check.title.format(drug=course.drug, step=number),
                        for_roles=PRESCRIBER_AND_THERAPIST,
                        due_from=due_from,
                        due_by=due_by,
                        status=_status(now, due_by, met),
                        rule=TAPER_RULE,
                        met_at=met.at if met is not None else None,
                        anchor_position=plan.position,
                        inputs=positions([*course.course_facts, plan, met]),
                        awaits=awaits,
                    )
                )
    return items
