"""The patients list (mine, or those a search finds) and patient registration.

`GET /patients` shares its path with the API's search (api/web/routing.py): a browser
gets this page. Every patient shown is an audited read of their identity view (the
search and list use cases); registration runs the registration use case with the API's
own request schema, so the same rules refuse the same things, each beside its field.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.deps import ServicesDep
from api.errors import HANDLED, problem_for
from api.web.clinician import LANDED
from api.web.clinician import page as render_page
from api.web.forms import Action, FormState, input_id, place_errors, state_for, unflatten
from api.web.routing import PageRoute
from api.web.session import WebUser, check_csrf
from application.recording import register
from application.schemas.patients import PatientCreate
from application.search import my_patients, search_patients
from domain.errors import FieldError, InvalidInput
from domain.patient import PatientRecord
from domain.registration import PatientRegistered
from domain.vocabulary import CLINICIAN_ROLES, Sex, TelehealthPreference

router = APIRouter(include_in_schema=False, route_class=PageRoute)

REGISTER = Action(
    "register",
    "Register a patient",
    (
        "mrn",
        "given_name",
        "family_name",
        "birth_date",
        "sex_at_birth",
        "gender_identity",
        "preferred_language",
        "interpreter_needed",
        "telehealth_preference",
        "phone",
        "email",
        "emergency_contact.name",
        "emergency_contact.relationship",
        "emergency_contact.phone",
    ),
    (PatientRecord.register,),
    (PatientRegistered,),
    LANDED["register"],
)


def register_options() -> dict[str, list[tuple[str, str]]]:
    return {
        "sexes": [(s.value, s.value) for s in Sex],
        "telehealth": [(t.value, t.value) for t in TelehealthPreference],
        "yes_no": [("false", "No"), ("true", "Yes")],
    }


@router.get("/patients", response_class=HTMLResponse)
async def patients(
    request: Request, user: WebUser, services: ServicesDep, q: str = "", page: str = "1"
) -> HTMLResponse:
    """Search (name, MRN or birth date) or, without a query, the patients I care for."""
    found: Any = None
    listed: Any = None
    error = None
    if q.strip():
        try:
            found = await search_patients(services, user, q)
        except InvalidInput as exc:
            error = "; ".join(e.reason for e in exc.errors)
    elif user.role in CLINICIAN_ROLES:
        listed = await my_patients(services, user, int(page) if page.isdigit() else 1)
    return render_page(
        request,
        services,
        "patients.html",
        user,
        422 if error else 200,
        q=q,
        found=found,
        listed=listed,
        error=error,
        may_register=user.role in CLINICIAN_ROLES,
    )


def _register_page(
    request: Request, services: Any, user: Any, state: FormState, status: int = 200
) -> HTMLResponse:
    return render_page(
        request,
        services,
        "register.html",
        user,
        status,
        state=state,
        forms={"register": REGISTER},
        options=register_options(),
        input_id=input_id,
    )


@router.get("/register", response_class=HTMLResponse)
async def register_form(request: Request, user: WebUser, services: ServicesDep) -> HTMLResponse:
    return _register_page(request, services, user, FormState(""))


@router.post("/register", response_model=None)
async def register_submit(request: Request, user: WebUser, services: ServicesDep) -> Response:
    form = await request.form()
    csrf = form.get("csrf")
    check_csrf(services, request, csrf if isinstance(csrf, str) else None)
    values = {
        name: form.get(name).strip()  # type: ignore[union-attr]
        for name in REGISTER.inputs
        if isinstance(form.get(name), str)
    }
    data = unflatten(values)
    try:
        body = PatientCreate.model_validate(data)
        receipt = await register(services.writer, user, body.at(), **body.fields())
    except ValidationError as exc:
        state = place_errors(REGISTER, "register", InvalidInput.from_validation_error(exc).errors)
        status = 422
    except HANDLED as exc:
        problem = problem_for(exc)
        state, status = state_for(REGISTER, problem), problem.status
        if problem.kind == "conflict":  # the MRN's claim is taken: say so beside it
            state = place_errors(REGISTER, "register", [FieldError("mrn", problem.message)])
    else:
        target = f"/patients/{receipt.patient_id}?min_position={receipt.position}&done=register"
        return RedirectResponse(target, status_code=303)
    state.values = values
    return _register_page(request, services, user, state, status)
