"""Web sessions: the same signed token as the API, carried in an HttpOnly cookie, and a
CSRF token for every form (derived from the session, so a page from another site cannot
post as the signed-in user)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Request

from api.deps import ServicesDep
from application.ports import InvalidToken
from domain.users import User

COOKIE = "tandem_session"


class LoginRequired(Exception):
    """No valid session: the browser is sent to the login page."""


class BadCsrf(Exception):
    """A form came without this session's CSRF token."""


def session_token(request: Request) -> str | None:
    return request.cookies.get(COOKIE)


async def get_web_user(request: Request, services: ServicesDep) -> User:
    token = session_token(request)
    if not token:
        raise LoginRequired
    try:
        email = services.tokens.subject(token)
    except InvalidToken:
        raise LoginRequired from None
    user = services.clinic.cached_user(email) or services.clinic.signed_in_user(email)
    if user is None or not user.active:
        raise LoginRequired
    return user


WebUser = Annotated[User, Depends(get_web_user)]


def csrf_token(services: ServicesDep, request: Request) -> str:
    token = session_token(request) or ""
    key = services.tokens.secret.encode()
    return hmac.new(key, b"csrf:" + token.encode(), hashlib.sha256).hexdigest()


def check_csrf(services: ServicesDep, request: Request, submitted: str | None) -> None:
    if not submitted or not hmac.compare_digest(submitted, csrf_token(services, request)):
        raise BadCsrf
