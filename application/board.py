"""The coordination board: every patient on the signed-in clinician's caseload, with what
is due, overdue, alerting, missed or waiting; each patient read (and recorded) through the
one audited read, like any other view."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from anyio import to_thread
from pydantic import BaseModel

from application.consents import viewer_of
from application.reading import ReadRequest
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


async def board(
    services: Services,
    user: User,
    scope: Scope = "mine",
    status: Status | None = None,
    kind: str | None = None,
    patient_id: UUID | None = None,
    alerts_only: bool = False,
) -> Board:
    viewer = viewer_of(user)
    caseload = await to_thread.run_sync(services.reader.index.view.caseload, user.email)
    patients = []
    for pid, _role in caseload:
        if patient_id is not None and pid != patient_id:
            continue
        request = ReadRequest(viewer, pid, "care", Purpose.TREATMENT)
        try:
            found = await services.reads.read(request, user.actor)
        except AccessDenied:
            continue  # on the team in a role that may not see this: not on my board
        body = found.json()
        due, overdue, alerts = body["due"], body["overdue"], body["alerts"]
        if scope == "mine":
            due, overdue, alerts = (_mine(x, user.role.value) for x in (due, overdue, alerts))
        if kind is not None:
            due = [d for d in due if d["kind"] == kind]
            overdue = [d for d in overdue if d["kind"] == kind]
        if status == "due":
            overdue = []
        elif status == "overdue":
            due = []
        entry = BoardPatient(
            patient_id=pid,
            name=body.get("name"),
            due=due,
            overdue=overdue,
            alerts=alerts,
            missed_sessions=[] if alerts_only else body["missed_sessions"],
            unacknowledged_messages=[]
            if alerts_only
            else [
                m
                for m in body["unacknowledged_messages"]
                if scope == "team" or user.email in m["waiting_for"]
            ],
        )
        if alerts_only:
            entry.due, entry.overdue = [], []
        if (
            entry.due
            or entry.overdue
            or entry.alerts
            or entry.missed_sessions
            or entry.unacknowledged_messages
        ):
            patients.append(entry)
    totals = {
        "due": sum(len(p.due) for p in patients),
        "overdue": sum(len(p.overdue) for p in patients),
        "alerts": sum(len(p.alerts) for p in patients),
        "missed_sessions": sum(len(p.missed_sessions) for p in patients),
        "unacknowledged_messages": sum(len(p.unacknowledged_messages) for p in patients),
    }
    return Board(scope=scope, patients=patients, totals=totals)
