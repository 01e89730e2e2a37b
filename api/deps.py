"""Dependencies every route shares: the services, the signed-in user, and the two ways
a route touches a record (read it, or run a command on it), both through the access policy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer
from pydantic import AwareDatetime, BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from adapters.bootstrap import Services
from adapters.tokens import InvalidToken
from api.errors import Unauthorized
from domain.access import Viewer, check_treating_member, denied
from domain.errors import Conflict, NotFound
from domain.events import now
from domain.patient import PatientRecord
from domain.users import User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


# Dependencies are `async def` so that the command path stays on the event loop (see
# adapters/writer.py); FastAPI would run plain `def` dependencies in a worker thread.
async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_current_user(
    services: ServicesDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
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


CurrentUser = Annotated[User, Depends(get_current_user)]
ExpectedVersion = Annotated[
    int | None,
    Query(ge=1, description="Refuse with 409 unless the record is still at this version."),
]


class CommandBody(BaseModel):
    """Fields every recording request may carry."""

    model_config = ConfigDict(extra="forbid")

    clinical_time: AwareDatetime | None = None

    def at(self) -> datetime:
        return self.clinical_time or now()

    def fields(self, *exclude: str) -> dict[str, Any]:
        return self.model_dump(exclude={"clinical_time", *exclude})


class CommandReceipt(BaseModel):
    patient_id: UUID
    version: int
    position: int
    created_id: UUID | None = None


async def run_command(
    services: Services,
    user: User,
    patient_id: UUID,
    command: Callable[[PatientRecord], None],
    expected_version: int | None = None,
    created_id: UUID | None = None,
) -> CommandReceipt:
    """Check access, then run the command, all on the writer (atomic with the write)."""

    def guarded(record: PatientRecord) -> None:
        check_treating_member(record, user.actor)
        if expected_version is not None and record.version != expected_version:
            raise Conflict(
                patient_id,
                f"record {patient_id} is at version {record.version}, "
                f"not the expected {expected_version}",
            )
        command(record)

    try:
        receipt = await services.writer.submit(patient_id, guarded)
    except NotFound:
        raise denied(patient_id) from None
    return CommandReceipt(
        patient_id=patient_id,
        version=receipt.version,
        position=receipt.position,
        created_id=created_id,
    )


def viewer_of(user: User) -> Viewer:
    return Viewer(
        user_id=user.email,
        role=user.role,
        organisation=user.organisation,
        patient_id=user.patient_id,
    )
