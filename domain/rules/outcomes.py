"""Change over an episode (measurement-based care), as versioned data.

`OUTCOMES` holds the measurement-based-care parameters `series()` uses (remission, the
minimal important difference and the reliability parameters for the Jacobson-Truax index).
Every row names its version and its source; each reliability parameter says on its own
whether it was verified. `series()` summarises the scores domain/rules/scoring.py gives.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from itertools import pairwise
from typing import Literal

from domain.instruments import InstrumentCode
from domain.rules.scoring import SHEET, Score


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
