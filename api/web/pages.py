"""Sign in and out, the home page, and the caseload (the coordination board)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import ServicesDep
from api.errors import HANDLED, problem_for
from api.web import jinja
from api.web.session import (
    WebUser,
    check_csrf,
    csrf_token,
    end_session,
    prepare_login,
    set_login_cookie,
    start_session,
)
from application.errors import Throttled, Unauthorized
from application.reading import default_purpose
from application.sharing import shared_with
from application.signin import authenticate
from domain.audit import USERNAME_MAX
from domain.users import User
from domain.vocabulary import Role

router = APIRouter(include_in_schema=False)


def render(
    request: Request, services: Any, name: str, user: User | None, **context: Any
) -> HTMLResponse:
    return jinja.TemplateResponse(
        request, name, {"user": user, "csrf": csrf_token(services, request), **context}
    )


HOME = {
    Role.THERAPIST: "/caseload",
    Role.PRESCRIBER: "/caseload",
    Role.COMPLIANCE: "/compliance",
    Role.PATIENT: "/me",
    Role.PRIMARY_CARE: "/shared",
    Role.SCHOOL_COUNSELOR: "/shared",
    Role.EMPLOYER: "/shared",
    Role.SUPPORTER: "/shared",
}


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, services: ServicesDep) -> HTMLResponse:
    nonce = prepare_login(services, request)
    response = render(request, services, "login.html", None)
    set_login_cookie(services, response, nonce)
    return response


@router.post("/login", response_model=None)
async def login(
    request: Request,
    services: ServicesDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    next: str = "",
) -> Response:
    check_csrf(services, request, csrf)
    client = request.client.host if request.client else "unknown"
    try:
        user = await authenticate(services, email, password, client)
    except Unauthorized:
        return render(
            request, services, "login.html", None, error="Wrong email or password.", email=email
        )
    except HANDLED as exc:
        problem = problem_for(exc)
        words = "; ".join(f"{f.field}: {f.reason}" for f in problem.fields)
        if isinstance(exc, Throttled):
            words = "Too many failed sign-ins. Wait a little and try again."
        answer = render(
            request,
            services,
            "login.html",
            None,
            email=email[:USERNAME_MAX],
            error=words or problem.message,
        )
        answer.status_code = problem.status
        answer.headers.update(problem.headers)
        return answer
    target = (
        next if next.startswith("/") and not next.startswith("//") else HOME.get(user.role, "/")
    )
    response = RedirectResponse(target, status_code=303)
    start_session(services, request, response, user.email)
    return response


@router.post("/logout", response_model=None)
def logout(request: Request, services: ServicesDep, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(services, request, csrf)
    response = RedirectResponse("/login", status_code=303)
    end_session(services, request, response)
    return response


@router.get("/", response_model=None)
def home(user: WebUser) -> Response:
    return RedirectResponse(HOME.get(user.role, "/caseload"), status_code=303)


@router.get("/shared", response_class=HTMLResponse)
async def shared_with_me(request: Request, user: WebUser, services: ServicesDep) -> HTMLResponse:
    """For those who see records under consents: the patients sharing with them. Each
    listing is a recorded read of that patient's summary, under the role's usual purpose.
    (It asks every patient; fine for a practice, an index of consents by recipient would
    be needed at scale.)"""
    entries = await shared_with(services, user, default_purpose(user.role))
    return render(request, services, "shared.html", user, entries=entries)
