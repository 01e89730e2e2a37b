"""Charts drawn on the server as inline SVG: pure functions of a view's JSON, no JavaScript.

Every chart names itself (`<title>`) and says in words what it shows (`<desc>`), so a screen
reader announces the same facts the lines draw; the pages put the numbers in a table beside
each chart as well. Instrument trends shade the instrument's severity bands, taken from the
scoring table the rules use (`domain.rules.scoring`), so the picture and the bands in the
view's answer can never disagree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from html import escape
from typing import Any

from markupsafe import Markup

from api.web import report
from domain.events import now
from domain.instruments import INSTRUMENTS, InstrumentCode
from domain.rules.scoring import SCORING, Band

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 176, 14, 40
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

# Light fills, darker with severity; text on them keeps AA contrast (#1a1a1a on each).
BAND_FILLS = ("#e3f1e6", "#f3f1d2", "#fbe3c7", "#f8cfc2", "#f1b7b7")
LABELS = {
    "phq-9": "PHQ-9",
    "gad-7": "GAD-7",
    "pcl-5": "PCL-5",
    "audit-c": "AUDIT-C",
    "asrs-v1.1-a": "ASRS v1.1 Part A",
    "c-ssrs-screener": "C-SSRS screener",
    "promis-sleep-8a": "PROMIS Sleep Disturbance 8a",
}


def instrument_label(code: str) -> str:
    return LABELS.get(code, code)


def slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def when(iso: str | None) -> datetime | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        return None


def day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


@dataclass(frozen=True)
class _Scale:
    """Linear maps from time and value to the plot area."""

    start: datetime
    end: datetime
    low: float
    high: float

    def x(self, moment: datetime) -> float:
        span = (self.end - self.start).total_seconds() or 1.0
        return LEFT + PLOT_W * (moment - self.start).total_seconds() / span

    def y(self, value: float) -> float:
        span = (self.high - self.low) or 1.0
        return TOP + PLOT_H * (1 - (value - self.low) / span)


# The dates a chart draws: an entry stored outside them (year 1, a clock gone wrong) is left
# out of the picture with a note, never stretched into it, and stays in the table beside it.
EARLIEST_DRAWN = datetime(1900, 1, 1, tzinfo=UTC)
AHEAD_DRAWN = timedelta(days=5 * 366)


def drawable(moment: datetime, current: datetime | None = None) -> bool:
    """Whether a moment lies within the dates a chart draws (1900 to five years ahead)."""
    if moment.tzinfo is None:
        return False
    return EARLIEST_DRAWN <= moment <= (current or now()) + AHEAD_DRAWN


def left_out(count: int, what: str, many: str) -> str:
    """The note of a chart that left `count` entries out; empty when it left none."""
    if not count:
        return ""
    return (
        f"{count} {what if count == 1 else many} outside the chart's dates (before 1900 "
        f"or more than five years ahead) not drawn; the table lists every entry."
    )


def _note(text: str) -> list[str]:
    if not text:
        return []
    return [
        f'<text class="chart-note" x="{LEFT + 4}" y="{TOP + 12}" font-size="11" '
        f'fill="#9b1c1c">{escape(text)}</text>'
    ]


def _time_range(moments: Sequence[datetime]) -> tuple[datetime, datetime]:
    start, end = min(moments), max(moments)
    if end - start < timedelta(days=1):  # one point (or one day): centre it in a week
        start, end = start - timedelta(days=3), end + timedelta(days=4)
    return start, end


def _x_ticks(scale: _Scale, count: int = 4) -> list[datetime]:
    span = scale.end - scale.start
    return [scale.start + span * i / count for i in range(count + 1)]


def _nice_step(span: float, wanted: int = 5) -> float:
    raw = span / max(wanted, 1)
    if raw <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def _number(value: float) -> str:
    return f"{value:g}"


def _svg(chart_id: str, title: str, desc: str, body: list[str], css: str) -> Markup:
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css}" id="{escape(chart_id)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" focusable="false" '
        f'aria-labelledby="{escape(title_id)} {escape(desc_id)}">'
        f'<title id="{escape(title_id)}">{escape(title)}</title>'
        f'<desc id="{escape(desc_id)}">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")


def _axes(scale: _Scale, y_ticks: Sequence[float], y_label: str) -> list[str]:
    parts = [
        f'<g class="axis" stroke="#4a4a4a" stroke-width="1">'
        f'<line x1="{LEFT}" y1="{TOP + PLOT_H}" x2="{LEFT + PLOT_W}" y2="{TOP + PLOT_H}"/>'
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + PLOT_H}"/></g>',
        '<g class="ticks" font-size="11" fill="#1a1a1a">',
    ]
    for value in y_ticks:
        y = scale.y(value)
        parts.append(
            f'<line x1="{LEFT - 4}" y1="{y:.1f}" x2="{LEFT}" y2="{y:.1f}" stroke="#4a4a4a"/>'
            f'<text x="{LEFT - 7}" y="{y + 4:.1f}" text-anchor="end">{_number(value)}</text>'
        )
    for moment in _x_ticks(scale):
        x = scale.x(moment)
        parts.append(
            f'<line x1="{x:.1f}" y1="{TOP + PLOT_H}" x2="{x:.1f}" y2="{TOP + PLOT_H + 4}" '
            f'stroke="#4a4a4a"/><text x="{x:.1f}" y="{TOP + PLOT_H + 17}" '
            f'text-anchor="middle">{day(moment)}</text>'
        )
    parts.append(
        f'<text x="12" y="{TOP + PLOT_H / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 12 {TOP + PLOT_H / 2:.1f})">{escape(y_label)}</text></g>'
    )
    return parts


# --- instrument trends ---------------------------------------------------------------------


def score_range(code: str, totals: Sequence[float]) -> tuple[float, float]:
    """The axis: the instrument's possible totals when known, else the data's own range."""
    try:
        instrument = InstrumentCode(code)
    except ValueError:
        instrument = None
    rule = SCORING.get(instrument) if instrument is not None else None
    if rule is not None and rule.bands:
        return float(rule.bands[0].low), float(rule.bands[-1].high)
    if instrument is not None and rule is not None and rule.scored_items:
        items = [INSTRUMENTS[instrument].item(k) for k in rule.scored_items]
        low = sum(i.low for i in items if i is not None)
        high = sum(i.high for i in items if i is not None)
        return float(low), float(high)
    if not totals:
        return 0.0, 1.0
    return float(min(0, *totals)), float(max(totals)) or 1.0


def bands_of(code: str) -> tuple[Band, ...]:
    try:
        rule = SCORING.get(InstrumentCode(code))
    except ValueError:
        return ()
    return rule.bands if rule is not None else ()


def instrument_chart(code: str, points: Sequence[Mapping[str, Any]], chart_id: str) -> Markup:
    """A line of an instrument's totals over time, over its shaded severity bands (PHQ-9,
    GAD-7); plain for instruments without bands. Points without a total (a triage-only
    screener) are left to the table."""
    label = instrument_label(code)
    totalled = [
        (moment, float(p["total"]), str(p.get("band") or ""), list(p.get("flags") or []))
        for p in points
        if p.get("total") is not None and (moment := when(p.get("at"))) is not None
    ]
    series = [s for s in totalled if drawable(s[0]) and math.isfinite(s[1])]
    note = left_out(len(totalled) - len(series), "total", "totals")
    title = f"{label} totals over time"
    if not series:
        desc = f"No {label} totals to draw.{' ' + note if note else ''}"
        return _svg(chart_id, title, desc, _note(note), "instrument")
    low, high = score_range(code, [t for _, t, _, _ in series])
    # A total outside the instrument's range (stored before a check) sits on the axis's edge.
    series = [(m, min(max(t, low), high), b, f) for m, t, b, f in series]
    start, end = _time_range([m for m, _, _, _ in series])
    scale = _Scale(start, end, low, high)
    bands = bands_of(code)
    body: list[str] = []
    if bands:
        body.append('<g class="bands">')
        for index, band in enumerate(bands):
            top = scale.y(min(high, band.high + 0.5))
            bottom = scale.y(max(low, band.low - 0.5))
            fill = BAND_FILLS[min(index, len(BAND_FILLS) - 1)]
            body.append(
                f'<rect class="band band-{slug(band.label)}" x="{LEFT}" y="{top:.1f}" '
                f'width="{PLOT_W}" height="{bottom - top:.1f}" fill="{fill}">'
                f"<title>{escape(band.label)}: {band.low}-{band.high}</title></rect>"
                f'<text class="band-label" x="{LEFT + PLOT_W + 6}" y="{(top + bottom) / 2 + 4:.1f}" '
                f'font-size="11" fill="#1a1a1a">{escape(band.label)} ({band.low}-{band.high})</text>'
            )
        body.append("</g>")
        y_ticks: list[float] = sorted({float(b.low) for b in bands} | {high})
    else:
        step = _nice_step(high - low)
        first = math.ceil(low / step) * step
        y_ticks = [first + i * step for i in range(int((high - first) / step) + 1)]
    body.extend(_axes(scale, y_ticks, "total score"))
    line = " ".join(f"{scale.x(m):.1f},{scale.y(t):.1f}" for m, t, _, _ in series)
    body.append(
        f'<polyline class="trend" points="{line}" fill="none" stroke="#0b4f8a" stroke-width="2"/>'
    )
    for moment, total, band_label, flags in series:
        flagged = " flagged" if flags else ""
        note = f" ({band_label})" if band_label else ""
        extra = f"; flags: {', '.join(flags)}" if flags else ""
        radius = 5 if flags else 4
        fill = "#9b1c1c" if flags else "#0b4f8a"
        body.append(
            f'<circle class="point{flagged}" cx="{scale.x(moment):.1f}" cy="{scale.y(total):.1f}" '
            f'r="{radius}" fill="{fill}"><title>{day(moment)}: {_number(total)}'
            f"{escape(note + extra)}</title></circle>"
        )
    first_m, first_t, first_b, _ = series[0]
    last_m, last_t, last_b, _ = series[-1]
    desc = (
        f"{len(series)} {label} totals from {day(first_m)} to {day(last_m)}: "
        f"{_number(first_t)}{f' ({first_b})' if first_b else ''} first, "
        f"{_number(last_t)}{f' ({last_b})' if last_b else ''} latest; "
        f"scale {_number(low)} to {_number(high)}."
    )
    if bands:
        desc += " Shaded bands: " + ", ".join(f"{b.label} {b.low}-{b.high}" for b in bands) + "."
    if note:
        desc += " " + note
        body.extend(_note(note))
    return _svg(chart_id, title, desc, body, "instrument")


# --- the medication timeline ---------------------------------------------------------------


def _amount(dose: Mapping[str, Any] | None) -> float | None:
    if not dose:
        return None
    try:
        return float(Decimal(str(dose.get("amount"))))
    except (InvalidOperation, ValueError, TypeError):
        return None


def dose_label(dose: Mapping[str, Any] | None) -> str:
    if not dose:
        return ""
    amount = dose.get("amount")
    try:
        shown = f"{Decimal(str(amount)).normalize():f}"
    except (InvalidOperation, ValueError):
        shown = str(amount)
    return f"{shown} {dose.get('unit', '')}".strip()


def dose_chart(medication: Mapping[str, Any], end: datetime, chart_id: str) -> Markup:
    """A step line of one medication's dose from its start to its stop (or `end`), with its
    side effects marked along the time axis."""
    drug = str(medication.get("drug") or "medication")
    title = f"{drug}: dose over time"
    dated = [
        (moment, amount, dose_label(d.get("dose")))
        for d in medication.get("doses") or []
        if (moment := when(d.get("at"))) is not None and (amount := _amount(d.get("dose")))
    ]
    steps = [s for s in dated if drawable(s[0], end) and math.isfinite(s[1])]
    marked = [
        (moment, str(e.get("effect", "")), str(e.get("severity", "")))
        for e in medication.get("side_effects") or []
        if (moment := when(e.get("at"))) is not None
    ]
    effects = [e for e in marked if drawable(e[0], end)]
    stopped = when(medication.get("stopped"))
    if stopped is not None and not drawable(stopped, end):
        stopped = None
    note = left_out(len(dated) - len(steps) + len(marked) - len(effects), "entry", "entries")
    if not steps:
        desc = f"No doses of {drug} to draw.{' ' + note if note else ''}"
        return _svg(chart_id, title, desc, _note(note), "doses")
    finish = stopped or max(end, steps[-1][0])
    start, last = _time_range([steps[0][0], finish, *(m for m, _, _ in effects)])
    top_dose = max(a for _, a, _ in steps)
    step = _nice_step(top_dose * 1.1, 4)
    high = math.ceil(top_dose * 1.1 / step) * step
    scale = _Scale(start, last, 0.0, high)
    units = {str((d.get("dose") or {}).get("unit", "")) for d in medication.get("doses") or []}
    body = _axes(
        scale, [i * step for i in range(int(high / step) + 1)], "/".join(sorted(units)) or "dose"
    )
    path = [f"M{scale.x(steps[0][0]):.1f},{scale.y(steps[0][1]):.1f}"]
    for next_moment, next_amount, _ in steps[1:]:
        path.append(f"H{scale.x(next_moment):.1f}V{scale.y(next_amount):.1f}")
    path.append(f"H{scale.x(finish):.1f}")
    body.append(
        f'<path class="dose-line" d="{"".join(path)}" fill="none" stroke="#0b4f8a" stroke-width="2"/>'
    )
    for moment, amount, shown in steps:
        body.append(
            f'<circle class="dose-step" cx="{scale.x(moment):.1f}" cy="{scale.y(amount):.1f}" r="4" '
            f'fill="#0b4f8a"><title>{day(moment)}: {escape(shown)}</title></circle>'
        )
    if stopped is not None:
        x = scale.x(stopped)
        body.append(
            f'<line class="stopped" x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + PLOT_H}" '
            f'stroke="#9b1c1c" stroke-dasharray="4 3"><title>stopped {day(stopped)}</title></line>'
        )
    for moment, effect, severity in effects:
        x, y = scale.x(moment), TOP + PLOT_H - 2
        body.append(
            f'<path class="side-effect" d="M{x:.1f},{y - 10:.1f}L{x - 6:.1f},{y:.1f}H{x + 6:.1f}Z" '
            f'fill="#8a4b00"><title>{day(moment)}: side effect: {escape(effect)} '
            f"({escape(severity)})</title></path>"
        )
    changes = "; ".join(f"{shown} from {day(m)}" for m, _, shown in steps)
    state = f"stopped {day(stopped)}" if stopped is not None else f"current to {day(finish)}"
    desc = f"{drug}: {changes}; {state}."
    if effects:
        desc += (
            " Side effects marked: "
            + "; ".join(f"{effect} ({severity}) {day(m)}" for m, effect, severity in effects)
            + "."
        )
    if note:
        desc += " " + note
        body.extend(_note(note))
    return _svg(chart_id, title, desc, body, "doses")


def patient_charts(
    outcomes: Mapping[str, Any] | None, medications: Mapping[str, Any] | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The instrument charts and the dose charts, drawn from the audited reads' answers."""
    current = now()
    series = (outcomes or {}).get("series") or {}
    timeline = (medications or {}).get("medication_timeline") or []
    instrument_charts = [
        {
            "code": code,
            "label": instrument_label(code),
            "summary": summary,
            # A screen's result or triage level in place of response and remission, and
            # what the latest score was scored by.
            "screen": report.screen_words(summary)[0] if summary.get("screening") else None,
            "scored_with": " ".join(report.scored_with(summary)),
            "svg": instrument_chart(code, points, f"chart-{slug(code)}")
            if any(p.get("total") is not None for p in points)
            else None,
        }
        for code, summary in series.items()
        for points in [summary.get("points") or []]
    ]
    dose_charts = [
        {
            "medication": med,
            "svg": dose_chart(med, current, f"doses-{index}"),
            "changes": [{**d, "label": dose_label(d.get("dose"))} for d in med.get("doses") or []],
        }
        for index, med in enumerate(timeline)
    ]
    return instrument_charts, dose_charts
