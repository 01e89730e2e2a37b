"""Every error becomes an answer here, and only here: the API renders the `Problem` as JSON,
the pages render the same `Problem` beside their forms.

InvalidInput, request validation  -> 422  (with each field and its reason)
NotCombinable, Part2ConsentRequired, UnknownReference -> 422
NotOnCareTeam, NotPermittedAuthor -> 403
AccessDenied                      -> 403  (also for patients that do not exist)
NotAnAuditor, NotAPatient        -> 403
RuleViolation (other)             -> 409  (the record's state refuses the command)
Conflict                          -> 409  (concurrent write; reload and retry)
NotFound                          -> 404
Unauthorized                      -> 401  (with WWW-Authenticate: Bearer)
Throttled                         -> 429  (with Retry-After)
IndexBehind                       -> 503  (with Retry-After: the view has not caught up)
StoreUnavailable                  -> 503  (with Retry-After: the store cannot write)
BrokerUnavailable                 -> 503  (with Retry-After: a recipient's broker access)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import PersistenceError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException

from application.errors import (
    BrokerUnavailable,
    IndexBehind,
    StoreUnavailable,
    Throttled,
    Unauthorized,
)
from domain.errors import (
    AccessDenied,
    Conflict,
    FieldError,
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

HANDLED = (
    TandemError,
    ValidationError,
    Unauthorized,
    Throttled,
    IndexBehind,
    StoreUnavailable,
    BrokerUnavailable,
)


class FieldProblem(BaseModel):
    field: str
    reason: str


class ErrorBody(BaseModel):
    type: str
    message: str
    fields: list[FieldProblem] = []


@dataclass(frozen=True)
class Problem:
    """An error as a person or a client is told it: status, kind, message, refused fields."""

    status: int
    kind: str
    message: str
    fields: tuple[FieldError, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> ErrorBody:
        return ErrorBody(
            type=self.kind,
            message=self.message,
            fields=[FieldProblem(field=f.field, reason=f.reason) for f in self.fields],
        )


def _rule_fields(exc: RuleViolation) -> tuple[FieldError, ...]:
    return (FieldError(exc.field, str(exc)),) if exc.field else ()


def problem_for(exc: BaseException) -> Problem:
    """The one map from an error to its answer."""
    if isinstance(exc, ValidationError):
        exc = InvalidInput.from_validation_error(exc)
    if isinstance(exc, InvalidInput):
        return Problem(422, "invalid_input", "the request was refused", tuple(exc.errors))
    if isinstance(exc, NotCombinable | Part2ConsentRequired):
        return Problem(422, "invalid_consent", str(exc), _rule_fields(exc))
    if isinstance(exc, UnknownReference):
        return Problem(422, "unknown_reference", str(exc), _rule_fields(exc))
    if isinstance(exc, NotOnCareTeam | NotPermittedAuthor):
        return Problem(403, "not_permitted", str(exc), _rule_fields(exc))
    if isinstance(exc, AccessDenied):
        return Problem(403, "access_denied", str(exc))
    if isinstance(exc, RuleViolation):
        return Problem(409, "rule_violation", str(exc), _rule_fields(exc))
    if isinstance(exc, Conflict):
        return Problem(409, "conflict", str(exc))
    if isinstance(exc, NotFound):
        return Problem(404, "not_found", str(exc))
    if isinstance(exc, Unauthorized):
        return Problem(
            401,
            "unauthorized",
            "a valid bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if isinstance(exc, Throttled):
        wait = str(max(1, math.ceil(exc.retry_after)))
        return Problem(429, "throttled", str(exc), headers={"Retry-After": wait})
    if isinstance(exc, IndexBehind):
        return Problem(503, "index_behind", str(exc), headers={"Retry-After": "1"})
    if isinstance(exc, StoreUnavailable):
        return Problem(
            503, "store_unavailable", str(exc), headers={"Retry-After": str(exc.retry_after)}
        )
    if isinstance(exc, BrokerUnavailable):
        return Problem(
            503, "broker_unavailable", str(exc), headers={"Retry-After": str(exc.retry_after)}
        )
    if isinstance(exc, TandemError):
        return Problem(400, "refused", str(exc))
    raise TypeError(f"no answer is mapped for {type(exc).__name__}")  # a programming error


def _json(problem: Problem) -> JSONResponse:
    return JSONResponse(
        problem.body().model_dump(), status_code=problem.status, headers=problem.headers or None
    )


def _handled(_: Request, exc: Exception) -> JSONResponse:
    return _json(problem_for(exc))


def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        reason = str(err.get("msg", "is invalid")).removeprefix("Value error, ")
        if err.get("type") == "missing":
            reason = "is required"
        fields.append(FieldError(".".join(loc) or "(body)", reason))
    return _json(Problem(422, "invalid_input", "the request was refused", tuple(fields)))


def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return _json(
        Problem(exc.status_code, "http_error", str(exc.detail), headers=dict(exc.headers or {}))
    )


def _storage(request: Request, exc: Exception) -> JSONResponse:
    """A storage fault no use case translated (a read of the store while it is down): noted
    on the store's health (logged once per episode) and answered like StoreUnavailable."""
    health = request.app.state.services.writer.health
    return _json(problem_for(health.failed(exc)))


def install(app: FastAPI) -> None:
    for kind in HANDLED:
        app.add_exception_handler(kind, _handled)
    app.add_exception_handler(PersistenceError, _storage)
    app.add_exception_handler(RequestValidationError, _validation)
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
    503: _response("The store cannot write now (retry after the Retry-After seconds)"),
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **PATIENT_ERRORS,
    409: _response("The record's state refuses the command, or a concurrent write won"),
}
