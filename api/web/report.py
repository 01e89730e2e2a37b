"""The progress report as a PDF (fpdf2), and the plain words both it and the patient's page
use to describe an instrument's series.

`progress_report` takes the bodies of audited reads (the "view" and "outcomes" views, as
the access policy let the reader have them) and draws nothing else: what the reader may not
see is not in those bodies, so it cannot reach the paper. Psychotherapy notes never appear:
the plan is taken from goal and phase entries only, and the patient's view leaves the notes
out anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fpdf import FPDF

from domain.careplan import GoalSet, PhaseChanged
from domain.instruments import INSTRUMENTS, InstrumentCode
from domain.record import kind_of
from domain.rules.outcomes import OUTCOMES
from domain.rules.scoring import SCORING, UNBANDED

# Text in the PDF is left uncompressed so it stays searchable by the simplest tools.
COMPRESS = False
FOOTER = "Synthetic data: Tandem demonstration, not a real person's record."

# Band fills from least to most severe: light enough for black text and the series line.
BAND_FILLS = ((222, 241, 226), (238, 245, 210), (252, 240, 205), (252, 224, 200), (248, 210, 210))


# --- instruments -------------------------------------------------------------------


@dataclass(frozen=True)
class BandRange:
    low: int
    high: int
    label: str


@dataclass(frozen=True)
class Scale:
    """The range a chart's y axis covers and the severity bands to shade."""

    low: int
    high: int
    bands: tuple[BandRange, ...]


def instrument_name(code: str) -> str:
    try:
        return INSTRUMENTS[InstrumentCode(code)].name
    except (ValueError, KeyError):
        return code


def scale_for(code: str, totals: Sequence[int]) -> Scale:
    """The instrument's full score range and bands; the data's range for anything unknown."""
    try:
        instrument = InstrumentCode(code)
    except ValueError:
        instrument = None
    rule = SCORING.get(instrument) if instrument else None
    if rule is not None and rule.bands:
        bands = tuple(BandRange(b.low, b.high, b.label) for b in rule.bands)
        return Scale(bands[0].low, bands[-1].high, bands)
    if rule is not None and instrument is not None and rule.scored_items:
        items = [INSTRUMENTS[instrument].item(key) for key in rule.scored_items]
        low = sum(i.low for i in items if i is not None)
        high = sum(i.high for i in items if i is not None)
        return Scale(low, max(high, low + 1), ())
    low, high = (min(totals), max(totals)) if totals else (0, 1)
    return Scale(min(low, 0), max(high, low + 1), ())


def chartable(series: dict[str, Any]) -> list[tuple[datetime, int, str]]:
    """(time, total, band) for every point that has a total."""
    return [
        (datetime.fromisoformat(p["at"]), int(p["total"]), str(p.get("band") or ""))
        for p in series.get("points", [])
        if p.get("total") is not None
    ]


def plain_words(code: str, series: dict[str, Any]) -> list[str]:
    """What an instrument's series says, in sentences a patient can read."""
    if series.get("screening"):
        return screen_words(series)
    points = series.get("points", [])
    latest, baseline, change = series.get("latest"), series.get("baseline"), series.get("change")
    band = series.get("latest_band")
    if latest is None:
        return [f"Latest result: {band}."] if band and band != UNBANDED else []
    shown_band = f" ({band})" if band and band != UNBANDED else ""
    words = [f"Latest score {latest}{shown_band}."]
    if len(points) < 2 or change is None:
        words.append("This is the first score; the change shows once there are two.")
        return words
    if change < 0:
        words.append(
            f"That is {-change} points lower than the first score ({baseline}); "
            "lower is better on this questionnaire."
        )
    elif change > 0:
        words.append(
            f"That is {change} points higher than the first score ({baseline}); "
            "higher means more difficulty on this questionnaire."
        )
    else:
        words.append(f"That is the same as the first score ({baseline}).")
    try:
        rule = OUTCOMES.get(InstrumentCode(code))
    except ValueError:
        rule = None
    if series.get("response") is True:
        words.append("Response: the score has fallen by half or more since the start.")
    elif series.get("response") is False:
        words.append("Not a response yet: that needs the score to fall by half or more.")
    if rule is not None and rule.remission_below is not None:
        if series.get("remission") is True:
            words.append(f"Remission: the score is below {rule.remission_below}.")
        elif series.get("remission") is False:
            words.append(f"Not in remission yet: that means a score below {rule.remission_below}.")
    if rule is not None and rule.mid is not None:
        if series.get("minimal_important_difference") is True:
            words.append(
                f"The change is at least {rule.mid} points, enough to notice in daily life."
            )
        elif series.get("minimal_important_difference") is False:
            words.append(
                f"The change is under {rule.mid} points, the smallest change known "
                "to matter in daily life."
            )
    if series.get("reliable") is True:
        words.append("It is larger than the questionnaire's own measurement error.")
    elif series.get("reliable") is False:
        words.append("It could still be within the questionnaire's measurement error.")
    return [*words, *scored_with(series)]


# What a C-SSRS screener's triage level calls for (clinical/instruments.md, safety rules).
TRIAGE_WORDS = {
    "high": "high risk: immediate evaluation and safety precautions",
    "moderate": "moderate risk: assessment by the treating clinician within the day",
    "low": "low risk: thoughts of wishing to be dead or of suicide, without method, intent "
    "or recent behaviour",
    "none": "no suicidal thoughts or behaviour reported",
}


def screen_words(series: dict[str, Any]) -> list[str]:
    """A screen's latest result (or triage level), and what it was scored by: a screen is
    positive or negative, not a severity to follow down, so nothing is said of response,
    remission or change."""
    level = series.get("triage_level")
    if level is not None:
        words = [f"Triage level: {TRIAGE_WORDS.get(level, level)}."]
    else:
        result = series.get("screen_result") or series.get("latest_band")
        total = series.get("latest")
        scored = f" (score {total})" if total is not None else ""
        words = [f"Screen {result}{scored}."]
    return [*words, *scored_with(series)]


def scored_with(series: dict[str, Any]) -> list[str]:
    """The cut-off and scoring version the latest score was scored by."""
    version = series.get("latest_rules_version")
    if version is None:
        return []
    cutoff, basis = series.get("latest_cutoff"), series.get("latest_cutoff_basis")
    source = series.get("latest_cutoff_source")
    said = f"cut-off {cutoff}" if cutoff is not None else ""
    if said and basis:
        said += f" ({basis})"
    if source:
        said = f"{said}; source: {source}" if said else f"source: {source}"
    return [f"Scored by scoring rules v{version}" + (f", {said}." if said else ".")]


# --- what the report shows ---------------------------------------------------------


def plan_of(view: dict[str, Any]) -> dict[str, Any]:
    """Goals, phase of care and functional recommendations, from the entries the view
    holds (summaries only: no note text)."""
    goals: list[str] = []
    phase: str | None = None
    for entry in view.get("entries") or []:
        if entry.get("kind") == kind_of(GoalSet):
            goals.append(str(entry["summary"]).removeprefix("goal: "))
        elif entry.get("kind") == kind_of(PhaseChanged):
            phase = str(entry["summary"]).removeprefix("phase of care: ")
    return {
        "goals": goals,
        "phase": phase,
        "recommendations": view.get("functional_recommendations") or [],
    }


def dose_text(dose: dict[str, Any] | None) -> str:
    if not dose:
        return ""
    return f"{dose.get('amount', '')} {dose.get('unit', '')}".strip()


def schedule_text(schedule: dict[str, Any] | None) -> str:
    if not schedule:
        return ""
    times = [str(t)[:5] for t in schedule.get("times") or []]
    frequency = str(schedule.get("frequency", "")).replace("-", " ")
    return f"{frequency} at {', '.join(times)}" if times else frequency


def current_medications(view: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {
            "drug": str(m["drug"]),
            "dose": dose_text(m.get("dose")),
            "schedule": schedule_text(m.get("schedule")),
            "status": str(m.get("status", "")),
            "since": str(m.get("since", ""))[:10],
        }
        for m in view.get("medications") or []
        if m.get("status") in ("active", "tapering")
    ]


# --- the PDF -------------------------------------------------------------------------

_REPLACEMENTS = {
    "\u2013": "-",
    "\u2014": "-",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2026": "...",
    "\u2265": ">=",
    "\u2264": "<=",
    "\u00a0": " ",
    "\u2192": "->",
    "\u2022": "-",
}


def latin1(text: str) -> str:
    """The core PDF fonts speak Latin-1: map common punctuation, mark anything else."""
    for char, plain in _REPLACEMENTS.items():
        text = text.replace(char, plain)
    return text.encode("latin-1", "replace").decode("latin-1")


class Paper(FPDF):
    """A Tandem PDF: A4, each page's footer saying the data is synthetic."""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", "I", 8)
        self.set_text_color(80, 80, 80)
        self.cell(0, 6, latin1(f"{FOOTER}   Page {self.page_no()} of {{nb}}"), align="C")
        self.set_text_color(0, 0, 0)


def heading(pdf: FPDF, text: str) -> None:
    """A section's heading, on a new page if the section would start at a page's foot."""
    _room(pdf, 16)
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 8, latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)


def para(pdf: FPDF, text: str, size: float = 10, style: str = "") -> None:
    """A paragraph, wrapped to the page."""
    pdf.set_font("Helvetica", style, size)
    pdf.multi_cell(0, 5, latin1(text), new_x="LMARGIN", new_y="NEXT")


def _room(pdf: FPDF, needed: float) -> None:
    if pdf.get_y() + needed > pdf.page_break_trigger:
        pdf.add_page()


def draw_chart(
    pdf: FPDF, code: str, series: dict[str, Any], x: float, y: float, w: float, h: float
) -> None:
    """A line chart of the totals over time with the severity bands shaded behind it."""
    points = chartable(series)
    scale = scale_for(code, [t for _, t, _ in points])
    span = scale.high - scale.low
    if scale.bands:
        w -= 30  # the band labels go to the right of the plot

    def y_of(value: float) -> float:
        return y + h - (value - scale.low) / span * h

    pdf.set_line_width(0.2)
    for i, band in enumerate(scale.bands):
        top = y_of(min(band.high + 1, scale.high))
        bottom = y_of(band.low)
        pdf.set_fill_color(*BAND_FILLS[min(i, len(BAND_FILLS) - 1)])
        pdf.rect(x, top, w, bottom - top, style="F")
        pdf.set_font("Helvetica", "", 6.5)
        pdf.set_text_color(70, 70, 70)
        pdf.set_xy(x + w + 1, (top + bottom) / 2 - 1.5)
        pdf.cell(29, 3, latin1(band.label))
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(120, 120, 120)
    pdf.rect(x, y, w, h)
    # y axis: the range's ends and each band's lower bound
    ticks = sorted({scale.low, scale.high, *(b.low for b in scale.bands)})
    pdf.set_font("Helvetica", "", 7)
    for tick in ticks:
        ty = y_of(tick)
        pdf.line(x - 1.2, ty, x, ty)
        pdf.set_xy(x - 10, ty - 1.5)
        pdf.cell(8.5, 3, str(tick), align="R")
    if not points:
        return
    start, end = points[0][0], points[-1][0]
    seconds = (end - start).total_seconds()

    def x_of(at: datetime) -> float:
        if seconds <= 0:
            return x + w / 2
        return x + 3 + (at - start).total_seconds() / seconds * (w - 6)

    coords = [(x_of(at), y_of(total)) for at, total, _ in points]
    pdf.set_draw_color(11, 79, 138)
    pdf.set_fill_color(11, 79, 138)
    pdf.set_line_width(0.6)
    if len(coords) > 1:
        pdf.polyline(coords)
    for cx, cy in coords:
        pdf.circle(cx, cy, 0.9, style="F")
    pdf.set_line_width(0.2)
    pdf.set_draw_color(0, 0, 0)
    # x axis: first and last dates
    pdf.set_font("Helvetica", "", 7)
    pdf.set_xy(x, y + h + 0.5)
    pdf.cell(30, 3.5, start.date().isoformat())
    if len(points) > 1:
        pdf.set_xy(x + w - 30, y + h + 0.5)
        pdf.cell(30, 3.5, end.date().isoformat(), align="R")


def _header(pdf: FPDF, patient: dict[str, Any], printed: date) -> None:
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, "Progress report", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 7, latin1(str(patient.get("name") or "Patient")), new_x="LMARGIN", new_y="NEXT")
    details = []
    if patient.get("mrn"):
        details.append(f"MRN {patient['mrn']}")
    if patient.get("birth_date"):
        details.append(f"born {patient['birth_date']}")
    details.append(f"Report date {printed.isoformat()}")
    para(pdf, " - ".join(details))


def _scores(pdf: FPDF, outcomes: dict[str, Any]) -> None:
    heading(pdf, "Questionnaire scores")
    series: dict[str, dict[str, Any]] = outcomes.get("series") or {}
    drawn = 0
    for code, found in series.items():
        if not chartable(found):
            continue
        drawn += 1
        _room(pdf, 78)
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(
            0,
            6,
            latin1(f"{instrument_name(code)} ({code.upper()})"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        top = pdf.get_y() + 1
        left = pdf.l_margin + 10
        width = pdf.w - pdf.r_margin - left
        draw_chart(pdf, code, found, left, top, width, 45)
        pdf.set_xy(pdf.l_margin, top + 45 + 5)
        para(pdf, " ".join(plain_words(code, found)), size=9.5)
        pdf.ln(2)
    if not drawn:
        para(pdf, "No questionnaire scores are recorded yet.")


def _plan(pdf: FPDF, view: dict[str, Any]) -> None:
    plan = plan_of(view)
    heading(pdf, "Plan")
    para(pdf, f"Phase of care: {plan['phase'] or 'not recorded'}")
    if plan["goals"]:
        para(pdf, "Goals:", style="B")
        for goal in plan["goals"]:
            para(pdf, f"- {goal}")
    else:
        para(pdf, "No goals recorded yet.")
    if plan["recommendations"]:
        para(pdf, "Functional recommendations:", style="B")
        for rec in plan["recommendations"]:
            until = f" (until {str(rec['valid_until'])[:10]})" if rec.get("valid_until") else ""
            para(pdf, f"- {rec['setting']}: {rec['recommendation']}{until}")


def _medications(pdf: FPDF, view: dict[str, Any]) -> None:
    heading(pdf, "Current medications")
    meds = current_medications(view)
    if not meds:
        para(pdf, "No current medications recorded.")
    for med in meds:
        status = "" if med["status"] == "active" else f" ({med['status']})"
        para(pdf, f"- {med['drug']} {med['dose']}, {med['schedule']}{status}, since {med['since']}")


def progress_report(view: dict[str, Any], outcomes: dict[str, Any], printed: date) -> bytes:
    """The report from the two audited reads' bodies."""
    patient = view.get("patient") or {}
    pdf = Paper(format="A4")
    pdf.set_compression(COMPRESS)
    pdf.set_title(latin1(f"Progress report: {patient.get('name') or 'patient'}"))
    pdf.set_author("Tandem")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_margins(18, 16, 18)
    pdf.add_page()
    _header(pdf, patient, printed)
    _scores(pdf, outcomes)
    _plan(pdf, view)
    _medications(pdf, view)
    return bytes(pdf.output())
