"""Compliance pages: the log's integrity, who saw what, accounting of disclosures, the
break-the-glass review queue, and replay of any past read.

Each page calls the JSON API's own compliance functions (`api.http.compliance`), so the
same reviewer check, the same queries and the same review command apply; these pages only
lay the answers out. Compliance reviewers see access records, never clinical content.

Paths stay clear of the JSON API's `/compliance/...` routes: `/compliance` (index),
`/compliance/access-log`, `/compliance/disclosure-report/{patient_id}`, `/compliance/review`,
`/compliance/replay/{access_id}`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep
from api.exports import csv_response
from api.web.pages import render
from api.web.session import WebUser, check_csrf
from application import compliance as api
from application.chain_link import ChainError
from application.services import Services
from domain.errors import InvalidInput, NotAnAuditor, NotFound, RuleViolation
from domain.registration import patient_id_for
from domain.users import User

router = APIRouter(include_in_schema=False)

# The access log shows this many rows, newest first; the CSV has them all.
SHOWN_ROWS = 500
OUTCOMES = (
    ("appropriate", "Appropriate"),
    ("inappropriate", "Inappropriate"),
    ("needs-follow-up", "Needs follow-up"),
)
FLASH = {"reviewed": "Review recorded; the read has left the queue."}


Page = Callable[..., Awaitable[Response]]


def reviewers_only(page: Page) -> Page:
    """The compliance use cases decide who is a reviewer (and refuse everyone else); a page
    answers their refusal with the reviewers-only page, before it shows even its forms."""

    @functools.wraps(page)
    async def guarded(*args: Any, **kwargs: Any) -> Response:
        try:
            api.require_reviewer(kwargs["user"])
            return await page(*args, **kwargs)
        except NotAnAuditor:
            return not_auditor(kwargs["request"], kwargs["services"], kwargs["user"])

    return guarded


def refuse(request: Request, services: Services, user: User, status: int, message: str) -> Response:
    response = render(request, services, "cmp_refused.html", user, status=status, message=message)
    response.status_code = status
    return response


def not_auditor(request: Request, services: Services, user: User) -> Response:
    return refuse(request, services, user, 403, "These pages are for compliance reviewers only.")


async def patient_ref(services: Services, text: str) -> UUID:
    """A patient named by id, or by MRN (looked up; an MRN nobody has names no one)."""
    text = text.strip()
    try:
        return UUID(text)
    except ValueError:
        pass
    if not text or len(text) > 64:
        raise ValueError("enter a patient id or an MRN (for example DEMO-1001)")
    found = await run_in_threadpool(services.clinic.patient_id_by_mrn, text)
    return found or patient_id_for(text)


def _day(text: str, field: str, *, end: bool = False) -> datetime | None:
    """A date field as the start of that day (UTC), or of the next day for an end."""
    text = text.strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput.single(field, "is not a date (year-month-day)") from None
    return datetime.combine(day + timedelta(days=1) if end else day, time(0), tzinfo=UTC)


def _csv(response: Response, name: str) -> Response:
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- index ---------------------------------------------------------------------------

# The index page counts the refused sign-ins of this last stretch (all are at the API).
SIGN_IN_WINDOW = timedelta(hours=24)


async def _index_page(
    request: Request, services: Services, user: User, status: int = 200, **extra: Any
) -> Response:
    verification: api.Verification | None = None
    problem: str | None = None
    try:
        verification = await run_in_threadpool(api.verify_log, services, user)
    except NotFound:
        problem = "No hash chain is configured for this store."
    except ChainError as exc:
        problem = f"The log could not be checked: {exc}"
    queue = await run_in_threadpool(api.review_queue, services, user)
    response = render(
        request,
        services,
        "cmp_index.html",
        user,
        verification=verification,
        problem=problem,
        queue=len(queue),
        flagged=await run_in_threadpool(api.flagged_users, services, user),
        sign_ins=await run_in_threadpool(
            functools.partial(api.sign_in_failures, since=datetime.now(UTC) - SIGN_IN_WINDOW),
            services,
            user,
        ),
        **extra,
    )
    response.status_code = status
    return response


@router.get("/compliance", response_class=HTMLResponse)
@reviewers_only
async def index(request: Request, services: ServicesDep, user: WebUser) -> Response:
    """The log's integrity (extend the chain, then verify it) and the way to everything else."""
    return await _index_page(request, services, user)


@router.get("/compliance/disclosure-report", response_model=None)
@reviewers_only
async def disclosure_lookup(
    request: Request, services: ServicesDep, user: WebUser, patient: str = ""
) -> Response:
    """The index's form: a patient id or MRN, sent on to that patient's accounting."""
    try:
        patient_id = await patient_ref(services, patient)
    except ValueError as exc:
        return await _index_page(
            request, services, user, status=422, patient=patient, patient_error=str(exc)
        )
    return RedirectResponse(f"/compliance/disclosure-report/{patient_id}", status_code=303)


# --- who saw what ---------------------------------------------------------------------


@router.get("/compliance/access-log", response_model=None)
@reviewers_only
async def access_log(
    request: Request,
    services: ServicesDep,
    user: WebUser,
    patient: str = "",
    who: str = "",
    since: str = "",
    until: str = "",
    format: str = "html",
) -> Response:
    """Who saw patient X in a period, or what user Y saw; `format=csv` downloads it."""
    filters = {"patient": patient, "who": who, "since": since, "until": until}
    errors: dict[str, str] = {}
    patient_id: UUID | None = None
    if patient.strip():
        try:
            patient_id = await patient_ref(services, patient)
        except ValueError as exc:
            errors["patient"] = str(exc)
    bounds: dict[str, datetime | None] = {}
    for name, text in (("since", since), ("until", until)):
        try:
            bounds[name] = _day(text, name, end=name == "until")
        except InvalidInput as exc:
            errors[name] = exc.errors[0].reason
    if errors:
        response = render(
            request,
            services,
            "cmp_access_log.html",
            user,
            filters=filters,
            errors=errors,
            rows=[],
            total=0,
            searched=False,
            csv_query="",
        )
        response.status_code = 422
        return response
    found = await run_in_threadpool(
        lambda: api.who_saw_what(
            services,
            user,
            patient_id=patient_id,
            user_id=who.strip() or None,
            since=bounds["since"],
            until=bounds["until"],
        )
    )
    if format == "csv":
        return _csv(csv_response(found), "access-log.csv")
    rows: list[api.AccessPublic] = list(reversed(found))
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request,
        services,
        "cmp_access_log.html",
        user,
        filters=filters,
        errors={},
        rows=rows[:SHOWN_ROWS],
        total=len(rows),
        searched=True,
        csv_query=query,
        shown=SHOWN_ROWS,
    )


# --- accounting of disclosures -------------------------------------------------------


@router.get("/compliance/disclosure-report/{patient_id}", response_model=None)
@reviewers_only
async def disclosure_report(
    request: Request, patient_id: UUID, services: ServicesDep, user: WebUser, format: str = "html"
) -> Response:
    """45 CFR 164.528 over six years, Part 2 disclosures (42 CFR 2.25) listed apart."""
    found = await run_in_threadpool(api.accounting_of_disclosures, services, user, patient_id)
    if format == "csv":
        rows = [*found.disclosures, *found.part2_disclosures]
        return _csv(csv_response(rows), f"disclosures-{patient_id}.csv")
    return render(request, services, "cmp_disclosures.html", user, accounting=found)


# --- break-the-glass review ----------------------------------------------------------


async def _queue_page(
    request: Request,
    services: Services,
    user: User,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    entered: dict[str, dict[str, str]] | None = None,
    problem: str | None = None,
    flash: str | None = None,
    status: int = 200,
) -> Response:
    queue = await run_in_threadpool(api.review_queue, services, user)
    response = render(
        request,
        services,
        "cmp_review.html",
        user,
        queue=queue,
        outcomes=OUTCOMES,
        errors=errors or {},
        entered=entered or {},
        problem=problem,
        flash=flash,
    )
    response.status_code = status
    return response


@router.get("/compliance/review", response_class=HTMLResponse)
@reviewers_only
async def review_queue(
    request: Request, services: ServicesDep, user: WebUser, done: str = ""
) -> Response:
    return await _queue_page(request, services, user, flash=FLASH.get(done))


@router.post("/compliance/review/{access_id}", response_model=None)
@reviewers_only
async def review(
    request: Request, access_id: UUID, services: ServicesDep, user: WebUser
) -> Response:
    form = await request.form()
    check_csrf(services, request, str(form.get("csrf") or ""))
    entered = {"outcome": str(form.get("outcome") or ""), "note": str(form.get("note") or "")}
    key = str(access_id)
    errors: dict[str, str] = {}
    try:
        body = api.ReviewBody.model_validate(entered)
        await api.review(services, user, access_id, body)
    except ValidationError as exc:
        for problem in InvalidInput.from_validation_error(exc).errors:
            field = problem.field.split(".", maxsplit=1)[0]
            errors.setdefault(field if field in entered else "general", problem.reason)
    except InvalidInput as exc:
        for problem in exc.errors:
            field = problem.field.split(".", maxsplit=1)[0]
            errors.setdefault(field if field in entered else "general", problem.reason)
    except RuleViolation as exc:
        errors["general"] = str(exc)
    except NotFound:
        return refuse(request, services, user, 404, "There is no such access record.")
    else:
        return RedirectResponse("/compliance/review?done=reviewed", status_code=303)
    return await _queue_page(
        request,
        services,
        user,
        errors={key: errors},
        entered={key: entered},
        problem=errors.pop("general", None),
        status=422,
    )


# --- replay --------------------------------------------------------------------------


@router.get("/compliance/replay/{access_id}", response_class=HTMLResponse)
@reviewers_only
async def replay(
    request: Request, access_id: UUID, services: ServicesDep, user: WebUser
) -> Response:
    """Rebuild a past read from the log and compare its hash with the recorded one."""
    try:
        result = await run_in_threadpool(api.replay, services, user, access_id)
    except NotFound:
        return refuse(request, services, user, 404, "There is no such access record.")
    row = await run_in_threadpool(api.access, services, user, access_id)
    return render(request, services, "cmp_replay.html", user, result=result, record=row)
