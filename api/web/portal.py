"""The patient's copy of their record, downloaded from their page (/me): the same use case
as the API's `GET /me/record` (application.portal), for a browser's session, as the JSON
answer recorded (byte for byte what was hashed) or that answer drawn as a PDF. The JSON
page shares the API's path and steps aside for any request that is not a browser's
(api/web/routing.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep
from api.web import clinic_zone
from api.web.pages import render
from api.web.record_pdf import record_pdf
from api.web.routing import PageRoute
from api.web.session import WebUser
from application import portal
from application.audited import AuditedAnswer
from domain.errors import AccessDenied

router = APIRouter(include_in_schema=False)


def _attachment(body: bytes, media_type: str, filename: str, found: AuditedAnswer) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Access-Id": str(found.access_id),
        },
    )


def _refused(request: Request, services: ServicesDep, user: WebUser) -> Response:
    response = render(
        request,
        services,
        "pt_forbidden.html",
        user,
        message="Only a patient downloads their own record here.",
    )
    response.status_code = 403
    return response


async def download_record(request: Request, services: ServicesDep, user: WebUser) -> Response:
    """The whole record as JSON, an attachment: one audited read (record-export, for
    right-of-access), its recorded bytes as they were hashed."""
    try:
        found = await portal.record_export(services, user)
    except AccessDenied:
        return _refused(request, services, user)
    filename = portal.export_filename(found, portal.download_day(services))
    return _attachment(found.body, "application/json", filename, found)


router.add_api_route(
    "/me/record",
    download_record,
    methods=["GET"],
    response_model=None,
    route_class_override=PageRoute,
)


@router.get("/me/record.pdf", response_model=None)
async def download_record_pdf(request: Request, services: ServicesDep, user: WebUser) -> Response:
    """The same read drawn as a PDF (one access record, like the JSON download's)."""
    try:
        found = await portal.record_export(services, user)
    except AccessDenied:
        return _refused(request, services, user)
    printed = portal.download_day(services)
    pdf = await run_in_threadpool(record_pdf, found.json(), printed, clinic_zone(request))
    filename = portal.export_filename(found, printed, "pdf")
    return _attachment(pdf, "application/pdf", filename, found)
