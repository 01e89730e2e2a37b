"""Signing in, shared by the OAuth2 token route and the web login form."""

from __future__ import annotations

from application.errors import Throttled, Unauthorized
from application.services import Services
from domain.users import User


def authenticate(services: Services, email: str, password: str, client: str) -> User:
    """The active user with this email and password, or Unauthorized.

    The same work (one Argon2 verification) is done whether or not the account exists, so
    the answer's timing does not tell. Failures are counted per account and per client
    address; past the limit, attempts are Throttled until the window passes."""
    email = email.strip().lower()
    account, address = f"user:{email}", f"ip:{client}"
    wait = services.throttle.retry_after(account, address)
    if wait > 0:
        raise Throttled(wait)
    user = services.clinic.find_user(email) if email else None
    valid = services.passwords.verify(password, user.password_hash if user else None)
    if not valid or user is None or not user.active:
        services.throttle.failed(account, address)
        raise Unauthorized
    services.throttle.succeeded(account)
    return user
