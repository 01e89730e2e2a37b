"""The patient's own page and the progress report PDF.

Everything shown comes from the one audited read (`services.reads.read`): the same policy
decides, and the same access records are left, the consents in force included. Consents are
granted and revoked through the consent use case, so the same rules refuse the same things;
a refusal re-renders the form with each field's reason (422) and records nothing.

The patient's own entries (questionnaires, a sleep log, doses taken or missed, a side
effect, a lapse, a message to the team) are the patient page's forms (api/web/forms.py):
parsed with the API's request schemas, run through the recording use case, whose write
policy and the event classes' authors decide, and refused through the one error map. An
entry the safety rules raise an alert for (PHQ-9 item 9, a lapse) lands on a page with the
crisis resources at the top.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep, oauth2_scheme, user_for_token, viewer_of
from api.errors import HANDLED, problem_for
from api.web import clinic_zone, local_time, report
from api.web.charts import dose_chart, instrument_chart
from api.web.forms import (
    FORM_INSTRUMENTS,
    PORTAL_ACTIONS,
    FormState,
    build_command,
    form_values,
    input_id,
    label,
    open_sessions,
    state_for,
    unflatten,
)
from api.web.pages import render
from api.web.session import WebUser, check_csrf, get_web_user, session_token
from api.web.words import (
    CLASS_ORDER,
    CLASS_WORDS,
    CONSENT_PURPOSE_WORDS,
    PURPOSE_WORDS,
    reads_shown,
)
from application import portal
from application.errors import IndexBehind
from application.reading import SCORED_OUTCOMES, Page, ReadRequest
from application.recording import record
from application.schemas.consents import ConsentCreate, ConsentRevocation
from application.schemas.users import UserPublic
from application.services import Services
from domain.access import Basis
from domain.consent import Purpose
from domain.errors import AccessDenied, InvalidInput
from domain.events import now
from domain.rules.safety import SAFETY_RULES
from domain.users import User
from domain.vocabulary import Role, Severity
from projections.role_views import facts_of_entries

router = APIRouter(include_in_schema=False)

# The PDF is for the patient's own record and for the treating team, whatever a consent
# might open to someone else (they have the JSON views for that).
REPORT_BASES: frozenset[Basis] = frozenset({"own-record", "treating-team"})

FLASH = {
    "granted": "Your consent is recorded. It counts from the next time anyone reads your record.",
    "revoked": "Your consent is revoked. Nothing new is shared under it from now on.",
}
FORM_FIELDS = ("recipient", "data_classes", "purpose", "valid_until", "part2")
DEFAULT_REVOCATION = "Revoked by the patient on the Tandem web page."


# --- audited reads -------------------------------------------------------------------


async def audited_read(
    services: Services,
    user: User,
    patient_id: UUID,
    kind: str,
    bases: Iterable[Basis] | None = None,
    min_position: int | None = None,
) -> dict[str, Any]:
    """One audited read (with `bases`, a read on any other basis is refused, and, as
    nothing is disclosed, not recorded); with `min_position`, once the record's index has
    reached it (the patient's own write)."""
    request = ReadRequest(
        viewer_of(user), patient_id, kind, Purpose.TREATMENT, min_position=min_position
    )
    return (await services.reads.read(request, user.actor, bases=bases)).json()


def forbidden(request: Request, services: Services, user: User, message: str) -> HTMLResponse:
    response = render(request, services, "pt_forbidden.html", user, message=message)
    response.status_code = 403
    return response


def own_patient(user: User) -> UUID | None:
    return user.patient_id if user.role == Role.PATIENT else None


# --- the page ------------------------------------------------------------------------


def progress(outcomes: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per instrument: its chart, the words, and the points as a table."""
    shown = []
    for index, (code, series) in enumerate((outcomes.get("series") or {}).items()):
        points = [
            {
                "date": str(p["at"])[:10],
                "total": p.get("total"),
                "band": p.get("band"),
            }
            for p in series.get("points", [])
        ]
        shown.append(
            {
                "code": code,
                "title": report.instrument_name(code),
                "chart": (
                    instrument_chart(code, series.get("points", []), f"pt-chart-{index}")
                    if report.chartable(series)
                    else None
                ),
                "words": report.plain_words(code, series),
                "points": points,
            }
        )
    return shown


def consents_given(consent_view: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The consents the audited consent-list view gives, in words: those in force, and
    those waiting for the clinic to name their recipient's directory entry (recorded before
    the directory, they share nothing until then; the patient may still revoke them)."""
    shown: dict[str, list[dict[str, Any]]] = {"in_force": [], "waiting": []}
    for t in consent_view.get("given") or []:
        words = {
            "id": t["consent_id"],
            "recipient": t["recipient_name"] or t["recipient"],
            "email": t["recipient"] if t["recipient_kind"] == "user" else None,
            "recipient_kind": t["recipient_kind"],
            "classes": [CLASS_WORDS.get(c, c) for c in CLASS_ORDER if c in t["data_classes"]],
            "purpose": PURPOSE_WORDS.get(t["purpose"], t["purpose"]),
            "from": t["valid_from"][:10],
            "until": t["valid_until"][:10] if t["valid_until"] else None,
            "part2": t["part2"],
        }
        if t["in_force"]:
            shown["in_force"].append(words)
        elif not t["resolved"] and t["ended"] is None:
            shown["waiting"].append(words)
    return shown


def upcoming(entries: Iterable[dict[str, Any]], zone: Any) -> list[dict[str, Any]]:
    """The patient's scheduled sessions still ahead, soonest first, times in the clinic's
    zone (with its label)."""
    moment = now()
    return [
        {
            "when": local_time(s.starts_at, zone),
            "mode": s.mode,
            "kind": s.kind,
            "minutes": s.duration_minutes,
        }
        for s in open_sessions(entries)
        if s.starts_at is not None and s.starts_at >= moment
    ]


def calls_for_help(entries: Iterable[dict[str, Any]], position: int | None) -> bool:
    """Whether the entry the patient just recorded (at log `position`) is one the safety
    rules raise an alert for or make a contact due (PHQ-9 item 9, a lapse): the page then
    shows the crisis resources first."""
    if position is None:
        return False
    facts = [f for f in facts_of_entries(entries) if f.position == position]
    return any(rule.trigger(f) for f in facts for rule in SAFETY_RULES)


async def my_page(
    request: Request,
    services: Services,
    user: User,
    patient_id: UUID,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    general_errors: list[str] | None = None,
    revoke_errors: dict[str, str] | None = None,
    flash: str | None = None,
    state: FormState | None = None,
    done: str | None = None,
    recorded_at: int | None = None,
    assume_crisis: bool = False,
    status: int = 200,
    reads_before: int | None = None,
) -> HTMLResponse:
    # One read, one access record: the whole page's sections in one answer, who has seen
    # the record among them (a page of it: the reads before `reads_before`, or the newest).
    answer = await portal.own_page(
        services, user, Page(reads_before, portal.PAGE_READS), min_position=recorded_at
    )
    page = answer.json()
    view, outcomes = page["sections"]["view"], page["sections"]["outcomes"]
    medications, events = page["sections"]["medications"], page["sections"]["events"]
    consent_view = page["sections"]["consents"]
    access_log = page["sections"]["access-log"]
    entries = events.get("entries") or []
    given = consents_given(consent_view)
    response = render(
        request,
        services,
        "pt_me.html",
        user,
        patient=view.get("patient") or {},
        patient_id=str(patient_id),
        progress=progress(outcomes),
        functional=outcomes.get("functional_outcomes") or [],
        plan=report.plan_of(view),
        medications=report.current_medications(view),
        timeline=[
            {**med, "chart": dose_chart(med, now(), f"pt-doses-{index}")}
            for index, med in enumerate(medications.get("medication_timeline") or [])
        ],
        dose_text=report.dose_text,
        team=view.get("team") or [],
        consent_events=consent_view.get("consent_events") or [],
        in_force=given["in_force"],
        waiting=given["waiting"],
        classes=[(c, CLASS_WORDS[c]) for c in CLASS_ORDER],
        purposes=list(CONSENT_PURPOSE_WORDS.items()),
        form=form or {"recipient": "", "data_classes": [], "purpose": "treatment"},
        recipients=await services.directory.listing(),
        errors=errors or {},
        general_errors=general_errors or [],
        revoke_errors=revoke_errors or {},
        flash=flash,
        upcoming=upcoming(entries, clinic_zone(request)),
        forms=PORTAL_ACTIONS,
        state=state or FormState(""),
        done=done if done in PORTAL_ACTIONS else None,
        crisis=assume_crisis or (done in PORTAL_ACTIONS and calls_for_help(entries, recorded_at)),
        instruments={code.value: items for code, items in FORM_INSTRUMENTS.items()},
        my_medications=[
            (m["medication_id"], m["drug"])
            for m in view.get("medications") or []
            if m.get("status") != "stopped"
        ],
        team_recipients=[m for m in view.get("team") or [] if m["user_id"] != user.email],
        severities=[s.value for s in Severity],
        input_id=input_id,
        label=label,
        reads=reads_shown(access_log, clinic_zone(request)),
        reads_page=access_log.get("page") or {},
    )
    response.status_code = status
    return response


def wants_api(request: Request) -> bool:
    """`/me` is also the JSON API's "who am I" (api.http.auth.me): a request with a bearer
    token, or with neither a session nor a wish for HTML, gets that answer instead."""
    if request.headers.get("authorization"):
        return True
    return session_token(request) is None and "text/html" not in request.headers.get("accept", "")


@router.get("/me", response_model=None)
async def me(
    request: Request,
    services: ServicesDep,
    done: str = "",
    recorded: str = "",
    before: str = "",
) -> Response:
    """The patient's own page (or, to an API client, who the token belongs to)."""
    if wants_api(request):
        api_user = await user_for_token(services, await oauth2_scheme(request))
        return JSONResponse(UserPublic.of(api_user).model_dump(mode="json"))
    user = await get_web_user(request, services)
    patient_id = own_patient(user)
    if patient_id is None:
        return forbidden(
            request, services, user, "This page is for patients, about their own care."
        )
    position = int(recorded) if recorded.isdigit() and int(recorded) > 0 else None
    try:
        return await my_page(
            request,
            services,
            user,
            patient_id,
            flash=FLASH.get(done),
            done=done,
            recorded_at=min(position, services.clinic.position()) if position else None,
            reads_before=reads_page_start(before),
        )
    except InvalidInput as exc:  # the page of the access log asked for
        response = render(
            request,
            services,
            "pt_forbidden.html",
            user,
            title="No such page",
            message=f"The page of who has seen your record asked for: {exc}",
        )
        response.status_code = 422
        return response
    except IndexBehind:
        # The entry is stored, but the record's index has not reached it: the page cannot
        # tell yet what it was, so it shows the crisis resources first to be safe.
        return await my_page(request, services, user, patient_id, done=done, assume_crisis=True)
    except AccessDenied:
        return forbidden(request, services, user, "Your record is not available to you here.")


def reads_page_start(before: str) -> int | None:
    """The access log's page a link asks for: None for the newest; what names no log
    position is 0, which the read refuses as it refuses any page out of bounds."""
    if before == "":
        return None
    return int(before) if before.isdigit() else 0


# --- the patient's own entries -------------------------------------------------------


@router.post("/me/forms/{action_name}", response_model=None)
async def submit(
    request: Request, action_name: str, user: WebUser, services: ServicesDep
) -> Response:
    """One of the patient's forms, run exactly as the patient page's: the request schema,
    the recording use case (the write policy and the record's author rules), the one error
    map. A refusal shows the page again (its status from the error map) with each reason
    beside its field and the typed values kept; nothing is recorded."""
    form = await request.form()
    csrf = form.get("csrf")
    check_csrf(services, request, csrf if isinstance(csrf, str) else None)
    patient_id = own_patient(user)
    if patient_id is None:
        return forbidden(request, services, user, "Only the patient records here.")
    action = PORTAL_ACTIONS.get(action_name)
    if action is None:
        response = forbidden(request, services, user, "This form does not exist.")
        response.status_code = 404
        return response
    values = form_values(form, action)
    try:
        command = build_command(action, user, unflatten(values), {})
        receipt = await record(services.writer, user, patient_id, command)
    except HANDLED as exc:
        problem = problem_for(exc)
        if problem.kind == "access_denied":
            return forbidden(request, services, user, "Your record is not available to you here.")
        state = state_for(action, problem)
        status = problem.status
    else:
        target = f"/me?done={action.name}&recorded={receipt.position}"
        return RedirectResponse(target, status_code=303)
    state.values = values
    return await my_page(request, services, user, patient_id, state=state, status=status)


# --- consents ------------------------------------------------------------------------


def _field(name: str) -> str:
    """A refused field's form name: `data_classes.0` is the data classes group."""
    head = name.split(".", maxsplit=1)[0]
    return head if head in FORM_FIELDS else ""


def _collect(errors: dict[str, str], general: list[str], field: str, reason: str) -> None:
    name = _field(field)
    if name:
        errors.setdefault(name, reason)
    else:
        general.append(reason)


def _end_date(text: str) -> datetime | None:
    """The last moment of the chosen day (UTC: the clinic keeps no time zone yet)."""
    text = text.strip()
    if not text:
        return None
    return datetime.combine(date.fromisoformat(text), time(23, 59, 59), tzinfo=UTC)


@router.post("/me/consents", response_class=HTMLResponse)
async def grant(request: Request, services: ServicesDep, user: WebUser) -> Response:
    form = await request.form()
    check_csrf(services, request, str(form.get("csrf") or ""))
    patient_id = own_patient(user)
    if patient_id is None:
        return forbidden(request, services, user, "Only the patient grants consents here.")
    until_text = str(form.get("valid_until") or "")
    entered: dict[str, Any] = {
        "recipient": str(form.get("recipient") or "").strip(),
        "data_classes": [str(c) for c in form.getlist("data_classes")],
        "purpose": str(form.get("purpose") or ""),
        "valid_until": until_text,
        "part2": form.get("part2") == "yes",
    }
    errors: dict[str, str] = {}
    general: list[str] = []
    until: datetime | None = None
    try:
        until = _end_date(until_text)
    except ValueError:
        errors["valid_until"] = "is not a date (year-month-day)"
    if not entered["data_classes"]:
        errors["data_classes"] = "choose at least one kind of information to share"
    status = 422
    if not errors:
        try:
            body = ConsentCreate.model_validate(
                {key: entered[key] for key in ("recipient", "data_classes", "purpose", "part2")}
                | {"valid_until": until}
            )
            receipt = await services.consents.grant(user, patient_id, body)
        except HANDLED as exc:
            problem = problem_for(exc)
            if problem.kind == "access_denied":
                return forbidden(
                    request, services, user, "Your record is not available to you here."
                )
            status = problem.status
            for field in problem.fields:
                _collect(errors, general, field.field, field.reason)
            if not problem.fields:
                general.append(problem.message)
        else:
            await services.visible(receipt.position)
            return RedirectResponse("/me?done=granted", status_code=303)
    return await my_page(
        request,
        services,
        user,
        patient_id,
        form=entered,
        errors=errors,
        general_errors=general,
        status=status,
    )


@router.post("/me/consents/{consent_id}/revoke", response_class=HTMLResponse)
async def revoke(
    request: Request, services: ServicesDep, user: WebUser, consent_id: UUID
) -> Response:
    form = await request.form()
    check_csrf(services, request, str(form.get("csrf") or ""))
    patient_id = own_patient(user)
    if patient_id is None:
        return forbidden(request, services, user, "Only the patient revokes consents here.")
    reason = str(form.get("reason") or "").strip() or DEFAULT_REVOCATION
    try:
        body = ConsentRevocation(reason=reason)
        receipt = await services.consents.revoke(user, patient_id, consent_id, body)
    except HANDLED as exc:
        problem = problem_for(exc)
        if problem.kind == "access_denied":
            return forbidden(request, services, user, "Your record is not available to you here.")
        words = "; ".join(f.reason for f in problem.fields) or problem.message
    else:
        await services.visible(receipt.position)
        return RedirectResponse("/me?done=revoked", status_code=303)
    return await my_page(
        request,
        services,
        user,
        patient_id,
        revoke_errors={str(consent_id): words},
        status=problem.status,
    )


# --- the progress report -------------------------------------------------------------


@router.get("/patients/{patient_id}/report.pdf", response_model=None)
async def progress_report(
    request: Request, patient_id: UUID, services: ServicesDep, user: WebUser
) -> Response:
    """The PDF for the patient's own record or a treating clinician's patient; two audited
    reads (view, outcomes), each recorded like the API's."""
    try:
        view = await audited_read(services, user, patient_id, "view", REPORT_BASES)
        outcomes = await audited_read(services, user, patient_id, SCORED_OUTCOMES, REPORT_BASES)
    except AccessDenied:
        return forbidden(request, services, user, "This report is not available to you.")
    pdf = await run_in_threadpool(report.progress_report, view, outcomes, now().date())
    mrn = str((view.get("patient") or {}).get("mrn") or patient_id)
    filename = f"progress-report-{mrn}-{now().date().isoformat()}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
