"""Dependencies shared by every entry point on HTTP (the API's routes and the pages): the
services the composition root built, and the signed-in user behind a bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from starlette.concurrency import run_in_threadpool

from application.errors import Unauthorized
from application.ports import InvalidToken
from application.reading import viewer_of
from application.services import Services
from domain.users import User

__all__ = [
    "CurrentUser",
    "ServicesDep",
    "get_current_user",
    "get_services",
    "oauth2_scheme",
    "viewer_of",
]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


# Dependencies are `async def` so that the command path stays on the event loop (see
# application/writer.py); FastAPI would run plain `def` dependencies in a worker thread.
async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def user_for_token(services: Services, token: str | None) -> User:
    """The active user a token was issued to, or Unauthorized."""
    if not token:
        raise Unauthorized
    try:
        email = services.tokens.subject(token)
    except InvalidToken:
        raise Unauthorized from None
    user = services.clinic.cached_user(email)
    if user is None:  # not seen within the cache's lifetime: read the store off the loop
        user = await run_in_threadpool(services.clinic.signed_in_user, email)
    if user is None or not user.active:
        raise Unauthorized
    return user


async def get_current_user(
    services: ServicesDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    return await user_for_token(services, token)


CurrentUser = Annotated[User, Depends(get_current_user)]
