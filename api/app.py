"""The FastAPI application factory (the HTTP entry point of the composition root)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import BaseModel

from api import errors, web
from api.http import auth, board, clinical, compliance, consents, patients, views
from application.services import Services
from bootstrap import Settings, bootstrap_services


class Health(BaseModel):
    status: str
    position: int


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
    errors.install(app)
    # Clinical commands first: they are the hot path, and routes are matched in order.
    app.include_router(clinical.build_router())
    # Then the pages: some answer a browser on the same paths as the API's reads, so they
    # must be matched before the API's routes (api.web.clinician.PageRoute). The clinical
    # commands' paths never collide with a page's, and they are the hot path.
    web.install(app)
    app.include_router(patients.router)
    app.include_router(views.router)
    app.include_router(consents.router)
    app.include_router(compliance.router)
    app.include_router(board.router)
    app.include_router(auth.router)

    @app.get("/health", tags=["meta"], response_model=Health)
    def health() -> Health:
        return Health(status="ok", position=services.clinic.position())

    return app
