"""The schedule page: a clinician's sessions across their patients, a day or a week at a
time, in the clinic's time zone.

The page parses its input, calls the one schedule use case (application/schedule.py: each
patient an audited read of their "appointments" view) and renders it. A double booking of
one patient is refused by the record itself; one of the clinician across patients cannot
be, so it is shown here as a warning ("overlaps").
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import ServicesDep
from api.web import clinic_zone
from api.web.clinician import page, problem_page
from api.web.session import WebUser
from application.schedule import SPANS, clinician_schedule
from domain.vocabulary import Role

router = APIRouter(include_in_schema=False)
SCHEDULE_ROLES = frozenset({Role.THERAPIST, Role.PRESCRIBER})


@router.get("/schedule", response_class=HTMLResponse)
async def schedule(
    request: Request,
    user: WebUser,
    services: ServicesDep,
    day: str = "",
    span: str = "week",
) -> HTMLResponse:
    """`?day=YYYY-MM-DD` (default today, in the clinic's zone) and `?span=day|week`."""
    zone = clinic_zone(request) or UTC
    today = datetime.now(zone).date()
    if user.role not in SCHEDULE_ROLES:
        return problem_page(
            request,
            services,
            user,
            403,
            "Schedule",
            "The schedule is for therapists and prescribers.",
        )
    if span not in SPANS:
        return problem_page(
            request, services, user, 422, "Schedule", "The span must be 'day' or 'week'."
        )
    try:
        chosen = date.fromisoformat(day) if day else today
    except ValueError:
        return problem_page(
            request,
            services,
            user,
            422,
            "Schedule",
            f"'{day}' is not a date: give the day as YYYY-MM-DD, e.g. {today.isoformat()}.",
        )
    found = await clinician_schedule(services, user, chosen, span, zone)
    step = timedelta(days=SPANS[span])
    return page(
        request,
        services,
        "schedule.html",
        user,
        schedule=found,
        span=span,
        day=chosen,
        today=today,
        previous=chosen - step,
        next=chosen + step,
        zone_label=datetime.now(zone).strftime("%Z"),
    )
