"""Instrument scoring and change over an episode (clinical/instruments.md)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import InvalidInput
from domain.instruments import INSTRUMENTS, InstrumentCode
from domain.rules.outcomes import OUTCOMES, series
from domain.rules.scoring import HISTORY, SCORING, CutOff, Score, score, scoring_rule

PHQ9 = InstrumentCode.PHQ9
GAD7 = InstrumentCode.GAD7
PCL5 = InstrumentCode.PCL5
AUDITC = InstrumentCode.AUDITC
ASRS = InstrumentCode.ASRS
CSSRS = InstrumentCode.CSSRS
PROMIS = InstrumentCode.PROMIS_SLEEP
START = datetime(2025, 2, 3, 9, 0, tzinfo=UTC)


def summing_to(code: InstrumentCode, total: int) -> dict[str, int]:
    """Answers to the instrument's required items adding up to `total`, filled from item 1."""
    answers: dict[str, int] = {}
    items = [i for i in INSTRUMENTS[code].items if i.required]
    left = total - sum(i.low for i in items)
    for item in items:
        step = min(item.high - item.low, left)
        answers[item.key] = item.low + step
        left -= step
    if left:
        raise ValueError(f"{code} cannot total {total}")
    return answers


# --- PHQ-9 and GAD-7 bands ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately severe"),
        (19, "moderately severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_total_falls_in_its_severity_band(total: int, band: str) -> None:
    result = score(PHQ9, summing_to(PHQ9, total))
    assert (result.total, result.band, result.positive) == (total, band, None)


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_total_falls_in_its_severity_band(total: int, band: str) -> None:
    result = score(GAD7, summing_to(GAD7, total))
    assert (result.total, result.band) == (total, band)


@pytest.mark.parametrize(("total", "flagged"), [(9, False), (10, True)])
def test_gad7_at_ten_or_more_warrants_further_evaluation(total: int, flagged: bool) -> None:
    result = score(GAD7, summing_to(GAD7, total))
    assert ("gad7-further-evaluation" in result.flags) is flagged


@pytest.mark.parametrize(("item9", "flagged"), [(0, False), (1, True), (3, True)])
def test_phq9_item9_is_flagged_at_one_or_more_whatever_the_total(item9: int, flagged: bool) -> None:
    answers = {str(n): 0 for n in range(1, 10)} | {"9": item9}
    result = score(PHQ9, answers)
    assert result.band == "minimal"
    assert ("phq9-item9" in result.flags) is flagged


def test_phq9_item10_is_recorded_but_not_scored() -> None:
    answers = summing_to(PHQ9, 12) | {"10": 3}
    result = score(PHQ9, answers)
    assert result.total == 12
    assert result.detail["recorded_not_scored"] == {"10": 3}


def test_bands_cover_every_possible_total_once() -> None:
    for code, rule in SCORING.items():
        if not rule.bands:
            continue
        items = [INSTRUMENTS[code].item(k) for k in rule.scored_items]
        low = sum(i.low for i in items if i)
        high = sum(i.high for i in items if i)
        covered = [t for b in rule.bands for t in range(b.low, b.high + 1)]
        assert covered == list(range(low, high + 1)), code


def test_answers_that_do_not_fit_the_instrument_are_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        score(PHQ9, {str(n): 0 for n in range(1, 9)} | {"9": 4})
    assert [e.field for e in refused.value.errors] == ["answers.9"]


# --- PCL-5 --------------------------------------------------------------------------------


@pytest.mark.parametrize(("total", "positive"), [(30, False), (31, True)])
def test_pcl5_provisional_ptsd_at_31(total: int, positive: bool) -> None:
    result = score(PCL5, summing_to(PCL5, total))
    assert (result.total, result.positive) == (total, positive)
    assert result.band == ("positive" if positive else "negative")
    assert result.detail["cutoff"] == 31
    assert "31-33" in result.detail["cutoff_note"]


@pytest.mark.parametrize(("total", "positive"), [(30, False), (31, True)])
def test_pcl5_version_2_scores_by_its_cutoff_parameter_with_its_source(
    total: int, positive: bool
) -> None:
    result = score(PCL5, summing_to(PCL5, total), version="2")
    assert (result.rules_version, result.positive) == ("2", positive)
    assert result.detail["cutoff"] == 31
    cutoff = scoring_rule(PCL5, "2").cutoff
    assert cutoff is not None and (cutoff.low, cutoff.high) == (31, 33)
    assert "National Center for PTSD" in cutoff.source


def test_new_answers_are_scored_by_the_latest_row_and_old_ones_by_the_first() -> None:
    assert SCORING[PCL5].version == "2"
    assert score(PCL5, summing_to(PCL5, 40)).rules_version == "1"  # recorded without one
    for (code, version), rule in HISTORY.items():
        assert (rule.instrument, rule.version) == (code, version)


@pytest.mark.parametrize("value", [30, 34])
def test_a_cutoff_outside_its_sources_range_is_refused(value: int) -> None:
    with pytest.raises(ValueError, match=f"cut-off {value} is outside its source's 31-33"):
        CutOff(value, 31, 33, "test")


def test_screens_are_marked_and_severity_scales_are_not() -> None:
    screens = {code for code, rule in SCORING.items() if rule.screening}
    assert screens == {InstrumentCode.AUDITC, InstrumentCode.ASRS, InstrumentCode.CSSRS}
    assert all(SCORING[code].cutoff_source for code in screens)


# Just meets every cluster: B item 1, C item 6, D items 8 and 9, E items 15 and 16 at 2.
PATTERN_JUST_MET = {str(n): 0 for n in range(1, 21)} | {
    k: 2 for k in ("1", "6", "8", "9", "15", "16")
}


def test_pcl5_dsm5_pattern_when_each_cluster_just_meets_its_count() -> None:
    result = score(PCL5, PATTERN_JUST_MET)
    assert "pcl5-dsm5-pattern" in result.flags
    assert result.detail["pattern_met"] is True
    assert result.positive is False  # total 12: the pattern and the cut-off are separate


@pytest.mark.parametrize(
    ("item", "cluster", "needed"),
    [
        ("1", "B intrusion", 1),
        ("6", "C avoidance", 1),
        ("8", "D cognition and mood", 2),
        ("16", "E arousal and reactivity", 2),
    ],
)
def test_pcl5_dsm5_pattern_missed_when_one_cluster_falls_one_short(
    item: str, cluster: str, needed: int
) -> None:
    # The item drops to 1: answered, but below the 2 at which an item counts.
    result = score(PCL5, PATTERN_JUST_MET | {item: 1})
    assert "pcl5-dsm5-pattern" not in result.flags
    assert result.detail["pattern_met"] is False
    assert result.detail["pattern_counts"][cluster] == needed - 1


# --- AUDIT-C ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sex", "total", "positive"),
    [
        ("male", 2, False),
        ("male", 3, False),
        ("male", 4, True),
        ("female", 2, False),
        ("female", 3, True),
        ("female", 4, True),
    ],
)
def test_auditc_positive_at_four_for_men_and_three_for_women(
    sex: str, total: int, positive: bool
) -> None:
    result = score(AUDITC, summing_to(AUDITC, total), sex_at_birth=sex)
    assert (result.positive, result.band) == (positive, "positive" if positive else "negative")


@pytest.mark.parametrize("sex", [None, "intersex", "unknown"])
@pytest.mark.parametrize(("total", "positive"), [(2, False), (3, True)])
def test_auditc_uses_the_lower_cutoff_when_sex_is_unknown_and_says_so(
    sex: str | None, total: int, positive: bool
) -> None:
    result = score(AUDITC, summing_to(AUDITC, total), sex_at_birth=sex)
    assert result.positive is positive
    assert result.detail["cutoff"] == 3
    assert "lower" in result.detail["cutoff_basis"]


# --- ASRS Part A --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "shaded", "positive"),
    [
        ({"1": 2, "2": 2, "3": 2, "4": 2, "5": 2, "6": 2}, 3, False),  # 4-6 need "often"
        ({"1": 2, "2": 2, "3": 2, "4": 3, "5": 0, "6": 0}, 4, True),
        ({"1": 1, "2": 1, "3": 1, "4": 3, "5": 3, "6": 3}, 3, False),  # 1-3 need "sometimes"
        ({"1": 4, "2": 0, "3": 0, "4": 4, "5": 4, "6": 4}, 4, True),
    ],
)
def test_asrs_positive_at_four_shaded_answers(
    answers: dict[str, int], shaded: int, positive: bool
) -> None:
    result = score(ASRS, answers)
    assert (result.detail["shaded"], result.positive, result.total) == (shaded, positive, None)


# --- C-SSRS screener ----------------------------------------------------------------------

NO = {"1": 0, "2": 0, "6": 0}
Q2_YES = {"1": 1, "2": 1, "3": 0, "4": 0, "5": 0, "6": 0}


@pytest.mark.parametrize(
    ("answers", "level"),
    [
        (Q2_YES | {"4": 1}, "high"),
        (Q2_YES | {"5": 1}, "high"),
        (NO | {"6": 1, "6-recent": 1}, "high"),
        (Q2_YES | {"3": 1}, "moderate"),
        (NO | {"6": 1, "6-recent": 0}, "moderate"),
        (NO | {"1": 1}, "low"),
        (Q2_YES, "low"),
        (NO, "none"),
    ],
)
def test_cssrs_triage(answers: dict[str, int], level: str) -> None:
    result = score(CSSRS, answers)
    assert (result.band, result.total) == (level, None)


# --- PROMIS Sleep Disturbance 8a ----------------------------------------------------------


@pytest.mark.parametrize(("answer", "total"), [(1, 8), (5, 40)])
def test_promis_sleep_raw_score_runs_from_8_to_40(answer: int, total: int) -> None:
    result = score(PROMIS, {str(n): answer for n in range(1, 9)})
    assert (result.total, result.band) == (total, "unbanded")
    assert "no T-score" in result.detail["t_score"]


# --- series -------------------------------------------------------------------------------


def scored(code: InstrumentCode, *totals: int) -> list[tuple[datetime, Score]]:
    return [
        (START + timedelta(weeks=2 * n), score(code, summing_to(code, total)))
        for n, total in enumerate(totals)
    ]


def test_an_empty_series_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        series([])


def test_a_series_of_mixed_instruments_is_refused() -> None:
    with pytest.raises(ValueError, match="one instrument"):
        series([*scored(PHQ9, 12), *scored(GAD7, 8)])


def test_a_series_out_of_time_order_is_refused() -> None:
    with pytest.raises(ValueError, match="time order"):
        series(list(reversed(scored(PHQ9, 12, 8))))


def test_the_first_score_is_the_baseline_and_the_trend_keeps_every_total() -> None:
    summary = series(scored(PHQ9, 18, 15, 9))
    assert (summary.baseline.total, summary.latest.total) == (18, 9)
    assert summary.baseline_at == START
    assert summary.trend == (18, 15, 9)
    assert summary.change == -9
    assert summary.percent_change == pytest.approx(-50.0)


@pytest.mark.parametrize(
    ("code", "baseline", "latest", "response"),
    [
        (PHQ9, 20, 10, True),  # exactly 50%
        (PHQ9, 20, 11, False),  # 45%
        (PCL5, 50, 25, True),  # exactly 50%
        (PCL5, 51, 26, False),  # 49.02%
    ],
)
def test_response_is_a_reduction_of_half_or_more(
    code: InstrumentCode, baseline: int, latest: int, response: bool
) -> None:
    assert series(scored(code, baseline, latest)).response is response


def test_response_is_unknown_from_a_baseline_of_zero() -> None:
    summary = series(scored(PHQ9, 0, 0))
    assert (summary.response, summary.percent_change) == (None, None)


@pytest.mark.parametrize("code", [PHQ9, GAD7])
@pytest.mark.parametrize(("latest", "remission"), [(4, True), (5, False)])
def test_remission_is_a_total_below_five(
    code: InstrumentCode, latest: int, remission: bool
) -> None:
    assert series(scored(code, 15, latest)).remission is remission


def test_instruments_without_a_remission_rule_leave_it_unknown() -> None:
    assert series(scored(PCL5, 50, 10)).remission is None


@pytest.mark.parametrize(("latest", "mid"), [(10, False), (9, True), (19, True)])
def test_phq9_minimal_important_difference_is_five_points(latest: int, mid: bool) -> None:
    summary = series(scored(PHQ9, 14, latest))
    assert summary.minimal_important_difference is mid


def test_no_minimal_important_difference_where_none_is_tabled() -> None:
    assert series(scored(GAD7, 15, 5)).minimal_important_difference is None


@pytest.mark.parametrize(("latest", "reliable"), [(14, False), (13, True)])
def test_phq9_reliable_change_by_jacobson_truax(latest: int, reliable: bool) -> None:
    summary = series(scored(PHQ9, 20, latest))
    # By hand: SE = 5.7 * sqrt(1 - 0.84) = 2.28; S_diff = sqrt(2) * 2.28 = 3.2244.
    # 20 -> 14: RC = -6 / 3.2244 = -1.861 (not reliable); 20 -> 13: -7 / 3.2244 = -2.171.
    expected = (latest - 20) / (math.sqrt(2) * 2.28)
    assert summary.reliable_change_index == pytest.approx(expected)
    assert summary.reliable_change_index == pytest.approx(
        {14: -1.8608, 13: -2.1709}[latest], abs=1e-4
    )
    assert summary.reliable is reliable


def test_gad7_reliable_change_uses_its_own_parameters() -> None:
    summary = series(scored(GAD7, 16, 10))
    # SE = 4.7 * sqrt(1 - 0.83) = 1.9379; S_diff = 2.7406; RC = -6 / 2.7406 = -2.189.
    assert summary.reliable_change_index == pytest.approx(-2.1893, abs=1e-4)
    assert summary.reliable is True


def test_unverified_reliability_parameters_say_so() -> None:
    for rule in OUTCOMES.values():
        if rule.reliability is not None:
            assert rule.reliability.sd.verified is False
            assert rule.reliability.sd.source


@pytest.mark.parametrize(
    ("totals", "direction"),
    [((15, 9), "improved"), ((9, 15), "worsened"), ((9, 9), "unchanged")],
)
def test_direction_of_change(totals: tuple[int, int], direction: str) -> None:
    assert series(scored(PHQ9, *totals)).direction == direction


def test_a_series_without_totals_reports_no_change() -> None:
    points = [(START, score(CSSRS, NO | {"1": 1}))]
    summary = series(points)
    assert summary.trend == (None,)
    assert (summary.change, summary.response, summary.direction) == (None, None, None)
