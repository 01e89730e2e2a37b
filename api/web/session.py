"""Web sessions: a random session id in an HttpOnly cookie, resolved server-side on every
request (adapters/sessions.py: signed out, deactivated or idle means gone), never the API's
bearer token; and a CSRF token for every form, the login form included (derived from the
session id, or before signing in from a random pre-session cookie, so a page from another
site cannot post as the signed-in user nor sign the browser in as someone else)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request, Response

from api.deps import ServicesDep
from application.services import Services
from domain.users import User

COOKIE = "tandem_session"
LOGIN_COOKIE = "tandem_login"


class LoginRequired(Exception):
    """No valid session: the browser is sent to the login page."""


class BadCsrf(Exception):
    """A form came without this session's CSRF token."""


def session_token(request: Request) -> str | None:
    return request.cookies.get(COOKIE)


async def get_web_user(request: Request, services: ServicesDep) -> User:
    session_id = session_token(request)
    if not session_id:
        raise LoginRequired
    email = services.sessions.resolve(session_id)
    if email is None:
        raise LoginRequired
    user = services.clinic.cached_user(email) or services.clinic.signed_in_user(email)
    if user is None or not user.active:
        raise LoginRequired
    return user


WebUser = Annotated[User, Depends(get_web_user)]


def _csrf_basis(request: Request) -> str:
    basis: str | None = getattr(request.state, "csrf_basis", None)
    return basis or session_token(request) or request.cookies.get(LOGIN_COOKIE) or ""


def csrf_token(services: ServicesDep, request: Request) -> str:
    key = services.tokens.secret.encode()
    return hmac.new(key, b"csrf:" + _csrf_basis(request).encode(), hashlib.sha256).hexdigest()


def check_csrf(services: ServicesDep, request: Request, submitted: str | None) -> None:
    if not _csrf_basis(request):
        raise BadCsrf
    if not submitted or not hmac.compare_digest(submitted, csrf_token(services, request)):
        raise BadCsrf


def _cookie(services: Services, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=services.secure_cookies,
    )


def prepare_login(services: Services, request: Request) -> str | None:
    """Before the login form is shown: a pre-session cookie to bind its CSRF token to, if
    the browser has neither it nor a session (the value to set on the answer)."""
    if session_token(request) or request.cookies.get(LOGIN_COOKIE):
        return None
    nonce = secrets.token_urlsafe(32)
    request.state.csrf_basis = nonce
    return nonce


def set_login_cookie(services: Services, response: Response, nonce: str | None) -> None:
    if nonce is not None:
        _cookie(services, response, LOGIN_COOKIE, nonce, 3600)


def start_session(services: Services, request: Request, response: Response, email: str) -> None:
    """A new session for a user who just signed in (any earlier one of this browser ends:
    no session id chosen before signing in survives it)."""
    earlier = session_token(request)
    if earlier:
        services.sessions.end(earlier)
    session_id = services.sessions.start(email)
    _cookie(services, response, COOKIE, session_id, int(services.sessions.max_seconds))
    response.delete_cookie(LOGIN_COOKIE)


def end_session(services: Services, request: Request, response: Response) -> None:
    session_id = session_token(request)
    if session_id:
        services.sessions.end(session_id)
    response.delete_cookie(COOKIE)
