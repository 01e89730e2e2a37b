"""Recording clinical actions: one POST route per entry of the command table
(application/commands.py). Each route parses its body and calls the recording use case,
which checks access inside the write and runs the record's command.

(No `from __future__ import annotations` here: FastAPI must see the real body types that
the factory closes over.)
"""

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from fastapi import APIRouter

from api.deps import CurrentUser, ServicesDep
from api.errors import WRITE_ERRORS
from api.http.deps import ExpectedVersion
from application.commands import COMMANDS, CommandSpec
from application.recording import record
from application.schemas.base import CommandBody, CommandReceipt

Endpoint = Callable[..., Awaitable[CommandReceipt]]


def _endpoint(spec: CommandSpec) -> Endpoint:
    Body: Any = spec.body

    async def run(
        services: Any,
        user: Any,
        patient_id: UUID,
        body: CommandBody,
        expected_version: int | None,
        item: UUID | None,
    ) -> CommandReceipt:
        return await record(
            services.writer,
            user,
            patient_id,
            spec.bind(user.actor, body, item, services.command_defaults),
            expected_version=expected_version,
            created_id=spec.created_id(body),
        )

    if spec.item is None:

        async def collection(
            patient_id: UUID,
            body: Body,
            user: CurrentUser,
            services: ServicesDep,
            expected_version: ExpectedVersion = None,
        ) -> CommandReceipt:
            return await run(services, user, patient_id, body, expected_version, None)

        endpoint: Endpoint = collection
    else:

        async def item(
            patient_id: UUID,
            item_id: UUID,
            body: Body,
            user: CurrentUser,
            services: ServicesDep,
            expected_version: ExpectedVersion = None,
        ) -> CommandReceipt:
            return await run(services, user, patient_id, body, expected_version, item_id)

        endpoint = item
    endpoint.__name__ = spec.name
    endpoint.__doc__ = f"{spec.name.replace('_', ' ').capitalize()}."
    return endpoint


def build_router() -> APIRouter:
    """The command routes, one per COMMANDS spec. Built once, as `router` (like every other
    router, it holds no state: a route finds the services on its app)."""
    router = APIRouter(prefix="/patients/{patient_id}")
    for spec in COMMANDS:
        path = spec.path.replace("{" + spec.item + "}", "{item_id}") if spec.item else spec.path
        router.add_api_route(
            path,
            _endpoint(spec),
            methods=["POST"],
            status_code=spec.status,
            response_model=CommandReceipt,
            responses=WRITE_ERRORS,
            tags=[spec.tag],
            operation_id=spec.name,
        )
    return router


router = build_router()
