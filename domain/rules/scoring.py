"""Instrument scoring and change over time, as versioned data.

`SCORING` holds one row per instrument: which items are summed, the severity bands, the
positive rule (a cut-off, shaded answers or a symptom pattern), the triage levels and the
flags. `score()` reads the row; nothing here branches on an instrument's name. `OUTCOMES`
holds the measurement-based-care parameters `series()` uses (remission, the minimal
important difference and the reliability parameters for the Jacobson-Truax index).

Every row names its version and its source. `checked` is False throughout: the source is
the project's reference sheet (clinical/instruments.md), not the primary literature, and
each reliability parameter says on its own whether it was verified.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from itertools import pairwise
from typing import Any, Literal

from domain.errors import InvalidInput
from domain.instruments import InstrumentCode, check_answers

SHEET = "clinical/instruments.md"
UNBANDED = "unbanded"


@dataclass(frozen=True)
class Band:
    low: int
    high: int
    label: str


@dataclass(frozen=True)
class Flag:
    """A flag raised when an item (or, with item None, the total) is at least `at_least`."""

    name: str
    at_least: int
    item: str | None = None


@dataclass(frozen=True)
class Cluster:
    name: str
    items: tuple[str, ...]
    needed: int


@dataclass(frozen=True)
class Pattern:
    """A symptom pattern: an item counts at `item_at_least`; every cluster needs `needed`."""

    flag: str
    item_at_least: int
    clusters: tuple[Cluster, ...]


@dataclass(frozen=True)
class Triage:
    """A level reached when every answer of any one of `any_of` is given."""

    level: str
    any_of: tuple[Mapping[str, int], ...]


@dataclass(frozen=True)
class ScoringRule:
    instrument: InstrumentCode
    version: str
    source: str
    checked: bool = False
    scored_items: tuple[str, ...] = ()  # summed into the total; none: there is no total
    bands: tuple[Band, ...] = ()
    # Positive at total >= cut-off; keyed by sex at birth, or "any".
    cutoffs: Mapping[str, int] = field(default_factory=dict)
    cutoff_if_sex_unknown: str = ""
    shaded_from: Mapping[str, int] = field(default_factory=dict)  # item -> lowest shaded answer
    shaded_needed: int = 0
    pattern: Pattern | None = None
    triage: tuple[Triage, ...] = ()
    triage_otherwise: str = "none"
    flags: tuple[Flag, ...] = ()
    notes: Mapping[str, str] = field(default_factory=dict)


def _items(first: int, last: int) -> tuple[str, ...]:
    return tuple(str(n) for n in range(first, last + 1))


YES = 1
SCORING: Mapping[InstrumentCode, ScoringRule] = {
    r.instrument: r
    for r in (
        ScoringRule(
            InstrumentCode.PHQ9,
            "1",
            f"{SHEET}: PHQ-9 bands; item 9 safety rule; item 10 recorded, not scored",
            scored_items=_items(1, 9),
            bands=(
                Band(0, 4, "minimal"),
                Band(5, 9, "mild"),
                Band(10, 14, "moderate"),
                Band(15, 19, "moderately severe"),
                Band(20, 27, "severe"),
            ),
            flags=(Flag("phq9-item9", 1, item="9"),),
        ),
        ScoringRule(
            InstrumentCode.GAD7,
            "1",
            f"{SHEET}: GAD-7 bands; >=10 warrants further evaluation",
            scored_items=_items(1, 7),
            bands=(
                Band(0, 4, "minimal"),
                Band(5, 9, "mild"),
                Band(10, 14, "moderate"),
                Band(15, 21, "severe"),
            ),
            flags=(Flag("gad7-further-evaluation", 10),),
        ),
        ScoringRule(
            InstrumentCode.PCL5,
            "1",
            f"{SHEET}: PCL-5 provisional PTSD cut-off and DSM-5 pattern",
            scored_items=_items(1, 20),
            cutoffs={"any": 31},
            pattern=Pattern(
                "pcl5-dsm5-pattern",
                2,
                (
                    Cluster("B intrusion", _items(1, 5), 1),
                    Cluster("C avoidance", _items(6, 7), 1),
                    Cluster("D cognition and mood", _items(8, 14), 2),
                    Cluster("E arousal and reactivity", _items(15, 20), 2),
                ),
            ),
            notes={"cutoff_note": "published provisional-PTSD cut-off is 31-33; 31 is used"},
        ),
        ScoringRule(
            InstrumentCode.AUDITC,
            "1",
            f"{SHEET}: AUDIT-C positive at >=4 (men), >=3 (women)",
            scored_items=_items(1, 3),
            cutoffs={"male": 4, "female": 3},
            cutoff_if_sex_unknown="female",
        ),
        ScoringRule(
            InstrumentCode.ASRS,
            "1",
            f"{SHEET}: ASRS v1.1 Part A, positive at >=4 shaded answers",
            shaded_from={"1": 2, "2": 2, "3": 2, "4": 3, "5": 3, "6": 3},
            shaded_needed=4,
        ),
        ScoringRule(
            InstrumentCode.CSSRS,
            "1",
            f"{SHEET}: C-SSRS screener triage",
            triage=(
                Triage("high", ({"4": YES}, {"5": YES}, {"6-recent": YES})),
                Triage("moderate", ({"3": YES}, {"6": YES, "6-recent": 0})),
                Triage("low", ({"1": YES}, {"2": YES})),
            ),
        ),
        ScoringRule(
            InstrumentCode.PROMIS_SLEEP,
            "1",
            f"{SHEET}: PROMIS Sleep Disturbance 8a raw score 8-40, higher is worse",
            scored_items=_items(1, 8),
            notes={"t_score": "no T-score conversion table is shipped: raw score only"},
        ),
    )
}


@dataclass(frozen=True)
class Score:
    instrument: InstrumentCode
    rules_version: str
    total: int | None
    band: str
    positive: bool | None
    flags: tuple[str, ...]
    detail: Mapping[str, Any]


def score(
    instrument: InstrumentCode, answers: Mapping[str, int], sex_at_birth: str | None = None
) -> Score:
    """Score one complete set of answers by the instrument's row in `SCORING`.

    Raises InvalidInput when the answers are not a valid set for the instrument. The sex
    at birth matters only to sex-specific cut-offs (AUDIT-C); when it is not one the row
    knows, the row's fallback cut-off is used and `detail["cutoff_basis"]` says so.
    """
    code = InstrumentCode(instrument)
    problems = check_answers(code, answers)
    if problems:
        raise InvalidInput(problems)
    rule = SCORING[code]
    detail: dict[str, Any] = dict(rule.notes)
    total = sum(answers[k] for k in rule.scored_items) if rule.scored_items else None
    if total is not None:
        unscored = {k: v for k, v in answers.items() if k not in rule.scored_items}
        if unscored:
            detail["recorded_not_scored"] = unscored
    flags = [
        f.name
        for f in rule.flags
        if (answers.get(f.item, 0) if f.item is not None else (total or 0)) >= f.at_least
    ]
    band = _band(rule.bands, total) if rule.bands else UNBANDED
    positive: bool | None = None
    if rule.cutoffs and total is not None:
        cutoff = _cutoff(rule, sex_at_birth, detail)
        positive = total >= cutoff
    if rule.shaded_from:
        shaded = sum(1 for k, low in rule.shaded_from.items() if answers[k] >= low)
        detail["shaded"] = shaded
        positive = shaded >= rule.shaded_needed
    if rule.pattern is not None:
        met = _pattern(rule.pattern, answers, detail)
        if met:
            flags.append(rule.pattern.flag)
    if positive is not None:
        band = "positive" if positive else "negative"
    if rule.triage:
        band = next(
            (
                t.level
                for t in rule.triage
                if any(all(answers.get(k) == v for k, v in c.items()) for c in t.any_of)
            ),
            rule.triage_otherwise,
        )
    return Score(code, rule.version, total, band, positive, tuple(flags), detail)


def _band(bands: Sequence[Band], total: int | None) -> str:
    return next(b.label for b in bands if total is not None and b.low <= total <= b.high)


def _cutoff(rule: ScoringRule, sex_at_birth: str | None, detail: dict[str, Any]) -> int:
    if "any" in rule.cutoffs:
        cutoff = rule.cutoffs["any"]
    elif sex_at_birth is not None and sex_at_birth in rule.cutoffs:
        cutoff = rule.cutoffs[sex_at_birth]
        detail["cutoff_basis"] = f"sex at birth {sex_at_birth}"
    else:
        # The lower cut-off misses fewer people who drink at risk; a false positive costs
        # a conversation.
        cutoff = rule.cutoffs[rule.cutoff_if_sex_unknown]
        detail["cutoff_basis"] = (
            f"sex at birth {sex_at_birth or 'not recorded'}: "
            f"the lower ({rule.cutoff_if_sex_unknown}) cut-off is used"
        )
    detail["cutoff"] = cutoff
    return cutoff


def _pattern(pattern: Pattern, answers: Mapping[str, int], detail: dict[str, Any]) -> bool:
    counted = {
        c.name: sum(1 for k in c.items if answers[k] >= pattern.item_at_least)
        for c in pattern.clusters
    }
    met = all(counted[c.name] >= c.needed for c in pattern.clusters)
    detail["pattern_counts"] = counted
    detail["pattern_met"] = met
    return met


# Measurement-based care: change over an episode.


@dataclass(frozen=True)
class Parameter:
    value: float
    source: str
    verified: bool


@dataclass(frozen=True)
class Reliability:
    """Jacobson-Truax parameters: SE = SD * sqrt(1 - r), S_diff = sqrt(2) * SE."""

    sd: Parameter
    r: Parameter

    @property
    def s_diff(self) -> float:
        return math.sqrt(2) * self.sd.value * math.sqrt(1 - self.r.value)


@dataclass(frozen=True)
class OutcomeRule:
    instrument: InstrumentCode
    version: str
    source: str
    remission_below: int | None = None
    mid: int | None = None  # minimal important difference, in points either way
    reliability: Reliability | None = None
    response_reduction: Fraction = Fraction(1, 2)


RELIABLE_RC = 1.96
MBC = f"{SHEET}, 'Measurement-based-care definitions'"
OUTCOMES: Mapping[InstrumentCode, OutcomeRule] = {
    r.instrument: r
    for r in (
        OutcomeRule(
            InstrumentCode.PHQ9,
            "1",
            f"{MBC}: remission < 5, MID 5 points",
            remission_below=5,
            mid=5,
            reliability=Reliability(
                Parameter(5.7, "figure from the project brief; no publication identified", False),
                Parameter(
                    0.84,
                    "test-retest, Kroenke, Spitzer & Williams 2001 (J Gen Intern Med), "
                    "as remembered; not read in the paper",
                    False,
                ),
            ),
        ),
        OutcomeRule(
            InstrumentCode.GAD7,
            "1",
            f"{MBC}: remission < 5 by convention; no MID tabled",
            remission_below=5,
            reliability=Reliability(
                Parameter(4.7, "figure from the project brief, itself queried; no source", False),
                Parameter(
                    0.83,
                    "test-retest ICC, Spitzer et al. 2006 (Arch Intern Med), as remembered; "
                    "not read in the paper",
                    False,
                ),
            ),
        ),
        # No SD for the PCL-5 is tabled, so it has no reliable change index.
        OutcomeRule(
            InstrumentCode.PCL5,
            "1",
            f"{SHEET}: PCL-5 change of 10-20 points is clinically meaningful; 10 is used",
            mid=10,
        ),
    )
}


def outcome_rule(instrument: InstrumentCode) -> OutcomeRule:
    """The instrument's row in OUTCOMES, or an empty row (response only) if it has none."""
    return OUTCOMES.get(instrument) or OutcomeRule(instrument, "1", f"{MBC}: response only")


Direction = Literal["improved", "worsened", "unchanged"]


@dataclass(frozen=True)
class SeriesSummary:
    instrument: InstrumentCode
    rules_version: str
    baseline: Score
    baseline_at: datetime
    latest: Score
    latest_at: datetime
    change: int | None
    percent_change: float | None
    response: bool | None
    remission: bool | None
    minimal_important_difference: bool | None
    reliable_change_index: float | None
    reliable: bool | None
    direction: Direction | None
    trend: tuple[int | None, ...]
    reliability: Reliability | None


def series(points: Sequence[tuple[datetime, Score]]) -> SeriesSummary:
    """Summarise one instrument's scores over an episode; the first is the baseline.

    Every instrument here scores higher as worse, so a fall in the total is improvement.
    Raises ValueError for an empty series, mixed instruments or points out of time order.
    """
    if not points:
        raise ValueError("a series needs at least one score")
    instrument = points[0][1].instrument
    if any(s.instrument != instrument for _, s in points):
        raise ValueError(f"a series holds one instrument; this one starts with {instrument}")
    if any(later[0] < earlier[0] for earlier, later in pairwise(points)):
        raise ValueError("the scores of a series must be in time order")
    rule = outcome_rule(instrument)
    (baseline_at, baseline), (latest_at, latest) = points[0], points[-1]
    first, last = baseline.total, latest.total
    change: int | None = None
    percent: float | None = None
    response: bool | None = None
    remission: bool | None = None
    mid: bool | None = None
    rc: float | None = None
    reliable: bool | None = None
    direction: Direction | None = None
    if first is not None and last is not None:
        change = last - first
        if first > 0:
            percent = change / first * 100
            response = -change >= first * rule.response_reduction
        if rule.remission_below is not None:
            remission = last < rule.remission_below
        if rule.mid is not None:
            mid = abs(change) >= rule.mid
        if rule.reliability is not None:
            rc = change / rule.reliability.s_diff
            reliable = abs(rc) > RELIABLE_RC
        direction = "improved" if change < 0 else "worsened" if change > 0 else "unchanged"
    return SeriesSummary(
        instrument=instrument,
        rules_version=rule.version,
        baseline=baseline,
        baseline_at=baseline_at,
        latest=latest,
        latest_at=latest_at,
        change=change,
        percent_change=percent,
        response=response,
        remission=remission,
        minimal_important_difference=mid,
        reliable_change_index=rc,
        reliable=reliable,
        direction=direction,
        trend=tuple(s.total for _, s in points),
        reliability=rule.reliability,
    )
