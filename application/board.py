"""The coordination board: the patients on the signed-in clinician's caseload with what is
due, overdue, alerting, missed or waiting, a page at a time, most urgent first; each
patient read (and recorded) through the one audited read, like any other view.

A page costs what it shows: one index query picks the page's patients from the stored
board (projections.board) joined with the caseload, and only those are decided, read (the
`board-items` view, built from their stored board, never by running the rules over their
history) and recorded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from anyio import to_thread
from pydantic import BaseModel

from application.reading import BOARD_ITEMS, ReadRequest, viewer_of
from application.services import Services
from domain.consent import Purpose
from domain.errors import InvalidInput
from domain.events import now
from domain.users import User

Scope = Literal["mine", "team"]
Status = Literal["due", "overdue"]


class BoardPatient(BaseModel):
    patient_id: UUID
    name: str | None
    due: list[dict[str, Any]]
    overdue: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    missed_sessions: list[dict[str, Any]]
    unacknowledged_messages: list[dict[str, Any]]


class Board(BaseModel):
    scope: str
    patients: list[BoardPatient]
    totals: dict[str, int]  # of this page
    # The cursor of the next page (None: this is the last).
    next_cursor: str | None = None


PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def cursor_of(urgency: int, patient_id: UUID) -> str:
    return f"{urgency}.{patient_id}"


def parse_cursor(cursor: str | None) -> tuple[int, UUID] | None:
    """A page's cursor as the next page's query takes it; a malformed one is refused by
    name."""
    if cursor is None:
        return None
    urgency, _, patient = cursor.partition(".")
    try:
        return int(urgency), UUID(patient)
    except ValueError:
        raise InvalidInput.single(
            "cursor", "is not a board cursor (use next_cursor from the previous page)"
        ) from None


def page_size(limit: int | None) -> int:
    if limit is None:
        return PAGE_SIZE
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput.single("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
    return limit


def _mine(items: list[dict[str, Any]], role: str) -> list[dict[str, Any]]:
    return [i for i in items if role in i["for_roles"]]


@dataclass(frozen=True)
class Filters:
    """What the reader asked the board for."""

    scope: Scope = "mine"
    status: Status | None = None
    kind: str | None = None
    alerts_only: bool = False


def entry_for(patient_id: UUID, body: dict[str, Any], user: User, f: Filters) -> BoardPatient:
    """One patient's row: their care view's items, filtered as the reader asked."""
    due, overdue, alerts = body["due"], body["overdue"], body["alerts"]
    if f.scope == "mine":
        due, overdue, alerts = (_mine(x, user.role.value) for x in (due, overdue, alerts))
    if f.kind is not None:
        due = [d for d in due if d["kind"] == f.kind]
        overdue = [d for d in overdue if d["kind"] == f.kind]
    if f.status == "due" or f.alerts_only:
        overdue = []
    if f.status == "overdue" or f.alerts_only:
        due = []
    waiting = [
        m
        for m in body["unacknowledged_messages"]
        if f.scope == "team" or user.email in m["waiting_for"]
    ]
    return BoardPatient(
        patient_id=patient_id,
        name=body.get("name"),
        due=due,
        overdue=overdue,
        alerts=alerts,
        missed_sessions=[] if f.alerts_only else body["missed_sessions"],
        unacknowledged_messages=[] if f.alerts_only else waiting,
    )


def _has_work(entry: BoardPatient) -> bool:
    return bool(
        entry.due
        or entry.overdue
        or entry.alerts
        or entry.missed_sessions
        or entry.unacknowledged_messages
    )


async def board(
    services: Services,
    user: User,
    scope: Scope = "mine",
    status: Status | None = None,
    kind: str | None = None,
    patient_id: UUID | None = None,
    alerts_only: bool = False,
    min_position: int | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Board:
    """One page of the patients on the reader's caseload with work waiting, most urgent
    first (alerts, overdue, due, then missed sessions and waiting messages), each row an
    audited read of that patient's board (reflecting at least `min_position`)."""
    after = parse_cursor(cursor)
    size = page_size(limit)
    await services.reflecting(min_position)
    filters = Filters(scope, status, kind, alerts_only)
    viewer = viewer_of(user)
    found = await to_thread.run_sync(
        lambda: services.reader.index.view.board_page(
            user.email,
            user.role.value,
            now(),
            team=scope == "team",
            status=status,
            kind=kind,
            alerts_only=alerts_only,
            patient_id=patient_id,
            after=after,
            limit=size + 1,
        )
    )
    page, more = found[:size], len(found) > size
    # Each patient on the page is read, and recorded, by the one audited read; one whose
    # team role may not see this is not on my board.
    requests = [
        ReadRequest(viewer, pid, BOARD_ITEMS, Purpose.TREATMENT, min_position=min_position)
        for _urgency, pid in page
    ]
    answered = await services.reads.read_listing(requests, user.actor)
    answers = [
        None if answer is None else entry_for(r.patient_id, answer.json(), user, filters)
        for r, answer in zip(requests, answered, strict=True)
    ]
    patients = [e for e in answers if e is not None and _has_work(e)]
    totals = {
        key: sum(len(getattr(p, key)) for p in patients)
        for key in ("due", "overdue", "alerts", "missed_sessions", "unacknowledged_messages")
    }
    next_cursor = cursor_of(*page[-1]) if more else None
    return Board(scope=scope, patients=patients, totals=totals, next_cursor=next_cursor)
