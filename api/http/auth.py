"""Sign-in (OAuth2 password flow) and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.deps import CurrentUser, ServicesDep
from api.errors import AUTH_ERRORS, ErrorBody
from application.schemas.users import UserPublic
from application.signin import authenticate

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


@router.get("/me", response_model=UserPublic, responses=AUTH_ERRORS)
def me(user: CurrentUser) -> UserPublic:
    return UserPublic.of(user)
