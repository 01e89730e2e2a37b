"""Server-rendered pages: the same policy, the same access records, the same validation
as the API, for people who would rather look than read JSON."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from api.web.session import BadCsrf, LoginRequired

HERE = Path(__file__).parent
jinja = Jinja2Templates(directory=HERE / "templates")


def local_time(value: str | datetime | None, zone: tzinfo | None, seconds: bool = False) -> str:
    """A moment as the clinic reads it: in its time zone, with the zone's abbreviation
    ("2026-03-07 23:30 HST"). A date alone (no time of day) is shown as it is; anything
    that is not a moment, as given."""
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if len(value) <= 10:  # a date: no time of day, no zone to show
            return value
    if not isinstance(moment, datetime):
        return "" if value is None else str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the store keeps aware times; be explicit
    shown = moment.astimezone(zone or UTC)
    return shown.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")


def clinic_zone(request: Request | None) -> tzinfo | None:
    """The clinic's time zone (TANDEM_CLINIC_TIMEZONE), from the app's services."""
    services = getattr(request.app.state, "services", None) if request is not None else None
    return getattr(getattr(services, "reader", None), "zone", None)


@pass_context
def _clinic_time(context: Any, value: str | datetime | None, seconds: bool = False) -> str:
    return local_time(value, clinic_zone(context.get("request")), seconds)


# Every template shows times through these: `at(moment)` or `moment | clinic_time`.
jinja.env.globals["at"] = _clinic_time
jinja.env.filters["clinic_time"] = _clinic_time


def install(app: FastAPI) -> None:
    from api.web import (  # they use `jinja`
        caseload,
        clinician,
        compliance,
        directory,
        pages,
        patient,
        patients,
        portal,
        schedule,
    )

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (
        pages,
        patients,
        clinician,
        caseload,
        schedule,
        directory,
        patient,
        portal,
        compliance,
    ):
        app.include_router(module.router)

    async def to_login(request: Request, exc: Exception) -> Response:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    async def bad_csrf(request: Request, exc: Exception) -> Response:
        return Response("This form has expired; go back, reload and try again.", status_code=403)

    app.add_exception_handler(LoginRequired, to_login)
    app.add_exception_handler(BadCsrf, bad_csrf)
