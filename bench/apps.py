"""The two apps the HTTP bench compares, each served by uvicorn the same way."""

from __future__ import annotations

from uuid import UUID, uuid4

from fastapi import FastAPI

from api.app import create_app
from application.schemas.base import CommandReceipt
from application.schemas.clinical import ProgressNoteCreate


def noop() -> FastAPI:
    """The framework's ceiling: the same body parsed into the same model, the same kind of
    (sync) route, a receipt-shaped answer; no auth, no store."""
    app = FastAPI()

    @app.post(
        "/patients/{patient_id}/progress-notes", status_code=201, response_model=CommandReceipt
    )
    def record(patient_id: UUID, body: ProgressNoteCreate) -> CommandReceipt:
        return CommandReceipt(patient_id=patient_id, version=1, position=1, created_id=uuid4())

    return app


def noop_async() -> FastAPI:
    """The same no-op as an `async def` route: no worker-thread hop, the loop's own ceiling."""
    app = FastAPI()

    @app.post(
        "/patients/{patient_id}/progress-notes", status_code=201, response_model=CommandReceipt
    )
    async def record(patient_id: UUID, body: ProgressNoteCreate) -> CommandReceipt:
        return CommandReceipt(patient_id=patient_id, version=1, position=1, created_id=uuid4())

    return app


def full() -> FastAPI:
    """The real app, configured from TANDEM_* settings."""
    return create_app()
