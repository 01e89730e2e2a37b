"""Sign-in (OAuth2 password flow) and who am I."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from adapters.passwords import verify_password
from api.deps import CurrentUser, ServicesDep
from api.errors import AUTH_ERRORS, ErrorBody, Throttled, Unauthorized

router = APIRouter(tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class UserPublic(BaseModel):
    email: str
    display_name: str
    role: str
    organisation: str
    patient_id: UUID | None


@router.post(
    "/auth/token",
    response_model=Token,
    responses={
        401: {"model": ErrorBody, "description": "Wrong email or password"},
        422: {"model": ErrorBody, "description": "Missing form fields"},
        429: {"model": ErrorBody, "description": "Too many failed sign-ins"},
    },
)
def sign_in(
    request: Request, services: ServicesDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> Token:
    """Exchange email and password for a bearer token.

    The same work (one Argon2 verification) is done whether or not the account exists,
    so the answer's timing does not tell. Failures are counted per account and per client
    address; past the limit, attempts get 429 until the window passes."""
    email = form.username.strip().lower()
    client = f"ip:{request.client.host if request.client else 'unknown'}"
    wait = services.throttle.retry_after(f"user:{email}", client)
    if wait > 0:
        raise Throttled(wait)
    user = services.clinic.find_user(email) if email else None
    valid = verify_password(form.password, user.password_hash if user else None)
    if not valid or user is None or not user.active:
        services.throttle.failed(f"user:{email}", client)
        raise Unauthorized
    services.throttle.succeeded(f"user:{email}")
    lifetime = int(services.tokens.lifetime.total_seconds())
    return Token(
        access_token=services.tokens.issue(user.email, user.role.value), expires_in=lifetime
    )


@router.get("/me", response_model=UserPublic, responses=AUTH_ERRORS)
def me(user: CurrentUser) -> UserPublic:
    return UserPublic(
        email=user.email,
        display_name=user.display_name,
        role=user.role.value,
        organisation=user.organisation,
        patient_id=user.patient_id,
    )
