"""Errors the clinical domain raises.

    TandemError
    ├── InvalidInput            one or more fields refused; carries FieldError items
    ├── RuleViolation           a clinical or record rule refuses the command
    │   ├── NotOnCareTeam       the actor is not a member of the patient's care team
    │   ├── NotPermittedAuthor  the actor's role may not record this kind of event
    │   ├── UnknownReference    the command names a medication, session, order... not on record
    │   └── ConsentRefused      a consent rule refuses the grant, amendment, revocation or expiry
    │       ├── NotCombinable       psychotherapy notes with other classes (45 CFR 164.508(b)(3)(ii))
    │       ├── Part2ConsentRequired  SUD records without Part 2 consent (42 CFR 2.31)
    │       └── ConsentClosed       the consent was revoked or has expired
    ├── NotFound                no such patient, user, ...
    ├── AccessDenied            not permitted (or no such patient: the two look the same)
    │   └── NotAnAuditor        only compliance reviewers read the audit trail
    └── Conflict                someone else changed the same record first (optimistic concurrency)

Every error carries the identifiers needed to act on it. Errors are mapped to HTTP in
one place (the API's error handlers); nothing here knows about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError


@dataclass(frozen=True)
class FieldError:
    """One refused field: a dotted path to it and the reason in words."""

    field: str
    reason: str


class TandemError(Exception):
    """Root of every error Tandem raises on purpose."""


class InvalidInput(TandemError):
    """The command's input was refused; nothing was recorded."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))

    @classmethod
    def single(cls, field: str, reason: str) -> InvalidInput:
        return cls([FieldError(field, reason)])

    @classmethod
    def from_validation_error(cls, exc: ValidationError, prefix: str = "") -> InvalidInput:
        """Translate pydantic's error list into field-level errors."""
        errors = []
        for err in exc.errors():
            parts = [str(p) for p in err["loc"] if not _is_type_tag(p)]
            path = ".".join(([prefix] if prefix else []) + parts) or "(input)"
            errors.append(FieldError(path, _reason(err)))
        return cls(errors)


def _is_type_tag(part: Any) -> bool:
    # pydantic puts validator names such as "function-after[...]" in locations; they are
    # not field names and would only confuse the person reading the error.
    return isinstance(part, str) and ("[" in part or part.startswith("function-"))


def _reason(err: Any) -> str:
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err["type"] == "missing":
        return "is required"
    if err["type"] == "extra_forbidden":
        return "is not a known field"
    return msg


class RuleViolation(TandemError):
    """A rule of the record refuses the command."""

    def __init__(self, message: str, *, patient_id: Any = None, field: str | None = None) -> None:
        self.patient_id = patient_id
        self.field = field
        super().__init__(message)


class NotOnCareTeam(RuleViolation):
    """The actor is not on the patient's care team."""


class NotPermittedAuthor(RuleViolation):
    """The actor's role may not record this kind of event."""


class UnknownReference(RuleViolation):
    """The command refers to something the record does not hold."""


class ConsentRefused(RuleViolation):
    """A consent rule refuses the command; carries the consent it was about."""

    def __init__(
        self,
        message: str,
        *,
        patient_id: Any = None,
        consent_id: Any = None,
        field: str | None = None,
    ) -> None:
        self.consent_id = consent_id
        super().__init__(message, patient_id=patient_id, field=field)


class NotCombinable(ConsentRefused):
    """A psychotherapy-note authorization may not be combined with any other
    (45 CFR 164.508(b)(3)(ii))."""


class Part2ConsentRequired(ConsentRefused):
    """SUD records are shared only under a 42 CFR Part 2 consent (42 CFR 2.31)."""


class ConsentClosed(ConsentRefused):
    """The consent was revoked or has expired: it can be neither amended nor revoked again."""


class NotFound(TandemError):
    """No such thing (patient, user...)."""

    def __init__(self, kind: str, key: Any) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key} not found")


class AccessDenied(TandemError):
    """The access policy refuses; says nothing about whether the patient exists."""

    def __init__(self, patient_id: Any, why: str = "not permitted by the access policy") -> None:
        self.patient_id = patient_id
        # For the refused-read record compliance sees, never for the caller's answer.
        self.why = why
        # The same words for every id: an answer that named the id asked for would differ
        # between a real and a made-up one only by that id, but differ all the same.
        super().__init__("this patient does not exist or is not yours to see")


class NotAnAuditor(AccessDenied):
    """Only compliance reviewers read access records and disclosures (45 CFR 164.312(b))."""

    def __init__(self, user_id: str) -> None:
        self.patient_id = None
        self.user_id = user_id
        TandemError.__init__(self, f"user {user_id} does not review access records")


class Conflict(TandemError):
    """Someone else recorded on the same aggregate first; reload and try again."""

    def __init__(self, aggregate_id: Any, message: str = "") -> None:
        self.aggregate_id = aggregate_id
        super().__init__(message or f"record {aggregate_id} was changed concurrently; retry")
