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
    │   ├── NotAnAuditor        only compliance reviewers read the audit trail
    │   └── NotAPatient         only a patient reads their own access log or downloads their record
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


# Pydantic's error types in plain words, with the limits its context gives (the same words
# on the API and on the pages). A type not listed keeps pydantic's own message.
_PLAIN = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "datetime_parsing": "is not a date and time: write it as 2026-03-02T10:50-05:00",
    "datetime_from_date_parsing": "is not a date and time: write it as 2026-03-02T10:50-05:00",
    "datetime_type": "is not a date and time: write it as 2026-03-02T10:50-05:00",
    "timezone_aware": "needs its UTC offset, e.g. 2026-03-02T10:50-05:00",
    "date_parsing": "is not a date: write it as 2026-03-02",
    "date_from_datetime_parsing": "is not a date: write it as 2026-03-02",
    "date_from_datetime_inexact": "is a date without a time: write it as 2026-03-02",
    "date_type": "is not a date: write it as 2026-03-02",
    "time_parsing": "is not a time of day: write it as 22:30",
    "time_type": "is not a time of day: write it as 22:30",
    "int_parsing": "is not a whole number",
    "int_type": "is not a whole number",
    "int_from_float": "is not a whole number",
    "float_parsing": "is not a number",
    "float_type": "is not a number",
    "decimal_parsing": "is not a number",
    "decimal_type": "is not a number",
    "finite_number": "is not a finite number",
    "decimal_max_digits": "has too many digits (at most {max_digits})",
    "decimal_max_places": "has too many decimal places (at most {decimal_places})",
    "decimal_whole_digits": "has too many digits before the point (at most {whole_digits})",
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be {ge} or more",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be {le} or less",
    "string_too_long": "is too long (at most {max_length} characters)",
    "too_long": "has too many entries (at most {max_length})",
    "enum": "must be one of {expected}",
    "literal_error": "must be one of {expected}",
    "uuid_parsing": "is not a valid id",
    "uuid_type": "is not a valid id",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "string_type": "must be text",
    "string_pattern_mismatch": "is not in the expected form",
}


def _reason(err: Any) -> str:
    kind = err["type"]
    if kind == "string_too_short":
        least = (err.get("ctx") or {}).get("min_length", 1)
        return "must not be empty" if least == 1 else f"must be at least {least} characters"
    if kind == "too_short":
        least = (err.get("ctx") or {}).get("min_length", 1)
        return "needs at least one entry" if least == 1 else f"needs at least {least} entries"
    plain = _PLAIN.get(kind)
    if plain is not None:
        try:
            return plain.format(**(err.get("ctx") or {}))
        except (KeyError, IndexError):
            return plain.split(" (")[0]
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
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


class NotAPatient(AccessDenied):
    """What a patient reads of their own record as theirs (the access log, the download of
    the right of access, 45 CFR 164.524) is read by a patient's own account only."""

    def __init__(self, user_id: str) -> None:
        self.patient_id = None
        self.user_id = user_id
        self.why = "not a patient's own account"
        TandemError.__init__(self, f"user {user_id} has no record of their own to read here")


class Conflict(TandemError):
    """Someone else recorded on the same aggregate first; reload and try again."""

    def __init__(self, aggregate_id: Any, message: str = "") -> None:
        self.aggregate_id = aggregate_id
        super().__init__(message or f"record {aggregate_id} was changed concurrently; retry")
