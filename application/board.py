"""The coordination board: every patient on the signed-in clinician's caseload, with what
is due, overdue, alerting, missed or waiting; each patient read (and recorded) through the
one audited read, like any other view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from anyio import to_thread
from pydantic import BaseModel

from application.reading import CARE_ITEMS, ReadRequest, viewer_of
from application.services import Services
from domain.consent import Purpose
from domain.errors import AccessDenied
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
    totals: dict[str, int]


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
) -> Board:
    """Every patient on the reader's caseload with work waiting, each row an audited read
    of that patient's care view (reflecting at least `min_position`)."""
    await services.reflecting(min_position)
    filters = Filters(scope, status, kind, alerts_only)
    viewer = viewer_of(user)
    caseload = await to_thread.run_sync(services.reader.index.view.caseload, user.email)
    patients = []
    for pid, _role in caseload:
        if patient_id is not None and pid != patient_id:
            continue
        request = ReadRequest(viewer, pid, CARE_ITEMS, Purpose.TREATMENT, min_position=min_position)
        try:
            found = await services.reads.read(request, user.actor, listing=True)
        except AccessDenied:
            continue  # on the team in a role that may not see this: not on my board
        entry = entry_for(pid, found.json(), user, filters)
        if _has_work(entry):
            patients.append(entry)
    totals = {
        key: sum(len(getattr(p, key)) for p in patients)
        for key in ("due", "overdue", "alerts", "missed_sessions", "unacknowledged_messages")
    }
    return Board(scope=scope, patients=patients, totals=totals)
