"""The coordination board route: parse the filters, call the board use case."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import CurrentUser, ServicesDep
from api.errors import AUTH_ERRORS
from api.http.deps import MinPosition
from application import board as use
from application.board import MAX_PAGE_SIZE, PAGE_SIZE, Board, Scope, Status

router = APIRouter(tags=["coordination"])


@router.get("/board", response_model=Board, responses=AUTH_ERRORS)
async def board(
    user: CurrentUser,
    services: ServicesDep,
    scope: Annotated[
        Scope, Query(description="mine: items for my role; team: everything on my patients")
    ] = "mine",
    status: Annotated[Status | None, Query()] = None,
    kind: Annotated[
        str | None, Query(description="Only items of this kind (lab, contact, visit, ...)")
    ] = None,
    patient_id: UUID | None = None,
    alerts_only: bool = False,
    min_position: MinPosition = None,
    cursor: Annotated[
        str | None, Query(description="next_cursor of the previous page; none: the first")
    ] = None,
    limit: Annotated[
        int | None,
        Query(description=f"patients per page (default {PAGE_SIZE}, at most {MAX_PAGE_SIZE})"),
    ] = None,
) -> Board:
    """A page of the patients on my caseload with what is due, overdue, alerting, missed
    or waiting, most urgent first (alerts, overdue, due, the rest)."""
    return await use.board(
        services,
        user,
        scope,
        status,
        kind,
        patient_id,
        alerts_only,
        min_position,
        cursor,
        limit,
    )
