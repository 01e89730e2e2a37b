"""Pages that share a path with the API (`GET /patients/{id}`, `POST .../break-glass`,
`GET /me`) step aside for any request that is not a browser's: one carrying a bearer token,
or one with neither the session cookie nor an HTML `Accept` (or form body), goes on to the
API's routes."""

from __future__ import annotations

from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import Scope

from api.web.session import COOKIE


def is_browser(scope: Scope) -> bool:
    """A browser's request: no bearer token, and the session cookie, an HTML `Accept` or a
    form body. Anything else is an API client's and goes on to the API's routes."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    if "authorization" in headers:
        return False
    cookies = headers.get("cookie", "")
    content_type = headers.get("content-type", "")
    return (
        f"{COOKIE}=" in cookies
        or "text/html" in headers.get("accept", "")
        or content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))
    )


class PageRoute(APIRoute):
    """A page route that never answers an API client (see the module docstring)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and not is_browser(scope):
            return Match.NONE, {}
        return super().matches(scope)
