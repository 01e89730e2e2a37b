"""Clinician pages: the caseload, the patient page with its forms, and break-the-glass.

Nothing here decides access or validates on its own terms:

- every patient datum shown comes from an audited read (`api.routers.views.audited`: the
  access policy decides, the answer is recorded before it is used), and the page shows a
  section only when the answer holds it;
- the caseload is the coordination board itself (`api.routers.board.board`);
- every form is parsed with the API's own request schema (`api.routers.clinical.ROUTES`
  names the schema and the record command of each route) and run with
  `api.deps.run_command`, so the same policy and the same domain rules apply; a refused
  form is shown again with each reason beside its field, and nothing is recorded.

`GET /patients/{id}` and `POST /patients/{id}/break-glass` share their paths with API
routes. The pages are mounted first, so their routes (`PageRoute`) step aside for any
request that is not a browser's: one carrying a bearer token, or one with neither the
session cookie nor an HTML `Accept` (or form body) goes on to the API.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, get_args
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.routing import Match
from starlette.types import Scope

from adapters.reading import IndexBehind, ReadRequest
from api.deps import ServicesDep, run_command, viewer_of
from api.routers import board as board_router
from api.routers.clinical import ROUTES, Route
from api.routers.views import BreakGlassRequest, audited
from api.web import charts
from api.web.pages import render
from api.web.session import COOKIE, WebUser, check_csrf
from domain.consent import Purpose
from domain.errors import (
    AccessDenied,
    Conflict,
    FieldError,
    InvalidInput,
    NotOnCareTeam,
    NotPermittedAuthor,
    RuleViolation,
    TandemError,
)
from domain.events import now
from domain.instruments import INSTRUMENTS, InstrumentCode
from domain.labs import LabResulted
from domain.measures import QuestionnaireAnswered
from domain.medication import DoseChanged
from domain.messaging import MessageAcknowledged, MessageSent
from domain.patient import PatientRecord
from domain.record import RecordEvent
from domain.rules.care import DueKind
from domain.safety import LapseReported
from domain.therapy import ProgressNoteWritten, SessionAttended
from domain.users import User
from domain.vocabulary import CLINICIAN_ROLES, DoseUnit, LabUnit, Modality, Role

# --- routing: pages step aside for API clients ------------------------------------------


def is_browser(scope: Scope) -> bool:
    """A browser's request: no bearer token, and the session cookie, an HTML `Accept` or a
    form body. Anything else is an API client's and goes on to the API's routes."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    if "authorization" in headers:
        return False
    cookies = headers.get("cookie", "")
    content_type = headers.get("content-type", "")
    return (
        f"{COOKIE}=" in cookies
        or "text/html" in headers.get("accept", "")
        or content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))
    )


class PageRoute(APIRoute):
    """A page route that never answers an API client (see the module docstring)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and not is_browser(scope):
            return Match.NONE, {}
        return super().matches(scope)


router = APIRouter(include_in_schema=False, route_class=PageRoute)

# --- reads --------------------------------------------------------------------------------

# A reader acting for a consent's purpose reads for that purpose unless they choose another.
DEFAULT_PURPOSE = {
    Role.EMPLOYER: Purpose.RETURN_TO_WORK,
    Role.SCHOOL_COUNSELOR: Purpose.EDUCATION_SUPPORT,
    Role.SUPPORTER: Purpose.FAMILY_SUPPORT,
}
OUTCOME_CLASSES = frozenset({"measure", "functional", "sud"})
MEDICATION_CLASSES = frozenset({"medication", "sud"})
CASELOAD_ROLES = frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.PRIMARY_CARE})


async def read(services: Any, user: User, request: ReadRequest) -> dict[str, Any]:
    """One audited read, exactly as the API's: decided, recorded, then used."""
    response = await audited(services, user, request)
    body: dict[str, Any] = json.loads(bytes(response.body))
    return body


def purpose_for(user: User, given: str | None) -> Purpose:
    try:
        return Purpose(given) if given else DEFAULT_PURPOSE.get(user.role, Purpose.TREATMENT)
    except ValueError:
        return DEFAULT_PURPOSE.get(user.role, Purpose.TREATMENT)


def position_for(services: Any, given: str | None) -> int | None:
    """`?min_position=` as a page takes it: a whole number, at most the log's head."""
    if not given or not given.isdigit() or int(given) < 1:
        return None
    return min(int(given), services.clinic.position()) or None


def parse_id(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


# --- forms ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """A form on the patient page: its inputs, the API routes (schema + command) it runs,
    the events it records (whose authors may use it) and what the page says on success."""

    name: str
    title: str
    inputs: tuple[str, ...]
    commands: tuple[str, ...]
    records: tuple[type[RecordEvent], ...]
    done: str
    anchor: str = "actions"


def _route(command: str) -> Route:
    return next(r for r in ROUTES if r.command == command)


PHQ9_ITEMS = (
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself, or that you are a failure",
    "Trouble concentrating on things",
    "Moving or speaking slowly, or being fidgety or restless",
    "Thoughts that you would be better off dead, or of hurting yourself",
    "How difficult have these problems made things (not scored)",
)
GAD7_ITEMS = (
    "Feeling nervous, anxious, or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid, as if something awful might happen",
)
FORM_INSTRUMENTS = {InstrumentCode.PHQ9: PHQ9_ITEMS, InstrumentCode.GAD7: GAD7_ITEMS}


def _answer_inputs(code: InstrumentCode) -> tuple[str, ...]:
    return tuple(f"answers.{item.key}" for item in INSTRUMENTS[code].items)


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action(
            "attended",
            "Session attended, with progress note",
            ("session_id", "text", "modality", "clinical_time"),
            ("record_attendance", "write_progress_note"),
            (SessionAttended, ProgressNoteWritten),
            "Attendance and progress note recorded.",
        ),
        Action(
            "dose",
            "Change a dose",
            (
                "medication_id",
                "dose.amount",
                "dose.unit",
                "reason",
                "override_reason",
                "clinical_time",
            ),
            ("change_dose",),
            (DoseChanged,),
            "Dose change recorded.",
        ),
        *(
            Action(
                code.value,
                f"{charts.instrument_label(code.value)} answers",
                (*_answer_inputs(code), "clinical_time"),
                ("answer_questionnaire",),
                (QuestionnaireAnswered,),
                f"{charts.instrument_label(code.value)} recorded.",
            )
            for code in FORM_INSTRUMENTS
        ),
        Action(
            "lab",
            "Lab result for an open order",
            (
                "order_id",
                "value",
                "value_text",
                "unit",
                "reference_low",
                "reference_high",
                "final",
                "comment",
                "clinical_time",
            ),
            ("record_lab_result",),
            (LabResulted,),
            "Lab result recorded.",
        ),
        Action(
            "lapse",
            "Report a lapse",
            ("substance", "occurred_on", "circumstances", "clinical_time"),
            ("report_lapse",),
            (LapseReported,),
            "Lapse recorded; contact, assessment and plan review are now on the board.",
        ),
        Action(
            "message",
            "Message the team",
            ("to", "subject", "body", "regarding"),
            ("send_message",),
            (MessageSent,),
            "Message sent.",
        ),
        Action(
            "acknowledge",
            "Acknowledge a message",
            ("message_id",),
            ("acknowledge_message",),
            (MessageAcknowledged,),
            "Message acknowledged.",
            anchor="messages",
        ),
    )
}
# Where a refusal about a field the form does not show belongs.
ALIASES = {"loinc": "order_id", "test_name": "order_id", "instrument": None}


@dataclass
class FormState:
    """A submitted form, shown again: what was typed, and each refusal by input."""

    form: str
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def value(self, form: str, name: str) -> Any:
        return self.values.get(name, "") if form == self.form else ""

    def error(self, form: str, name: str) -> list[str]:
        return self.errors.get(name, []) if form == self.form else []

    def summary(self) -> list[tuple[str | None, str]]:
        """(input name or None, message) for the page's error summary."""
        found: list[tuple[str | None, str]] = [
            (name, f"{label(name)}: {reason}")
            for name, reasons in self.errors.items()
            for reason in reasons
        ]
        return found + [(None, reason) for reason in self.general]


def label(name: str) -> str:
    if name.startswith("answers."):
        return f"Item {name.removeprefix('answers.')}"
    return name.replace("_", " ").replace(".", " ").capitalize()


def input_id(form: str, name: str) -> str:
    return f"{form}-{name}".replace(".", "-").replace("_", "-")


def place_errors(action: Action, form: str, problems: Iterable[FieldError]) -> FormState:
    """Put each refusal beside the input it is about: the input of that name, the input a
    dotted field lies under ("to.0" -> "to"), the first input under a named group ("dose"
    -> "dose.amount"); otherwise above the form."""
    state = FormState(form)
    for problem in problems:
        name: str | None = ALIASES.get(problem.field, problem.field)
        if name is not None and name not in action.inputs:
            name = next(
                (
                    i
                    for i in sorted(action.inputs, key=len, reverse=True)
                    if name.startswith(i + ".")
                ),
                None,
            ) or next((i for i in action.inputs if i.startswith(f"{name}.")), None)
        if name is None:
            state.general.append(f"{label(problem.field)}: {problem.reason}")
        else:
            state.errors.setdefault(name, []).append(problem.reason)
    return state


def unflatten(values: Mapping[str, Any]) -> dict[str, Any]:
    """Form fields to the API's JSON shape: "dose.amount" -> {"dose": {"amount": ...}}.
    A blank field is left out, as a JSON client would leave it out."""
    data: dict[str, Any] = {}
    for key, value in values.items():
        if value in ("", []):
            continue
        node = data
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return data


def item_id(data: dict[str, Any], name: str) -> UUID:
    """The id a route takes from its path (the medication, order, message...)."""
    raw = data.pop(name, None)
    if raw is None:
        raise InvalidInput.single(name, "is required")
    found = parse_id(str(raw))
    if found is None:
        raise InvalidInput.single(name, "is not one of the choices offered")
    return found


Command = Callable[[PatientRecord], None]


def bind(user: User, command: str, data: Mapping[str, Any], item: UUID | None) -> Command:
    """Validate `data` with the API route's schema and bind the record command, exactly as
    the API route does (`api.routers.clinical`)."""
    route = _route(command)
    body = route.body.model_validate(dict(data))
    fields = body.fields()
    if route.item is not None:
        fields[route.item] = item
    at = body.at()

    def run(record: PatientRecord) -> None:
        getattr(record, route.command)(user.actor, at, **fields)

    return run


def build_command(
    action: Action, user: User, data: dict[str, Any], orders: Mapping[str, dict[str, Any]]
) -> Command:
    """The command a submitted form runs. Every schema is tried before anything is refused,
    so that the person sees every problem at once."""
    problems: list[FieldError] = []
    commands: list[Command] = []

    def attempt(command: str, part: Mapping[str, Any], item: UUID | None = None) -> None:
        try:
            commands.append(bind(user, command, part, item))
        except ValidationError as exc:
            problems.extend(InvalidInput.from_validation_error(exc).errors)
        except InvalidInput as exc:
            problems.extend(exc.errors)

    when = {"clinical_time": data["clinical_time"]} if "clinical_time" in data else {}
    item: UUID | None = None
    route = _route(action.commands[0])
    if route.item is not None:
        try:
            item = item_id(data, route.item)
        except InvalidInput as exc:
            problems.extend(exc.errors)
    if action.name == "attended":
        note = {k: v for k, v in data.items() if k in ("text", "modality")}
        attempt("record_attendance", when, item)
        attempt("write_progress_note", {**when, **note, "session_id": str(item) if item else None})
    elif action.name == "lab":
        # The order's code and name as the record holds them, not as a form could claim.
        order = orders.get(str(item)) if item is not None else None
        if item is not None and order is None:
            problems.append(FieldError("order_id", "is not one of this record's lab orders"))
        given = {**data, **{k: (order or {}).get(k) for k in ("loinc", "test_name")}}
        attempt("record_lab_result", given, item)
        if order is None:  # already said: the order is missing or unknown
            problems = [p for p in problems if p.field not in ("loinc", "test_name")]
    elif action.name == "message" and isinstance(data.get("regarding"), str):
        regarding = data["regarding"].replace(",", " ").split()
        attempt("send_message", {**data, "regarding": regarding})
    elif action.name in (c.value for c in FORM_INSTRUMENTS):
        attempt("answer_questionnaire", {**data, "instrument": action.name})
    else:
        attempt(action.commands[0], data, item)
    if problems:
        raise InvalidInput(problems)

    def run_all(record: PatientRecord) -> None:
        for command in commands:
            command(record)

    return run_all


def form_values(form: Any, action: Action) -> dict[str, Any]:
    """The submitted inputs this form has (strings; lists for multiple choices)."""
    values: dict[str, Any] = {}
    for name in action.inputs:
        if name == "to":
            values[name] = [v for v in form.getlist(name) if isinstance(v, str)]
        elif isinstance(form.get(name), str):
            values[name] = form.get(name).strip()
    return values


# --- what the events read offers the forms --------------------------------------------------


def open_sessions(entries: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    sessions: dict[str, dict[str, Any]] = {}
    for e in entries:
        p = e.get("payload") or {}
        if e["kind"] == "SessionScheduled":
            sessions[p["session_id"]] = {
                "session_id": p["session_id"],
                "starts_at": p["starts_at"],
                "modality": p.get("modality"),
                "mode": p.get("mode"),
            }
        elif e["kind"] in ("SessionAttended", "SessionMissed", "SessionCancelled"):
            sessions.pop(str(p.get("session_id")), None)
    return sorted(sessions.values(), key=lambda s: str(s["starts_at"]))


def lab_orders(entries: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every lab order the reader may see, each with whether a final result closed it."""
    orders: dict[str, dict[str, Any]] = {}
    for e in entries:
        p = e.get("payload") or {}
        if e["kind"] == "LabOrdered":
            orders[p["order_id"]] = {
                "order_id": p["order_id"],
                "loinc": p["loinc"],
                "test_name": p["test_name"],
                "due_by": p.get("due_by"),
                "open": True,
            }
        elif e["kind"] == "LabResulted" and p.get("order_id") in orders and p.get("final", True):
            orders[p["order_id"]]["open"] = False
    return orders


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
        purposes=list(Purpose),
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
) -> HTMLResponse:
    """Read the patient through the policy (each read recorded) and show what came back."""
    viewer = viewer_of(user)

    async def section(kind: str) -> dict[str, Any] | None:
        try:
            return await read(
                services, user, ReadRequest(viewer, patient_id, kind, purpose, None, min_position)
            )
        except AccessDenied:  # a consent ended between two reads: show less, never more
            return None

    try:
        view = await read(
            services,
            user,
            ReadRequest(viewer, patient_id, "view", purpose, emergency_reason, min_position),
        )
    except AccessDenied:
        return denied_page(request, services, user, str(patient_id), purpose)
    except IndexBehind:
        return problem_page(
            request,
            services,
            user,
            503,
            "Not ready yet",
            "The record is still catching up with your last change. Reload in a moment.",
        )
    classes = set(view.get("classes") or [])
    emergency = view["basis"] == "break-the-glass"
    treating = view["basis"] == "treating-team"
    care = outcomes = medications = events = None
    if not emergency:
        if treating:  # due items and alerts are the treating team's work (`for_roles`)
            care = await section("care")
        if classes & OUTCOME_CLASSES:
            outcomes = await section("outcomes")
        if classes & MEDICATION_CLASSES:
            medications = await section("medications")
        if treating:
            events = await section("events")
    entries = (events or {}).get("entries") or []
    orders = lab_orders(entries)
    current = now()
    series = (outcomes or {}).get("series") or {}
    timeline = (medications or {}).get("medication_timeline") or []
    instrument_charts = [
        {
            "code": code,
            "label": charts.instrument_label(code),
            "summary": summary,
            "svg": charts.instrument_chart(code, points, f"chart-{charts.slug(code)}")
            if any(p.get("total") is not None for p in points)
            else None,
        }
        for code, summary in series.items()
        for points in [summary.get("points") or []]
    ]
    dose_charts = [
        {
            "medication": med,
            "svg": charts.dose_chart(med, current, f"doses-{index}"),
            "changes": [
                {**d, "label": charts.dose_label(d.get("dose"))} for d in med.get("doses") or []
            ],
        }
        for index, med in enumerate(timeline)
    ]
    forms = {}
    if treating:
        forms = {
            name: action
            for name, action in ACTIONS.items()
            if name != "acknowledge" and may_record(user, action.records)
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
        purposes=list(Purpose),
        instrument_charts=instrument_charts,
        dose_charts=dose_charts,
        forms=forms,
        may_acknowledge=treating and may_record(user, [MessageAcknowledged]),
        options=form_options(view, entries, orders),
        recipients=[m for m in view.get("team") or [] if m["user_id"] != user.email],
        instruments={code.value: items for code, items in FORM_INSTRUMENTS.items()},
        state=state,
        input_id=input_id,
        label=label,
        at=format_time,
        dose_label=charts.dose_label,
    )


def form_options(
    view: Mapping[str, Any],
    entries: Iterable[Mapping[str, Any]],
    orders: Mapping[str, Mapping[str, Any]],
) -> dict[str, list[tuple[str, str]]]:
    """The choices the forms offer, as (value, label) pairs, all from the audited reads."""
    return {
        "sessions": [
            (
                s["session_id"],
                f"{format_time(s['starts_at'])}, {s.get('modality') or ''} ({s.get('mode') or ''})",
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
                o["order_id"],
                f"{o['test_name']} (LOINC {o['loinc']})"
                + (f", due by {o['due_by']}" if o.get("due_by") else ""),
            )
            for o in orders.values()
            if o["open"]
        ],
        "modalities": [(m.value, m.value) for m in Modality],
        "dose_units": [(u.value, u.value) for u in DoseUnit],
        "lab_units": [(u.value, u.value) for u in LabUnit],
    }


def format_time(iso: str | None) -> str:
    moment = charts.when(iso)
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else (iso or "")


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
async def patient(
    request: Request,
    patient_id: str,
    user: WebUser,
    services: ServicesDep,
    purpose: str | None = None,
    min_position: str | None = None,
    done: str | None = None,
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
        flash=action.done if action else None,
    )


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
        return denied_page(request, services, user, patient_id, Purpose.TREATMENT)
    if action is None:
        return problem_page(
            request, services, user, 404, "No such form", "This form does not exist."
        )
    values = form_values(form, action)
    data = unflatten(values)
    status = 422
    try:
        orders: dict[str, dict[str, Any]] = {}
        if action.name == "lab":  # the order's LOINC and name, as the record holds them
            events = await read(
                services, user, ReadRequest(viewer_of(user), found, "events", Purpose.TREATMENT)
            )
            orders = lab_orders(events.get("entries") or [])
        command = build_command(action, user, data, orders)
        receipt = await run_command(services, user, found, command)
    except InvalidInput as exc:
        state = place_errors(action, action.name, exc.errors)
    except (NotOnCareTeam, NotPermittedAuthor) as exc:  # the role may not record this
        status = 403
        state = FormState(action.name, general=[f"Not permitted: {exc}"])
    except AccessDenied:
        status = 403
        state = FormState(action.name, general=["You may not record on this patient's record."])
    except Conflict:
        status = 409
        state = FormState(
            action.name,
            general=[
                "Someone else changed this record at the same moment. Check it and try again."
            ],
        )
    except RuleViolation as exc:
        state = place_errors(action, action.name, [FieldError(exc.field or "(record)", str(exc))])
    except TandemError as exc:
        state = FormState(action.name, general=[str(exc)])
    else:
        target = (
            f"/patients/{found}?min_position={receipt.position}&done={action.name}#{action.anchor}"
        )
        return RedirectResponse(target, status_code=303)
    state.values = values
    return await patient_page(
        request, services, user, found, Purpose.TREATMENT, state=state, status=status
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


# --- the caseload ---------------------------------------------------------------------------

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
            at=format_time,
        )
    found = await board_router.board(
        user,
        services,
        scope=filters["scope"],  # type: ignore[arg-type]
        status=filters["status"] or None,  # type: ignore[arg-type]
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
        at=format_time,
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
