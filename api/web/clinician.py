"""The patient page for clinicians and outside readers, its forms, and break-the-glass.

Nothing here decides access or validates on its own terms:

- every patient datum shown comes from the one audited read (`services.reads.read`: the
  access policy decides, the answer is recorded before it is used), and the page shows a
  section only when the answer holds it;
- every form is parsed with the use case's own request schema and run with the recording
  use case (api/web/forms.py), so the same policy and the same domain rules apply; a refused
  form is shown again with each reason beside its field, and nothing is recorded;
- every error is answered through the one error map (`api.errors.problem_for`).

`GET /patients/{id}` and `POST /patients/{id}/break-glass` share their paths with API
routes (api/web/routing.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import tzinfo
from typing import Any, get_args
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.deps import ServicesDep, viewer_of
from api.errors import HANDLED, problem_for
from api.web import charts, clinic_zone, local_time
from api.web.forms import (
    ACTIONS,
    AMENDABLE_FIELDS,
    FORM_INSTRUMENTS,
    TAPER_STEPS,
    FormState,
    build_command,
    correctable,
    form_values,
    input_id,
    lab_orders,
    label,
    open_sessions,
    parse_id,
    state_for,
    unflatten,
)
from api.web.pages import render
from api.web.routing import PageRoute
from api.web.session import WebUser, check_csrf
from application.errors import IndexBehind
from application.reading import PATIENT_PAGE, Page, ReadRequest, default_purpose
from application.recording import record
from application.schemas.clinical import (
    MedicationCreate,
    RiskAssessmentCreate,
    SupporterObservationCreate,
)
from application.schemas.reads import BreakGlassRequest
from application.services import Services
from domain.consent import CONSENT_PURPOSES, Purpose
from domain.errors import (
    AccessDenied,
    InvalidInput,
)
from domain.history import LabOrder
from domain.history.messages import threads
from domain.lab_units import LEGACY_SPELLINGS
from domain.measures import Cue
from domain.messaging import MessageAcknowledged, MessageSent
from domain.record import RecordEvent
from domain.rules.safety import answered_by
from domain.safety import RiskAssessed
from domain.users import User
from domain.vocabulary import (
    CLINICIAN_ROLES,
    DataClass,
    DoseUnit,
    Frequency,
    LabUnit,
    Modality,
    RiskLevel,
    Role,
    SessionKind,
    SessionMode,
)
from projections.role_views import facts_of_entries

router = APIRouter(include_in_schema=False, route_class=PageRoute)

# The choices of the medication and risk forms: the request schemas' own literals.
ROUTES = get_args(MedicationCreate.model_fields["route"].annotation)
RISK_METHODS = get_args(RiskAssessmentCreate.model_fields["method"].annotation)
RISK_ANSWERS = answered_by(RiskAssessed)
CHANGES = get_args(SupporterObservationCreate.model_fields["change"].annotation)

# --- reads --------------------------------------------------------------------------------

CASELOAD_ROLES = frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.PRIMARY_CARE})


async def read(services: Services, user: User, request: ReadRequest) -> dict[str, Any]:
    """The one audited read: decided, recorded, then used."""
    return (await services.reads.read(request, user.actor)).json()


# The purposes a reader here may choose (right-of-access is the patient's own copy only).
READ_PURPOSES = [p for p in Purpose if p in CONSENT_PURPOSES]


def purpose_for(user: User, given: str | None) -> Purpose:
    try:
        chosen = Purpose(given) if given else default_purpose(user.role)
    except ValueError:
        return default_purpose(user.role)
    return chosen if chosen in CONSENT_PURPOSES else default_purpose(user.role)


def position_for(services: Any, given: str | None) -> int | None:
    """`?min_position=` as a page takes it: a whole number, at most the log's head."""
    if not given or not given.isdigit() or int(given) < 1:
        return None
    return min(int(given), services.clinic.position()) or None


# --- the pages ------------------------------------------------------------------------------


def page(
    request: Request, services: Any, name: str, user: User | None, status: int = 200, **context: Any
) -> HTMLResponse:
    response = render(request, services, name, user, **context)
    response.status_code = status
    return response


def denied_page(
    request: Request,
    services: Any,
    user: User,
    patient_id: str,
    purpose: Purpose,
    status: int = 403,
    reason: str = "",
    problem: str | None = None,
) -> HTMLResponse:
    """The same page whether the patient does not exist or is not the reader's to see."""
    return page(
        request,
        services,
        "clin_denied.html",
        user,
        status,
        patient_id=patient_id,
        may_break_glass=user.role in CLINICIAN_ROLES,
        purposes=READ_PURPOSES,
        purpose=purpose.value,
        reason=reason,
        problem=problem,
    )


def problem_page(
    request: Request, services: Any, user: User, status: int, title: str, message: str
) -> HTMLResponse:
    return page(request, services, "clin_problem.html", user, status, title=title, message=message)


def may_record(user: User, events: Iterable[type[RecordEvent]]) -> bool:
    return all(user.role in e.authors for e in events)


async def patient_page(
    request: Request,
    services: Any,
    user: User,
    patient_id: UUID,
    purpose: Purpose,
    min_position: int | None = None,
    *,
    emergency_reason: str | None = None,
    state: FormState | None = None,
    status: int = 200,
    flash: str | None = None,
    before: int | None = None,
) -> HTMLResponse:
    """Read the patient through the policy in one read, recorded once, and show what came
    back: the view with one page of its timeline, newest first (the entries before log
    position `before`, or the newest), and the sections its basis and classes call for."""
    viewer = viewer_of(user)
    try:
        answer = await read(
            services,
            user,
            ReadRequest(
                viewer,
                patient_id,
                PATIENT_PAGE,
                purpose,
                emergency_reason,
                min_position,
                page=Page(before),
            ),
        )
    except AccessDenied:
        return denied_page(request, services, user, str(patient_id), purpose)
    except InvalidInput as exc:  # the timeline page asked for
        return problem_page(
            request, services, user, 422, "No such page", f"The timeline page asked for: {exc}"
        )
    except IndexBehind:
        return problem_page(
            request,
            services,
            user,
            503,
            "Not ready yet",
            "The record is still catching up with your last change. Reload in a moment.",
        )
    shown = answer["sections"]
    view = shown["view"]
    care, outcomes = shown.get("care"), shown.get("outcomes")
    medications, events = shown.get("medications"), shown.get("events")
    emergency = view["basis"] == "break-the-glass"
    treating = view["basis"] == "treating-team"
    entries = (events or {}).get("entries") or []
    orders = lab_orders(entries)
    instrument_charts, dose_charts = charts.patient_charts(outcomes, medications)
    forms = {}
    if user.role == Role.SUPPORTER and view["basis"] == "consent":
        # What a supporter the team added may record (the write policy checks the team).
        forms = {"observe": ACTIONS["observe"]}
    if treating:
        forms = {
            name: action
            for name, action in ACTIONS.items()
            if name not in ("acknowledge", "reply") and may_record(user, action.records)
        }
    state = state or FormState("")
    return page(
        request,
        services,
        "patient.html",
        user,
        status,
        flash=flash,
        patient_id=str(patient_id),
        view=view,
        care=care,
        outcomes=outcomes,
        medications=medications,
        emergency=emergency,
        emergency_reason=emergency_reason,
        treating=treating,
        purpose=purpose.value,
        purposes=READ_PURPOSES,
        instrument_charts=instrument_charts,
        dose_charts=dose_charts,
        forms=forms,
        taper_steps=TAPER_STEPS,
        may_acknowledge=treating and may_record(user, [MessageAcknowledged]),
        may_reply=treating and may_record(user, [MessageSent]),
        threads=threads(facts_of_entries(entries)) if events is not None else [],
        full_texts=full_texts(entries),
        options=form_options(view, entries, orders, clinic_zone(request)),
        recipients=[m for m in view.get("team") or [] if m["user_id"] != user.email],
        instruments={code.value: items for code, items in FORM_INSTRUMENTS.items()},
        risk_alerts=[
            a for a in (care or {}).get("alerts") or [] if a["rule"]["id"] in RISK_ANSWERS
        ],
        state=state,
        input_id=input_id,
        label=label,
        dose_label=charts.dose_label,
    )


# The free-text fields a timeline entry's summary cuts short (a note's first 80 characters).
FULL_TEXT_FIELDS = ("text", "body", "plan", "assessment", "circumstances")


def full_texts(entries: Iterable[Mapping[str, Any]]) -> dict[int, list[tuple[str, str]]]:
    """By record version, the whole free text of each entry the events read holds (the
    treating team's), for the timeline to open what its summary cut short."""
    found: dict[int, list[tuple[str, str]]] = {}
    for e in entries:
        if e.get("data_class") == DataClass.PSYCHOTHERAPY_NOTE.value:
            continue  # kept apart: the page never opens one, even for its author
        payload = e.get("payload") or {}
        texts = [(k, str(payload[k])) for k in FULL_TEXT_FIELDS if payload.get(k)]
        if texts and any(text not in str(e.get("summary", "")) for _, text in texts):
            found[int(e["version"])] = texts
    return found


def form_options(
    view: Mapping[str, Any],
    entries: Iterable[Mapping[str, Any]],
    orders: Mapping[str, LabOrder],
    zone: tzinfo | None = None,
) -> dict[str, list[tuple[str, str]]]:
    """The choices the forms offer, as (value, label) pairs, all from the audited reads;
    times in the clinic's `zone`."""
    return {
        "sessions": [
            (
                s.session_id,
                f"{local_time(s.starts_at, zone)}, {s.modality or ''} ({s.mode or ''})",
            )
            for s in open_sessions(entries)
        ],
        "medications": [
            (m["medication_id"], f"{m['drug']}, now {charts.dose_label(m.get('dose'))}")
            for m in view.get("medications") or []
            if m.get("status") != "stopped"
        ],
        "orders": [
            (
                o.order_id,
                f"{o.test_name} (LOINC {o.loinc})" + (f", due by {o.due_by}" if o.due_by else ""),
            )
            for o in orders.values()
            if o.open
        ],
        "entries": [
            (
                str(e["version"]),
                f"#{e['version']} {local_time(e['clinical_time'], zone)}: {e['summary']}",
            )
            for e in correctable(entries)
        ],
        "amendable_fields": [(f, label(f)) for f in AMENDABLE_FIELDS],
        "modalities": [(m.value, m.value) for m in Modality],
        "modes": [(m.value, m.value) for m in SessionMode],
        "kinds": [(k.value, k.value) for k in SessionKind],
        "series": [("week", "Weekly"), ("twice-weekly", "Twice a week (every 3-4 days)")],
        "frequencies": [(f.value, f.value) for f in Frequency],
        "routes": [(r, r) for r in ROUTES],
        "risk_levels": [(r.value, r.value) for r in RiskLevel],
        "risk_methods": [(m, m) for m in RISK_METHODS],
        "cues": [(c, c.replace("-", " ")) for c in get_args(Cue)],
        "changes": [(c, c.replace("-", " ")) for c in CHANGES],
        "dose_units": [(u.value, u.value) for u in DoseUnit],
        "lab_units": [(u.value, u.value) for u in LabUnit if u.value not in LEGACY_SPELLINGS],
    }


# What the patient page says on landing from another page's form: registration opens it.
LANDED = {"register": "Patient registered; you are on the care team."}


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
async def patient(
    request: Request,
    patient_id: str,
    user: WebUser,
    services: ServicesDep,
    purpose: str | None = None,
    min_position: str | None = None,
    done: str | None = None,
    before: str | None = None,
) -> HTMLResponse:
    chosen = purpose_for(user, purpose)
    found = parse_id(patient_id)
    if found is None:
        return denied_page(request, services, user, patient_id, chosen)
    action = ACTIONS.get(done or "")
    return await patient_page(
        request,
        services,
        user,
        found,
        chosen,
        position_for(services, min_position),
        flash=action.done if action else LANDED.get(done or ""),
        before=page_start(before),
    )


def page_start(before: str | None) -> int | None:
    """The timeline page a link asks for: None for the newest; what names no log position
    is 0, which the read refuses as it refuses any page out of bounds."""
    if before is None or before == "":
        return None
    return int(before) if before.isdigit() else 0


@router.post("/patients/{patient_id}/forms/{action_name}", response_model=None)
async def submit(
    request: Request, patient_id: str, action_name: str, user: WebUser, services: ServicesDep
) -> Response:
    form = await request.form()
    csrf = form.get("csrf")
    check_csrf(services, request, csrf if isinstance(csrf, str) else None)
    found = parse_id(patient_id)
    action = ACTIONS.get(action_name)
    if found is None:
        return denied_page(request, services, user, patient_id, purpose_for(user, None))
    if action is None:
        return problem_page(
            request, services, user, 404, "No such form", "This form does not exist."
        )
    values = form_values(form, action)
    data = unflatten(values)
    try:
        orders: dict[str, LabOrder] = {}
        if action.name == "lab":  # the order's LOINC and name, as the record holds them
            events = await read(
                services, user, ReadRequest(viewer_of(user), found, "events", Purpose.TREATMENT)
            )
            orders = lab_orders(events.get("entries") or [])
        command = build_command(action, user, data, orders, clinic_zone(request))
        receipt = await record(services.writer, user, found, command)
    except HANDLED as exc:
        problem = problem_for(exc)
        state = state_for(action, problem)
        status = problem.status
    else:
        target = (
            f"/patients/{found}?min_position={receipt.position}&done={action.name}#{action.anchor}"
        )
        return RedirectResponse(target, status_code=303)
    state.values = values
    return await patient_page(
        request, services, user, found, purpose_for(user, None), state=state, status=status
    )


@router.post("/patients/{patient_id}/break-glass", response_model=None)
async def break_glass(
    request: Request, patient_id: str, user: WebUser, services: ServicesDep
) -> Response:
    """The emergency read (42 CFR 2.51), from the refusal page: recorded with its reason at
    once and queued for compliance review, exactly as `POST /patients/{id}/break-glass`."""
    form = await request.form()
    csrf = form.get("csrf")
    check_csrf(services, request, csrf if isinstance(csrf, str) else None)
    raw = form.get("reason")
    reason = raw.strip() if isinstance(raw, str) else ""
    found = parse_id(patient_id)
    if found is None:
        return denied_page(request, services, user, patient_id, Purpose.TREATMENT)
    try:
        checked = BreakGlassRequest.model_validate({"reason": reason})
        return await patient_page(
            request, services, user, found, Purpose.TREATMENT, emergency_reason=checked.reason
        )
    except (ValidationError, InvalidInput) as exc:
        problems = (
            InvalidInput.from_validation_error(exc).errors
            if isinstance(exc, ValidationError)
            else exc.errors
        )
        message = "; ".join(p.reason for p in problems) or "is required"
        return denied_page(
            request, services, user, patient_id, Purpose.TREATMENT, 422, reason, message
        )
