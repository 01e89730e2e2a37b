"""Instrument scoring, as versioned data.

`SCORING` holds one row per instrument: which items are summed, the severity bands, the
positive rule (a cut-off, shaded answers or a symptom pattern), the triage levels and the
flags. `score()` reads the row; nothing here branches on an instrument's name. Change over
a series of scores is domain/rules/outcomes.py, which builds on the `Score` given here.

Every row names its version and its source. `checked` is False throughout: the source is
the project's reference sheet (clinical/instruments.md), not the primary literature.

A row, once used, is never edited: a new cut-off (or any other change) is a new version,
added to `HISTORY`, and `SCORING` names the version new answers are scored by. Each answered
questionnaire records that version (QuestionnaireAnswered.scoring_version), and `score()`
scores it by the row it names, so an old score never changes under it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.errors import InvalidInput
from domain.instruments import InstrumentCode, check_answers

# The project's reference sheet, the source of every row here and in outcomes.py.
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
class CutOff:
    """A versioned cut-off parameter: the value used, the range the source gives for it
    and where that range comes from. A different value within the range is a new row."""

    value: int
    low: int
    high: int
    source: str
    checked: bool = False

    def __post_init__(self) -> None:
        if not self.low <= self.value <= self.high:
            raise ValueError(f"cut-off {self.value} is outside its source's {self.low}-{self.high}")


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
    # A screen (its result is positive/negative or a triage level, not a severity to follow
    # down): no response, remission or change is said of it.
    screening: bool = False
    # The cut-off as a versioned parameter (replaces cutoffs={"any": ...} when given).
    cutoff: CutOff | None = None
    # Where the cut-offs (or the shaded rule, or the triage levels) come from.
    cutoff_source: str = ""


def _items(first: int, last: int) -> tuple[str, ...]:
    return tuple(str(n) for n in range(first, last + 1))


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


YES = 1
PCL5_PATTERN = Pattern(
    "pcl5-dsm5-pattern",
    2,
    (
        Cluster("B intrusion", _items(1, 5), 1),
        Cluster("C avoidance", _items(6, 7), 1),
        Cluster("D cognition and mood", _items(8, 14), 2),
        Cluster("E arousal and reactivity", _items(15, 20), 2),
    ),
)
PCL5_CUTOFF_SOURCE = (
    "National Center for PTSD, PCL-5 (ptsd.va.gov): a total of 31-33 or above suggests "
    "provisional PTSD; taken from clinical/instruments.md, not read at the source"
)
HISTORY: Mapping[tuple[InstrumentCode, str], ScoringRule] = {
    (r.instrument, r.version): r
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
            pattern=PCL5_PATTERN,
            notes={"cutoff_note": "published provisional-PTSD cut-off is 31-33; 31 is used"},
        ),
        # Version 2: the same cut-off (31, the lowest of the published 31-33: it misses the
        # fewest people with PTSD, and a positive screen leads to an interview, not a
        # diagnosis) as a versioned parameter with its source, shown with every score.
        ScoringRule(
            InstrumentCode.PCL5,
            "2",
            f"{SHEET}: PCL-5 provisional PTSD cut-off (a parameter, 31-33) and DSM-5 pattern",
            scored_items=_items(1, 20),
            cutoff=CutOff(31, 31, 33, PCL5_CUTOFF_SOURCE),
            pattern=PCL5_PATTERN,
            cutoff_source=PCL5_CUTOFF_SOURCE,
        ),
        ScoringRule(
            InstrumentCode.AUDITC,
            "1",
            f"{SHEET}: AUDIT-C positive at >=4 (men), >=3 (women)",
            scored_items=_items(1, 3),
            cutoffs={"male": 4, "female": 3},
            cutoff_if_sex_unknown="female",
            screening=True,
            cutoff_source=f"{SHEET}: AUDIT-C positive at >=4 (men), >=3 (women)",
        ),
        ScoringRule(
            InstrumentCode.ASRS,
            "1",
            f"{SHEET}: ASRS v1.1 Part A, positive at >=4 shaded answers",
            shaded_from={"1": 2, "2": 2, "3": 2, "4": 3, "5": 3, "6": 3},
            shaded_needed=4,
            screening=True,
            cutoff_source=f"{SHEET}: ASRS v1.1 Part A, >=4 answers in the shaded range",
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
            screening=True,
            cutoff_source=f"{SHEET}: C-SSRS screener triage (high, moderate, low)",
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
# The version new answers are scored by: each instrument's latest row.
SCORING: Mapping[InstrumentCode, ScoringRule] = {
    code: max(
        (r for (c, _), r in HISTORY.items() if c == code), key=lambda r: _version_key(r.version)
    )
    for code in dict.fromkeys(c for c, _ in HISTORY)
}
# Answers recorded before questionnaires recorded their scoring version were scored by "1".
FIRST_VERSION = "1"


def scoring_rule(instrument: InstrumentCode, version: str | None = None) -> ScoringRule:
    """The row `version` names (None: an answer recorded before versions were recorded,
    scored by the first row)."""
    return HISTORY[(InstrumentCode(instrument), version or FIRST_VERSION)]


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
    instrument: InstrumentCode,
    answers: Mapping[str, int],
    sex_at_birth: str | None = None,
    version: str | None = None,
) -> Score:
    """Score one complete set of answers by the instrument's row `version` (None: the first
    row, for answers recorded before they named it; new answers name `SCORING`'s).

    Raises InvalidInput when the answers are not a valid set for the instrument. The sex
    at birth matters only to sex-specific cut-offs (AUDIT-C); when it is not one the row
    knows, the row's fallback cut-off is used and `detail["cutoff_basis"]` says so.
    """
    code = InstrumentCode(instrument)
    problems = check_answers(code, answers)
    if problems:
        raise InvalidInput(problems)
    rule = scoring_rule(code, version)
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
    if rule.cutoff is not None and total is not None:
        detail["cutoff"] = rule.cutoff.value
        positive = total >= rule.cutoff.value
    elif rule.cutoffs and total is not None:
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
