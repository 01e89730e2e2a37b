"""The board as a projection (projections.board) equals the rules run from scratch: stored
one event at a time, stored in one batch and computed directly from the rows give the same
board, and what that board shows at any reading time (due and overdue read from its stored
due times) is what the rules say at that time. Over generated histories with every kind of
board item: due, overdue, alert, missed session, waiting message."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from eventsourcing.cipher import AESCipher
from eventsourcing.persistence import Tracking
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.sealing import Sealer
from adapters.views import SQLiteIndexView
from demo.common import answers
from domain.events import now
from domain.patient import PatientRecord
from domain.record import RecordEvent
from domain.vocabulary import Modality, SessionMode
from projections import role_views
from projections.board import (
    HORIZON,
    PLAUSIBLE_UNTIL,
    PatientBoard,
    board_of,
    horizon_of,
    status_at,
)
from projections.care import board_entry
from projections.record_index import EventRow, RecordIndex, event_row
from tests.unit.builders import PRESCRIBER, SYSTEM, THERAPIST, demographics

LITHIUM = {
    "drug": "lithium carbonate",
    "rxnorm": "42351",
    "dose": {"amount": "300", "unit": "mg"},
    "schedule": {"frequency": "twice-daily"},
    "indication": "bipolar I disorder",
}
STEPS = ("lithium", "phq9", "missed", "message", "acknowledged", "note")


def history(steps: Sequence[tuple[str, int]], start_days: int = 400) -> list[RecordEvent]:
    """A record: registered `start_days` ago, then each (step, days later) in order."""
    start = now() - timedelta(days=start_days)
    record: PatientRecord = PatientRecord.register(SYSTEM, start, **demographics())
    for member in (THERAPIST, PRESCRIBER):
        record.add_team_member(
            SYSTEM,
            start,
            user_id=member.user_id,
            role=member.role,
            organisation=member.organisation,
        )
    at = start
    for step, gap in steps:
        at = min(at + timedelta(days=gap, hours=1), now() - timedelta(hours=1))
        if step == "lithium":
            record.start_medication(PRESCRIBER, at, medication_id=uuid4(), **LITHIUM)
        elif step == "phq9":
            record.answer_questionnaire(
                THERAPIST, at, instrument="phq-9", answers=answers(2, 2, 1, 1, 1, 1, 0, 0, gap % 3)
            )
        elif step == "missed":
            session = uuid4()
            record.schedule_session(
                THERAPIST,
                at - timedelta(hours=1),
                session_id=session,
                starts_at=at - timedelta(minutes=30),
                duration_minutes=50,
                mode=SessionMode.TELEHEALTH,
                modality=Modality.CBT,
            )
            record.record_missed(THERAPIST, at, session_id=session, reason="no show")
        elif step in ("message", "acknowledged"):
            message = uuid4()
            record.send_message(
                THERAPIST,
                at,
                message_id=message,
                to=[PRESCRIBER.user_id],
                subject="Synthetic question",
                body="Synthetic body.",
            )
            if step == "acknowledged":
                record.acknowledge_message(PRESCRIBER, at, message_id=message)
        else:
            record.write_progress_note(THERAPIST, at, text="Synthetic note.")
    return list(record.collect_events())


def rows_of(events: Sequence[RecordEvent], first: int = 1) -> list[EventRow]:
    return [event_row(first + n, e) for n, e in enumerate(events)]


def stored(  # type: ignore[no-untyped-def]
    path: Path,
    events: Sequence[RecordEvent],
    *,
    batched: bool,
    key: str | None = None,
    zone: ZoneInfo | None = None,
):
    """The events through the record index into a fresh store, one transaction each or
    all in one batch; the store."""
    view = SQLiteIndexView(path, Sealer.keyed(key, "index") if key else None, zone)
    index = RecordIndex(view)
    if batched:
        with view.batch():
            for n, e in enumerate(events, start=1):
                index.process(e, Tracking("tandem", n))
    else:
        for n, e in enumerate(events, start=1):
            index.process(e, Tracking("tandem", n))
    return view


def shown_at(board: PatientBoard, at: datetime) -> dict[str, Any]:
    """What the stored board shows at `at`, by section, in its order."""
    found: dict[str, Any] = {"due": [], "overdue": [], "alerts": [], "missed": [], "waiting": []}
    for item in board.items:
        if item.section == "due":
            status = status_at(item, at)
            if status is not None:
                found[status].append({**item.shown, "status": status})
        elif item.section == "alert":
            found["alerts"].append(item.shown)
        elif item.section == "missed":
            found["missed"].append(item.shown)
        elif item.section == "message":
            found["waiting"].append(item.shown)
    return found


def from_the_rules(
    patient_id: UUID, rows: list[EventRow], at: datetime, zone: ZoneInfo | None = None
) -> dict[str, Any]:
    entry = board_entry(patient_id, rows, at, zone)
    return {
        "due": [role_views._due(d) for d in entry.due],
        "overdue": [role_views._due(d) for d in entry.overdue],
        "alerts": [role_views._alert(a) for a in entry.alerts],
        "missed": entry.missed_sessions,
        "waiting": entry.unacknowledged,
    }


steps = st.lists(st.tuples(st.sampled_from(STEPS), st.integers(0, 40)), max_size=12)


# The clinic's zone: none (UTC days), and zones either side of UTC whose local midnight
# falls at another UTC hour, so "the same day" and due dates differ from UTC's.
ZONES = st.sampled_from([None, ZoneInfo("Pacific/Honolulu"), ZoneInfo("Asia/Tokyo")])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=steps, later=st.integers(-5, 800), zone=ZONES)
def test_stored_incremental_and_batched_boards_equal_the_rules(
    tmp_path_factory: Any, steps: list[tuple[str, int]], later: int, zone: ZoneInfo | None
) -> None:
    events = history(steps)
    rows = rows_of(events)
    patient_id = events[0].originator_id
    direct = role_views.board_in(patient_id, rows, zone=zone)
    assert direct is not None
    base = tmp_path_factory.mktemp("board")
    one_by_one = stored(base / "one.sqlite", events, batched=False, zone=zone)
    batched = stored(base / "batch.sqlite", events, batched=True, zone=zone)
    assert one_by_one.patient_board(patient_id) == direct
    assert batched.patient_board(patient_id) == direct
    # Every prefix of the history, as the board stood after each event, is the rules'
    # board of that prefix (the incremental store recomputed it at each event).
    half = max(1, len(events) // 2)
    prefix = stored(base / "prefix.sqlite", events[:half], batched=False, zone=zone)
    assert prefix.patient_board(patient_id) == role_views.board_in(
        patient_id, rows[:half], zone=zone
    )
    # Read at a time within the stored board's horizon, it shows what the rules say then;
    # past it, the read recomputes the board for that time (as its replay does).
    at = now() + timedelta(days=later)
    read = role_views.board_in(patient_id, rows, at, zone)
    assert read is not None
    assert (read == direct) is (at <= direct.horizon)
    assert shown_at(read, at) == from_the_rules(patient_id, rows, at, zone)
    # Read from the store for that time, only the items open by then come back (in order),
    # and they show the same.
    if at <= direct.horizon:
        for_then = one_by_one.patient_board(patient_id, at)
        assert for_then is not None
        open_then = [i for i in direct.items if i.due_from is None or i.due_from <= at]
        assert list(for_then.items) == open_then
        assert shown_at(for_then, at) == shown_at(direct, at)


def test_a_history_with_every_kind_of_item_shows_each_and_goes_overdue_without_an_event(
    tmp_path: Path,
) -> None:
    """One history that has them all, so the generated ones are known to cover them: a
    due item that turns overdue as time passes with no new event, an alert, a missed
    session and a waiting message (an acknowledged one is not waiting)."""
    events = history(
        [("lithium", 0), ("phq9", 1), ("missed", 1), ("message", 0), ("acknowledged", 0)],
        start_days=3,
    )
    rows = rows_of(events)
    patient_id = events[0].originator_id
    view = stored(tmp_path / "index.sqlite", events, batched=False)
    board = view.patient_board(patient_id)
    assert board is not None
    today = shown_at(board, now())
    assert today["overdue"] and today["alerts"] and today["missed"]
    assert len(today["waiting"]) == 1  # the acknowledged one is not waiting
    # A due item opens, then goes overdue, with no event in between: read from its stored
    # due times, as the rules say at each of those times.
    item = next(i for i in board.items if i.section == "due" and i.due_from > now())
    assert item.due_from is not None and item.due_by is not None
    opened, passed = item.due_from + timedelta(minutes=1), item.due_by + timedelta(minutes=1)
    assert item.key in {d["key"] for d in shown_at(board, opened)["due"]}
    assert item.key in {d["key"] for d in shown_at(board, passed)["overdue"]}
    for at in (now(), opened, passed):
        assert shown_at(board, at) == from_the_rules(patient_id, rows, at)


def test_with_a_cipher_key_the_stored_board_holds_no_patient_text(tmp_path: Path) -> None:
    events = history([("lithium", 0), ("message", 1), ("missed", 1)], start_days=3)
    patient_id = events[0].originator_id
    path = tmp_path / "index.sqlite"
    view = stored(path, events, batched=False, key=AESCipher.create_key(32))
    board = view.patient_board(patient_id)
    assert board is not None and board == board_of(patient_id, rows_of(events))
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for text in ("lithium", "Synthetic question", "no show", PRESCRIBER.user_id, "Synthetic"):
        assert text.encode() not in raw, text


def test_a_clock_gone_wrong_does_not_run_the_board_out_to_year_9999() -> None:
    """A row stored with a time near the last representable date (a broken clock) still
    counts as a fact, but the horizon stays bounded and the board is computed."""
    rows = rows_of(history([("lithium", 1), ("note", 2)]))
    wrong = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
    rows[-1] = dataclasses.replace(rows[-1], clinical_time=wrong, recorded_at=wrong)
    assert horizon_of(rows) == max(max(r.clinical_time, r.recorded_at) for r in rows[:-1]) + HORIZON
    board = board_of(rows[0].patient_id, rows)
    assert board is not None and board.horizon < PLAUSIBLE_UNTIL
    assert any(i.section == "due" for i in board.items)
    only_wrong = [dataclasses.replace(r, clinical_time=wrong, recorded_at=wrong) for r in rows]
    assert horizon_of(only_wrong) == PLAUSIBLE_UNTIL


def test_the_open_items_a_view_keeps_are_the_stored_ones_at_every_time_and_event(
    tmp_path: Path,
) -> None:
    """A view keeps the open items of the boards it read, for the time until the next one
    opens: after each new event (a message acknowledged, a session missed), and at times
    just before and after a due item opens, read forwards and backwards, it answers what a
    view that has kept nothing reads from the file."""
    events = history(
        [("lithium", 0), ("message", 0), ("acknowledged", 1), ("missed", 1), ("phq9", 2)],
        start_days=30,
    )
    patient_id = events[0].originator_id
    path = tmp_path / "index.sqlite"
    view = SQLiteIndexView(path)
    index = RecordIndex(view)
    seen: set[tuple[str, ...]] = set()
    for n, e in enumerate(events, start=1):
        index.process(e, Tracking("tandem", n))
        board = view.patient_board(patient_id)
        opening = (
            [i.due_from for i in board.items if i.due_from and i.due_from > now()] if board else []
        )
        times = [now()]
        if opening:
            first = min(opening)
            times += [first - timedelta(seconds=1), first, first + timedelta(seconds=1)]
        for at in times + times[::-1]:
            kept = view.patient_board(patient_id, at)
            cold = SQLiteIndexView(path).patient_board(patient_id, at)
            assert kept == cold
            if kept is not None:
                seen.add(tuple(i.key for i in kept.items))
    assert len(seen) > 4  # the open items changed with the events and the times
