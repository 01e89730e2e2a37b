"""Access records: every read of a patient's record is itself an event.

45 CFR 164.312(b) (audit controls) and 164.528 (accounting of disclosures) ask who saw
what, when, and on what basis; 42 CFR 2.51 asks that an emergency disclosure record at once
the recipient and facility, the person disclosing, the date and time and the nature of the
emergency. An `AccessRecord` holds one read: who (user, role, organisation), which patient
and view, which data classes the answer contained, which consents it relied on, for what
purpose, the log position the view reflected, and a SHA-256 of the exact response so a
replay can prove it reproduces what was seen. A break-the-glass read is then reviewed by
compliance on the same aggregate.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID, uuid4

from pydantic import Field

from domain.errors import RuleViolation
from domain.events import Actor, Aggregate
from domain.record import refused_fields
from domain.vocabulary import DataClass, Role, ShortText, Text

Basis = Literal["treating-team", "own-record", "consent", "break-the-glass"]


class AccessRecorded(Aggregate.Created):
    class_version: ClassVar[int] = 7

    patient_id: UUID
    view: ShortText
    purpose: ShortText
    basis: Basis
    classes: list[DataClass]
    consents: list[UUID] = Field(default_factory=list)
    reflected_position: int = Field(ge=0)
    # What else the answer depended on, so that a replay can rebuild it exactly.
    consents_version: int = Field(default=0, ge=0)
    viewer_patient_id: UUID | None = None
    response_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    # 42 CFR 2.51: the nature of the emergency, for a break-the-glass read.
    emergency_reason: Text | None = None
    # Part 2 disclosures are accounted for separately (42 CFR 2.25, 2.32).
    part2: bool = False
    # Why an operator outside the care workflow read the record (`tandem events --reason`).
    reason: Text | None = None

    # An "as of" read shows the data at `reflected_position`, decided by the care team at
    # this later position (None: the same position).
    team_position: int | None = Field(default=None, ge=0)
    # The layout the answer was given in (projections.role_views.VIEW_FORMAT), so that a
    # replay lays it out the same way.
    view_format: int = Field(ge=1)
    # The version of the directory of recipients the read was decided with
    # (domain.directory; 0: nothing registered yet). None in records made before the
    # directory, whose consents named recipients in free text: a replay decides those by
    # that earlier rule.
    directory_version: int | None = Field(default=None, ge=0)
    # The page a paged view disclosed (projections.role_views.Page): the entries before log
    # position `page_before` (None: the newest), at most `page_size`. None for other views.
    page_before: int | None = Field(default=None, ge=1)
    page_size: int | None = Field(default=None, ge=1)
    # The clinic's time zone (an IANA name) the care rules counted days in. None in records
    # made before the clinic had one: their days were the trigger's own UTC offset's.
    clinic_timezone: str | None = None
    # The sections a patient page's one answer held (projections.role_views.PATIENT_PAGE:
    # "view", "care", "outcomes", ...), in its order; empty for every other view.
    sections: list[ShortText] = Field(default_factory=list, max_length=20)

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["reason"] = None

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state["team_position"] = None

    @staticmethod
    def upcast_v3_v4(state: dict[str, Any]) -> None:
        """Version 3 answers showed a Part 2 record's class as `sud` (layout 1)."""
        state["view_format"] = 1

    @staticmethod
    def upcast_v4_v5(state: dict[str, Any]) -> None:
        """Version 4 was decided before the directory of recipients."""
        state["directory_version"] = None

    @staticmethod
    def upcast_v5_v6(state: dict[str, Any]) -> None:
        """Version 5 had no paged views, and counted the care rules' days in each trigger's
        own UTC offset."""
        state["page_before"] = None
        state["page_size"] = None
        state["clinic_timezone"] = None

    @staticmethod
    def upcast_v6_v7(state: dict[str, Any]) -> None:
        """Version 6 had no patient page (one answer of several sections)."""
        state["sections"] = []

    def apply(self, aggregate: Any) -> None:
        aggregate.reviewed = self.basis != "break-the-glass"

    def summary(self) -> str:
        return (
            f"{self.actor.user_id} ({self.actor.role.value}) read {self.view} of patient "
            f"{self.patient_id} as {self.basis}: {', '.join(c.value for c in self.classes) or 'nothing'}"
        )


class BreakGlassReviewed(Aggregate.Event):
    outcome: Literal["appropriate", "inappropriate", "needs-follow-up"]
    note: Text

    def apply(self, aggregate: Any) -> None:
        aggregate.reviewed = True

    def summary(self) -> str:
        return f"break-the-glass read reviewed by {self.actor.user_id}: {self.outcome}"


class AccessRecord(Aggregate):
    def __init__(self) -> None:
        self.reviewed = False

    @classmethod
    def record(
        cls,
        by: Actor,
        at: datetime,
        *,
        access_id: UUID,
        patient_id: UUID,
        view: str,
        purpose: str,
        basis: str,
        classes: list[DataClass],
        consents: list[UUID],
        reflected_position: int,
        consents_version: int,
        viewer_patient_id: UUID | None,
        response_sha256: str,
        emergency_reason: str | None = None,
        reason: str | None = None,
        part2: bool = False,
        team_position: int | None = None,
        view_format: int,
        directory_version: int | None = None,
        page_before: int | None = None,
        page_size: int | None = None,
        clinic_timezone: str | None = None,
        sections: list[str] | None = None,
    ) -> AccessRecord:
        with refused_fields():
            return cls._create(
                AccessRecorded,
                id=access_id,
                actor=by,
                data_class=DataClass.AUDIT,
                clinical_time=at,
                patient_id=patient_id,
                view=view,
                purpose=purpose,
                basis=basis,
                classes=sorted(set(classes)),
                consents=consents,
                reflected_position=reflected_position,
                consents_version=consents_version,
                viewer_patient_id=viewer_patient_id,
                response_sha256=response_sha256,
                emergency_reason=emergency_reason,
                reason=reason,
                part2=part2,
                team_position=team_position,
                view_format=view_format,
                directory_version=directory_version,
                page_before=page_before,
                page_size=page_size,
                clinic_timezone=clinic_timezone,
                sections=sections or [],
            )

    def review(self, by: Actor, at: datetime, *, outcome: str, note: str) -> None:
        if by.role != Role.COMPLIANCE:
            raise RuleViolation("only compliance reviews break-the-glass reads", field="actor.role")
        if self.reviewed:
            raise RuleViolation(f"access {self.id} needs no (further) review", field="access_id")
        with refused_fields():
            self.trigger_event(
                BreakGlassReviewed,
                actor=by,
                data_class=DataClass.AUDIT,
                clinical_time=at,
                outcome=outcome,
                note=note,
            )


class ReadRefused(Aggregate.Created):
    """A read the access policy refused: an attempted access to log (45 CFR 164.304
    "security incident", 164.308(a)(6), 164.312(b)). The caller was told nothing more than
    any other refusal; compliance sees who asked for which patient id, when and why."""

    class_version: ClassVar[int] = 1

    patient_id: UUID
    view: ShortText
    purpose: ShortText
    why: ShortText

    def apply(self, aggregate: Any) -> None:
        return None

    def summary(self) -> str:
        return (
            f"{self.actor.user_id} ({self.actor.role.value}) was refused {self.view} of "
            f"patient {self.patient_id}: {self.why}"
        )


class RefusedRead(Aggregate):
    @classmethod
    def record(
        cls, by: Actor, at: datetime, *, patient_id: UUID, view: str, purpose: str, why: str
    ) -> RefusedRead:
        with refused_fields():
            return cls._create(
                ReadRefused,
                id=uuid4(),
                actor=by,
                data_class=DataClass.AUDIT,
                clinical_time=at,
                patient_id=patient_id,
                view=view,
                purpose=purpose,
                why=why,
            )


# The longest username a sign-in may name (an email address's practical maximum, RFC 5321
# path limit less its brackets); longer ones are refused before anything is counted or kept.
USERNAME_MAX = 254
SignInReason = Literal["unknown-account", "wrong-password", "deactivated"]


class SignInFailed(Aggregate.Created):
    """A refused sign-in, for log-in monitoring (45 CFR 164.308(a)(5)(ii)(C)): the username
    as it was typed (normalised, bounded), the client address, when and why. Never the
    password that was tried. The caller was told only that the email or password was wrong."""

    class_version: ClassVar[int] = 1

    username: str = Field(max_length=USERNAME_MAX)
    address: str = Field(min_length=1, max_length=100)
    reason: SignInReason

    def apply(self, aggregate: Any) -> None:
        return None

    def summary(self) -> str:
        return f"sign-in as {self.username!r} from {self.address} refused: {self.reason}"


class FailedSignIn(Aggregate):
    @classmethod
    def record(
        cls, by: Actor, at: datetime, *, username: str, address: str, reason: SignInReason
    ) -> FailedSignIn:
        with refused_fields():
            return cls._create(
                SignInFailed,
                id=uuid4(),
                actor=by,
                data_class=DataClass.AUDIT,
                clinical_time=at,
                username=username,
                address=address,
                reason=reason,
            )
