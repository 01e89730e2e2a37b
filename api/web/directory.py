"""The treating team's page of consents waiting for a directory entry: each consent stored
before the directory whose recipient names no entry, on the patients of the reader's
caseload, with a form to resolve it to the entry the patient meant. The same use cases as
`GET /directory/unresolved-consents` and `POST .../consents/{consent_id}/recipient`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute

from api.deps import ServicesDep
from api.errors import HANDLED, problem_for
from api.web.clinician import page
from api.web.session import WebUser, check_csrf
from application import directory as use
from application.schemas.consents import RecipientResolution
from domain.vocabulary import TREATING_ROLES

router = APIRouter(include_in_schema=False)
PATH = "/consents/unresolved"


async def unresolved_page(
    request: Request,
    user: WebUser,
    services: ServicesDep,
    done: str = "",
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    waiting: list[Any] | None = None
    if user.role in TREATING_ROLES:
        waiting = await use.unresolved_consents(services, user)
    return page(
        request,
        services,
        "consents_unresolved.html",
        user,
        status,
        waiting=waiting,
        recipients=await services.directory.listing(),
        errors=errors or {},
        flash="The consent now names its recipient." if done == "resolved" else None,
    )


async def resolve(
    request: Request,
    user: WebUser,
    services: ServicesDep,
    patient_id: UUID,
    consent_id: UUID,
) -> Response:
    form = await request.form()
    check_csrf(services, request, str(form.get("csrf") or ""))
    try:
        body = RecipientResolution(recipient=str(form.get("recipient") or ""))
        receipt = await services.consents.resolve_recipient(user, patient_id, consent_id, body)
    except HANDLED as exc:
        problem = problem_for(exc)
        words = "; ".join(f"{f.field}: {f.reason}" for f in problem.fields) or problem.message
        return await unresolved_page(
            request, user, services, errors={str(consent_id): words}, status=problem.status
        )
    await services.visible(receipt.position)
    return RedirectResponse(f"{PATH}?done=resolved", status_code=303)


# No path shared with the API: ordinary routes (a bearer-token client is sent to log in).
router.add_api_route(
    PATH,
    unresolved_page,
    methods=["GET"],
    response_class=HTMLResponse,
    route_class_override=APIRoute,
)
router.add_api_route(
    PATH + "/{patient_id}/{consent_id}",
    resolve,
    methods=["POST"],
    response_class=HTMLResponse,
    route_class_override=APIRoute,
)
