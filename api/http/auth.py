"""Sign-in (OAuth2 password flow) and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.deps import CurrentUser, ServicesDep, oauth2_scheme
from api.errors import AUTH_ERRORS, ErrorBody
from application.schemas.users import UserPublic
from application.signin import authenticate, sign_out_token

router = APIRouter(tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


@router.post(
    "/auth/token",
    response_model=Token,
    responses={
        401: {"model": ErrorBody, "description": "Wrong email or password"},
        422: {"model": ErrorBody, "description": "Missing form fields, or a username too long"},
        429: {"model": ErrorBody, "description": "Too many failed sign-ins"},
    },
)
async def sign_in(
    request: Request, services: ServicesDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> Token:
    """Exchange email and password for a bearer token (see application.signin.authenticate)."""
    client = request.client.host if request.client else "unknown"
    user = await authenticate(services, form.username, form.password, client)
    lifetime = int(services.tokens.lifetime.total_seconds())
    return Token(
        access_token=services.tokens.issue(user.email, user.role.value), expires_in=lifetime
    )


@router.post("/auth/sign-out", status_code=204, responses=AUTH_ERRORS)
async def sign_out(
    user: CurrentUser,
    services: ServicesDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Response:
    """Sign the presented bearer token out: every later request with it answers 401, a
    restart included. Other tokens of the same user stay signed in."""
    await sign_out_token(services, token)
    return Response(status_code=204)


@router.get("/me", response_model=UserPublic, responses=AUTH_ERRORS)
def me(user: CurrentUser) -> UserPublic:
    return UserPublic.of(user)
