"""Every error becomes an HTTP answer here, and only here.

InvalidInput, request validation  -> 422  (with each field and its reason)
UnknownReference                  -> 422
NotOnCareTeam, NotPermittedAuthor -> 403
AccessDenied                      -> 403  (also for patients that do not exist)
RuleViolation (other)             -> 409  (the record's state refuses the command)
Conflict                          -> 409  (concurrent write; reload and retry)
NotFound                          -> 404
Unauthorized                      -> 401  (with WWW-Authenticate: Bearer)
Throttled                         -> 429  (with Retry-After)
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from adapters.reading import IndexBehind
from domain.errors import (
    AccessDenied,
    Conflict,
    InvalidInput,
    NotCombinable,
    NotFound,
    NotOnCareTeam,
    NotPermittedAuthor,
    Part2ConsentRequired,
    RuleViolation,
    TandemError,
    UnknownReference,
)


class FieldProblem(BaseModel):
    field: str
    reason: str


class ErrorBody(BaseModel):
    type: str
    message: str
    fields: list[FieldProblem] = []


class Unauthorized(Exception):
    """No valid bearer token (missing, forged, expired, or its user is deactivated)."""


class Throttled(Exception):
    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__("too many failed sign-ins; try again later")


def _body(
    status: int,
    kind: str,
    message: str,
    fields: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(type=kind, message=message, fields=fields or [])
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _domain(_: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, InvalidInput):
        fields = [FieldProblem(field=e.field, reason=e.reason) for e in exc.errors]
        return _body(422, "invalid_input", "the request was refused", fields)
    if isinstance(exc, NotCombinable | Part2ConsentRequired):
        return _body(422, "invalid_consent", str(exc), _rule_field(exc))
    if isinstance(exc, UnknownReference):
        return _body(422, "unknown_reference", str(exc), _rule_field(exc))
    if isinstance(exc, NotOnCareTeam | NotPermittedAuthor):
        return _body(403, "not_permitted", str(exc), _rule_field(exc))
    if isinstance(exc, AccessDenied):
        return _body(403, "access_denied", str(exc))
    if isinstance(exc, RuleViolation):
        return _body(409, "rule_violation", str(exc), _rule_field(exc))
    if isinstance(exc, Conflict):
        return _body(409, "conflict", str(exc))
    if isinstance(exc, NotFound):
        return _body(404, "not_found", str(exc))
    return _body(400, "refused", str(exc))


def _rule_field(exc: RuleViolation) -> list[FieldProblem]:
    return [FieldProblem(field=exc.field, reason=str(exc))] if exc.field else []


def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        reason = str(err.get("msg", "is invalid")).removeprefix("Value error, ")
        if err.get("type") == "missing":
            reason = "is required"
        fields.append(FieldProblem(field=".".join(loc) or "(body)", reason=reason))
    return _body(422, "invalid_input", "the request was refused", fields)


def _unauthorized(_: Request, exc: Exception) -> JSONResponse:
    return _body(
        401,
        "unauthorized",
        "a valid bearer token is required",
        headers={"WWW-Authenticate": "Bearer"},
    )


def _throttled(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Throttled)
    return _body(
        429, "throttled", str(exc), headers={"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
    )


def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return _body(exc.status_code, "http_error", str(exc.detail), headers=dict(exc.headers or {}))


def _behind(_: Request, exc: Exception) -> JSONResponse:
    return _body(503, "index_behind", str(exc), headers={"Retry-After": "1"})


def install(app: FastAPI) -> None:
    app.add_exception_handler(IndexBehind, _behind)
    app.add_exception_handler(TandemError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(Unauthorized, _unauthorized)
    app.add_exception_handler(Throttled, _throttled)
    app.add_exception_handler(HTTPException, _http)


def _response(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: _response("No valid bearer token"),
    422: _response("Invalid input: each refused field with its reason"),
}
PATIENT_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    403: _response("Not permitted, or no such patient (indistinguishable)"),
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **PATIENT_ERRORS,
    409: _response("The record's state refuses the command, or a concurrent write won"),
}
