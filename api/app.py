"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from adapters.bootstrap import bootstrap
from adapters.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    clinic = bootstrap(settings)
    app = FastAPI(title="Tandem", version="0.1.0")
    app.state.clinic = clinic

    @app.get("/health", tags=["meta"])
    def health() -> dict[str, int | str]:
        return {"status": "ok", "position": clinic.position()}

    return app
