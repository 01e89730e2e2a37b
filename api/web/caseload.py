"""The caseload page: the coordination board (the same use case as `GET /board`)."""

from __future__ import annotations

from typing import get_args

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute

from api.deps import ServicesDep
from api.web.clinician import page
from api.web.session import WebUser
from application import board as board_use
from domain.rules.care import DueKind
from domain.vocabulary import Role

router = APIRouter(include_in_schema=False)
CASELOAD_ROLES = frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.PRIMARY_CARE})

DUE_KINDS: tuple[str, ...] = get_args(DueKind)


async def caseload(
    request: Request,
    user: WebUser,
    services: ServicesDep,
    scope: str = "mine",
    status: str = "",
    kind: str = "",
) -> HTMLResponse:
    """The coordination board (`GET /board`) as a page: the same reads, the same records."""
    filters = {
        "scope": scope if scope in ("mine", "team") else "mine",
        "status": status if status in ("due", "overdue") else "",
        "kind": kind if kind in DUE_KINDS else "",
    }
    if user.role not in CASELOAD_ROLES:
        return page(
            request,
            services,
            "caseload.html",
            user,
            board=None,
            filters=filters,
            kinds=DUE_KINDS,
        )
    found = await board_use.board(
        services,
        user,
        scope="team" if filters["scope"] == "team" else "mine",
        status="due" if filters["status"] == "due" else "overdue" if filters["status"] else None,
        kind=filters["kind"] or None,
    )
    return page(
        request,
        services,
        "caseload.html",
        user,
        board=found,
        filters=filters,
        kinds=DUE_KINDS,
    )


# The caseload shares no path with the API: an ordinary route (a bearer-token client gets
# the login redirect, not the API's 404).
router.add_api_route(
    "/caseload",
    caseload,
    methods=["GET"],
    response_class=HTMLResponse,
    route_class_override=APIRoute,
)
