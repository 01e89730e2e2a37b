"""Signing in, shared by the OAuth2 token route and the web login form."""

from __future__ import annotations

from anyio import to_thread

from application.errors import Throttled, Unauthorized
from application.ports import InvalidToken
from application.services import Services
from domain.audit import USERNAME_MAX, FailedSignIn, SignInReason
from domain.errors import InvalidInput
from domain.events import Actor, now
from domain.users import User

SIGN_IN = Actor.system("sign-in")
ADDRESS_MAX = 100


async def authenticate(services: Services, email: str, password: str, client: str) -> User:
    """The active user with this email and password, or Unauthorized.

    A username longer than USERNAME_MAX is refused (InvalidInput, naming `username`) before
    anything is counted or stored. Then the same work (one Argon2 verification) is done
    whether or not the account exists, so the answer's timing does not tell. Failures are
    counted per (account, address) and per address (application.throttle): past the free
    allowance an attempt is Throttled until its delay has passed. Each failure is recorded
    for compliance (domain.audit.SignInFailed): username, address, reason; no password."""
    email = email.strip().lower()
    if len(email) > USERNAME_MAX:
        raise InvalidInput.single("username", f"is longer than {USERNAME_MAX} characters")
    address = (client or "unknown")[:ADDRESS_MAX]
    account = f"user:{email}"
    wait = services.throttle.retry_after(account, address)
    if wait > 0:
        raise Throttled(wait)
    user = await to_thread.run_sync(services.clinic.find_user, email) if email else None
    valid = await to_thread.run_sync(
        services.passwords.verify, password, user.password_hash if user else None
    )
    reason: SignInReason | None = None
    if user is None:
        reason = "unknown-account"
    elif not valid:
        reason = "wrong-password"
    elif not user.active:
        reason = "deactivated"
    if reason is not None or user is None:
        services.throttle.failed(account, address)
        await services.writer.append(
            FailedSignIn.record(
                SIGN_IN, now(), username=email, address=address, reason=reason or "unknown-account"
            )
        )
        raise Unauthorized
    services.throttle.succeeded(account, address)
    return user


async def sign_out_token(services: Services, token: str | None) -> None:
    """Sign a bearer token out before it expires: it opens nothing from now on (no token,
    or one that is not genuine and current: Unauthorized)."""
    if not token:
        raise Unauthorized
    try:
        await to_thread.run_sync(services.tokens.revoke, token)
    except InvalidToken:
        raise Unauthorized from None
