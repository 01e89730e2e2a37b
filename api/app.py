"""The FastAPI application factory (the HTTP entry point of the composition root)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from eventsourcing.persistence import PersistenceError
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from api import errors, web
from api.headers import SecurityHeaders
from api.http import (
    auth,
    board,
    clinical,
    compliance,
    consents,
    directory,
    patients,
    portal,
    views,
)
from application.services import Services
from bootstrap import Settings, bootstrap_services


class Health(BaseModel):
    status: str
    position: int | None
    store: str = "ok"
    cause: str | None = None


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    services = services or bootstrap_services(settings or Settings())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        services.start()
        yield
        services.close()

    app = FastAPI(
        title="Tandem",
        version="0.1.0",
        description="Care coordination for outpatient behavioral health.",
        lifespan=lifespan,
    )
    app.state.services = services
    # Security headers on every response, whatever route or error answers (api/headers.py).
    app.add_middleware(SecurityHeaders)
    errors.install(app)
    # Clinical commands first: they are the hot path, and routes are matched in order.
    app.include_router(clinical.router)
    # Then the pages: some answer a browser on the same paths as the API's reads, so they
    # must be matched before the API's routes (api.web.clinician.PageRoute). The clinical
    # commands' paths never collide with a page's, and they are the hot path.
    web.install(app)
    app.include_router(patients.router)
    app.include_router(views.router)
    app.include_router(consents.router)
    app.include_router(directory.router)
    app.include_router(compliance.router)
    app.include_router(board.router)
    app.include_router(auth.router)
    app.include_router(portal.router)

    @app.get(
        "/health",
        tags=["meta"],
        response_model=Health,
        responses={503: {"model": Health, "description": "The store cannot write"}},
    )
    def health() -> Response:
        """Whether the service can take writes: 503 while the store cannot write (a full
        disk, an unreachable database), 200 again by itself once a write succeeds."""
        report = services.writer.health.report()
        try:
            position: int | None = services.clinic.position()
        except PersistenceError as exc:
            services.writer.health.failed(exc)
            report = services.writer.health.report()
            position = None
        body = Health(
            status="ok" if report.ok else "failing",
            position=position,
            store="ok" if report.ok else "failing",
            cause=report.cause,
        )
        return JSONResponse(body.model_dump(), status_code=200 if report.ok else 503)

    return app
