"""Security headers on every response: one ASGI middleware, added where the app is composed
(api/app.py), so that no route can forget them.

- Content-Security-Policy: the pages load only their own stylesheet (api/web/static) and
  carry no script and no inline style, so everything is 'self' and nothing inline; the
  charts are inline SVG, which needs no source. `frame-ancestors 'none'` keeps a signed-in
  page out of anyone's frame (clickjacking); `form-action 'self'` keeps forms posting home.
- The interactive API documentation (FastAPI's /docs and /redoc) is the one exception: it
  loads Swagger UI / ReDoc from their CDN with an inline bootstrap script, so those three
  paths get a policy allowing that CDN and inline script. They carry no patient data.
- X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer (a patient id in a page's
  address never travels to another site).
- Cache-Control: no-store on every response except the static stylesheet: pages, PDFs, CSV
  exports and API answers carry patient data, and errors can name what was asked for.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'none'; "
    "style-src 'self'; "
    "img-src 'self' data:; "
    "font-src 'self'; "
    "connect-src 'self'; "
    "form-action 'self'; "
    "base-uri 'none'; "
    "frame-ancestors 'none'"
)
DOCS_CDN = "https://cdn.jsdelivr.net"
DOCS_POLICY = (
    "default-src 'none'; "
    f"script-src 'self' 'unsafe-inline' {DOCS_CDN}; "
    f"style-src 'self' 'unsafe-inline' {DOCS_CDN} https://fonts.googleapis.com; "
    f"img-src 'self' data: https://fastapi.tiangolo.com {DOCS_CDN}; "
    "font-src 'self' https://fonts.gstatic.com; "
    "connect-src 'self'; "
    "worker-src 'self' blob:; "
    "form-action 'self'; "
    "base-uri 'none'; "
    "frame-ancestors 'none'"
)
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
CACHEABLE_PREFIX = "/static/"


def headers_for(path: str) -> list[tuple[bytes, bytes]]:
    """The security headers of a response to `path`."""
    policy = DOCS_POLICY if path in DOCS_PATHS else PAGE_POLICY
    found = [
        (b"content-security-policy", policy.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
    ]
    if not path.startswith(CACHEABLE_PREFIX):
        found += [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
    return found


class SecurityHeaders:
    """Adds `headers_for(path)` to every HTTP response, replacing any of the same name."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = headers_for(scope.get("path", ""))
        names = {name for name, _ in extra}

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept: Iterable[tuple[bytes, bytes]] = (
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() not in names
                )
                message["headers"] = [*kept, *extra]
            await send(message)

        await self.app(scope, receive, with_headers)
