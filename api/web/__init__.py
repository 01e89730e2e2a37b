"""Server-rendered pages: the same policy, the same access records, the same validation
as the API, for people who would rather look than read JSON."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from api.web.session import BadCsrf, LoginRequired

HERE = Path(__file__).parent
jinja = Jinja2Templates(directory=HERE / "templates")


def install(app: FastAPI) -> None:
    from api.web import caseload, clinician, compliance, directory, pages, patient  # use `jinja`

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (pages, clinician, caseload, directory, patient, compliance):
        app.include_router(module.router)

    async def to_login(request: Request, exc: Exception) -> Response:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    async def bad_csrf(request: Request, exc: Exception) -> Response:
        return Response("This form has expired; go back, reload and try again.", status_code=403)

    app.add_exception_handler(LoginRequired, to_login)
    app.add_exception_handler(BadCsrf, bad_csrf)
