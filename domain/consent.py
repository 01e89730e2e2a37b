"""A patient's consents: every authorization to share their record, in one aggregate.

One aggregate per patient holds all of that patient's consents. It is the consistency
boundary for the rules that look across consents (a psychotherapy-note authorization may not
be combined with another), and the access policy reads it fresh on every access, so a
revocation takes effect on the very next read (45 CFR 164.508(b)(5); 42 CFR 2.31(a)(6)).

Each consent keeps its versions as (effective from, terms): an amendment applies from its
clinical time on, so a view "as of" an earlier moment sees the terms that held then.
Revocation and expiry end a consent at their clinical time; nothing that was disclosed
before is undone (164.508(b)(5)), but nothing new flows after.

The terms and their history (`ConsentTerms`, `ConsentHistory`, `Purpose`, ...) are in
domain/consent_terms.py and re-exported here, and the rules every change must keep (the
aggregate's guards) in domain/consent_rules.py; the events and the aggregate stay in this
module, whose path is part of their stored topics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import AwareDatetime, BaseModel, Field, field_validator, model_validator

from domain.consent_rules import ConsentRules
from domain.consent_terms import (
    CONSENT_KEEPERS,
    CONSENT_PURPOSES,
    RECORD_CLASSES,
    REDISCLOSURE_NOTICE,
    ConsentHistory,
    ConsentTerms,
    Purpose,
    RecipientKind,
    check_may_keep_consents,
)
from domain.errors import ConsentRefused, InvalidInput
from domain.events import Actor, Aggregate, Value
from domain.record import check_clinical_time, refused_fields
from domain.vocabulary import DataClass, ShortText

# Its own names and those of consent_terms.py, re-exported so that
# `from domain.consent import Purpose` keeps working.
__all__ = [
    "CONSENT_KEEPERS",
    "CONSENT_PURPOSES",
    "RECORD_CLASSES",
    "REDISCLOSURE_NOTICE",
    "ConsentAmended",
    "ConsentEvent",
    "ConsentExpired",
    "ConsentGranted",
    "ConsentHistory",
    "ConsentRecipientResolved",
    "ConsentRevoked",
    "ConsentTerms",
    "ConsentsOpened",
    "PatientConsents",
    "Purpose",
    "RecipientKind",
    "check_may_keep_consents",
    "consents_id_for",
]

_CONSENTS = uuid5(NAMESPACE_URL, "https://tandem.example/consents")


def consents_id_for(patient_id: UUID) -> UUID:
    """The id of a patient's consents follows from the patient id: one aggregate each."""
    return uuid5(_CONSENTS, f"consents:{patient_id}")


# --- events -------------------------------------------------------------------------


class ConsentEvent(Aggregate.Event):
    """An event on a patient's consents; data class CONSENT, with the patient's id."""

    class_version: ClassVar[int] = 1

    patient_id: UUID

    @field_validator("data_class")
    @classmethod
    def _is_consent(cls, value: DataClass) -> DataClass:
        if value != DataClass.CONSENT:
            raise ValueError(f"a consent event is labelled consent, not {value}")
        return value

    def apply(self, aggregate: Any) -> None:
        """Subclasses change the consent they name."""

    def summary(self) -> str:
        return type(self).__name__


class ConsentsOpened(ConsentEvent, Aggregate.Created):
    class_version: ClassVar[int] = 1

    def summary(self) -> str:
        return "consents opened"


class _GrantFields(BaseModel):
    """The terms a grant names, shared by the command's input and its event."""

    consent_id: UUID
    recipient_kind: RecipientKind
    recipient: ShortText
    # The directory entry it names (domain.directory): set by every grant made since the
    # directory; None in grants stored before it (see ConsentGranted.upcast_v1_v2).
    recipient_id: UUID | None = None
    data_classes: list[DataClass] = Field(min_length=1, max_length=len(DataClass))
    purpose: Purpose
    valid_from: AwareDatetime
    valid_until: AwareDatetime | None = None
    until_end_of_treatment: bool = False
    part2: bool


class ConsentGranted(ConsentEvent, _GrantFields):
    class_version: ClassVar[int] = 2

    # The 42 CFR 2.32 notice, stored with a Part 2 consent so that every disclosure made
    # under it can carry the wording that held when it was given.
    notice: str | None = None

    @model_validator(mode="after")
    def _part2_carries_notice(self) -> ConsentGranted:
        if self.part2 and not self.notice:
            raise ValueError("a Part 2 consent carries the 42 CFR 2.32 notice")
        return self

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        # Before the directory a grant named its recipient in free text only. Which entry
        # (if any) that text names is known only where the directory is: at decision time
        # (domain.directory.Directory.resolved), or by a recorded resolution.
        state["recipient_id"] = None

    def apply(self, aggregate: Any) -> None:
        terms = ConsentTerms(
            consent_id=self.consent_id,
            recipient_kind=self.recipient_kind,
            recipient=self.recipient,
            data_classes=frozenset(self.data_classes),
            purpose=self.purpose,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            part2=self.part2,
            notice=self.notice,
            recipient_id=self.recipient_id,
        )
        aggregate.consents[self.consent_id] = ConsentHistory(
            granted_at=self.clinical_time,
            until_end_of_treatment=self.until_end_of_treatment,
            versions=[(self.clinical_time, terms)],
        )

    def summary(self) -> str:
        until = self.valid_until.date().isoformat() if self.valid_until else "no end date"
        if self.until_end_of_treatment:
            until = f"end of treatment ({until})" if self.valid_until else "end of treatment"
        part2 = " under 42 CFR Part 2" if self.part2 else ""
        classes = ", ".join(c.value for c in self.data_classes)
        return (
            f"consent granted{part2} to {self.recipient_kind} {self.recipient} for "
            f"{self.purpose.value}: {classes}, from {self.valid_from.date().isoformat()} "
            f"until {until}"
        )


class ConsentAmended(ConsentEvent):
    class_version: ClassVar[int] = 1

    consent_id: UUID
    data_classes: list[DataClass] | None = Field(default=None, min_length=1)
    valid_until: AwareDatetime | None = None

    def apply(self, aggregate: Any) -> None:
        history: ConsentHistory = aggregate.consents[self.consent_id]
        before = history.current
        terms = replace(
            before,
            data_classes=frozenset(self.data_classes or before.data_classes),
            valid_until=self.valid_until or before.valid_until,
        )
        history.versions.append((self.clinical_time, terms))

    def summary(self) -> str:
        changes = []
        if self.data_classes is not None:
            changes.append("data classes " + ", ".join(c.value for c in self.data_classes))
        if self.valid_until is not None:
            changes.append(f"valid until {self.valid_until.date().isoformat()}")
        return "consent amended: " + "; ".join(changes)


class ConsentRecipientResolved(ConsentEvent):
    """The clinic resolved a consent stored before the directory, whose free-text recipient
    matched no entry, to the directory entry it meant. From then on it names that entry (in
    every version: the recipient is what the patient meant all along); before, it opened
    nothing, and a replay of a read made then still loads the consents without this."""

    class_version: ClassVar[int] = 1

    consent_id: UUID
    recipient_id: UUID
    recipient_kind: RecipientKind
    recipient: ShortText

    def apply(self, aggregate: Any) -> None:
        history: ConsentHistory = aggregate.consents[self.consent_id]
        history.versions = [
            (
                at,
                replace(
                    terms,
                    recipient_kind=self.recipient_kind,
                    recipient=self.recipient,
                    recipient_id=self.recipient_id,
                ),
            )
            for at, terms in history.versions
        ]

    def summary(self) -> str:
        return f"consent recipient resolved to {self.recipient_kind} {self.recipient}"


class ConsentRevoked(ConsentEvent):
    class_version: ClassVar[int] = 1

    consent_id: UUID
    reason: ShortText

    def apply(self, aggregate: Any) -> None:
        history: ConsentHistory = aggregate.consents[self.consent_id]
        history.ended_at, history.ended_how = self.clinical_time, "revoked"

    def summary(self) -> str:
        return f"consent revoked in writing: {self.reason}"


class ConsentExpired(ConsentEvent):
    class_version: ClassVar[int] = 1

    consent_id: UUID

    def apply(self, aggregate: Any) -> None:
        history: ConsentHistory = aggregate.consents[self.consent_id]
        history.ended_at, history.ended_how = self.clinical_time, "expired"

    def summary(self) -> str:
        return "consent expired"


class _GrantInput(_GrantFields, Value):
    """A grant's input, parsed before any rule looks at it."""


class _AmendInput(Value):
    data_classes: list[DataClass] | None = Field(default=None, min_length=1)
    valid_until: AwareDatetime | None = None


# --- the aggregate ------------------------------------------------------------------


class PatientConsents(ConsentRules, Aggregate):
    """Every consent one patient has given; its id is `consents_id_for(patient_id)`. Its
    guards (`check_...`) are the consent rules of domain/consent_rules.py."""

    def __init__(self, patient_id: UUID) -> None:
        self.patient_id = patient_id
        self.consents: dict[UUID, ConsentHistory] = {}

    @classmethod
    def open(cls, by: Actor, at: datetime, patient_id: UUID) -> PatientConsents:
        check_may_keep_consents(by)
        with refused_fields():
            consents = cls._create(
                ConsentsOpened,
                id=consents_id_for(patient_id),
                actor=by,
                data_class=DataClass.CONSENT,
                clinical_time=at,
                patient_id=patient_id,
            )
        return consents

    # --- questions ---------------------------------------------------------------

    def terms_at(self, consent_id: UUID, at: datetime) -> ConsentTerms | None:
        """The consent's terms if it is in force at `at`, else None.

        In force: granted at or before `at`, valid_from <= at < valid_until (or no end),
        and not revoked or expired at or before `at`.
        """
        history = self.consents.get(consent_id)
        return history.in_force_at(at) if history is not None else None

    def recorded_terms_at(self, consent_id: UUID, at: datetime) -> ConsentTerms | None:
        """What the consent said at `at` (None before its grant), in force or not."""
        history = self.consents.get(consent_id)
        return history.version_at(at) if history is not None else None

    def in_force(self, at: datetime) -> list[ConsentTerms]:
        """Every consent in force at `at`, in the order they were granted."""
        return [t for h in self.consents.values() if (t := h.in_force_at(at)) is not None]

    # --- commands ----------------------------------------------------------------

    def grant(
        self,
        by: Actor,
        at: datetime,
        *,
        consent_id: UUID,
        recipient_kind: RecipientKind,
        recipient: str,
        recipient_id: UUID | None = None,
        data_classes: Sequence[DataClass],
        purpose: Purpose,
        valid_from: datetime,
        valid_until: datetime | None,
        until_end_of_treatment: bool = False,
        part2: bool,
    ) -> None:
        """Record a consent. The use case (application.consents) names the recipient by a
        directory entry: its id and the text it is named by (Recipient.names)."""
        check_may_keep_consents(by)
        with refused_fields():
            terms = _GrantInput(
                consent_id=consent_id,
                recipient_kind=recipient_kind,
                recipient=recipient,
                recipient_id=recipient_id,
                data_classes=list(data_classes),
                purpose=purpose,
                valid_from=valid_from,
                valid_until=valid_until,
                until_end_of_treatment=until_end_of_treatment,
                part2=part2,
            )
        self.check_new_consent(terms.consent_id)
        self.check_recipient(terms.recipient_kind, terms.recipient)
        self.check_consent_purpose(terms.purpose)
        self.check_classes_distinct(terms.data_classes)
        self.check_psychotherapy_notes_alone(terms.consent_id, terms.data_classes, None)
        self.check_part2_for_sud(terms.consent_id, terms.data_classes, terms.part2)
        self.check_period(terms.valid_from, terms.valid_until)
        fields = terms.model_dump()
        if terms.recipient_kind == "user":
            # Emails are user ids, normalised as accounts normalise them (domain.users).
            fields["recipient"] = terms.recipient.lower()
        self._trigger(
            ConsentGranted,
            by,
            at,
            **fields,
            notice=REDISCLOSURE_NOTICE if terms.part2 else None,
        )

    def amend(
        self,
        by: Actor,
        at: datetime,
        *,
        consent_id: UUID,
        data_classes: Sequence[DataClass] | None = None,
        valid_until: datetime | None = None,
    ) -> None:
        """Change what a consent covers or how long it lasts, from `at` on."""
        check_may_keep_consents(by)
        history = self.check_known_consent(consent_id)
        with refused_fields():
            change = _AmendInput(
                data_classes=list(data_classes) if data_classes is not None else None,
                valid_until=valid_until,
            )
        if change.data_classes is None and change.valid_until is None:
            raise InvalidInput.single("data_classes", "an amendment must change something")
        self.check_not_ended(consent_id, history)
        self.check_not_lapsed(consent_id, history, at)
        self.check_in_order(consent_id, history, at)
        current = history.current
        if change.data_classes is not None:
            self.check_classes_distinct(change.data_classes)
            self.check_psychotherapy_notes_alone(consent_id, change.data_classes, current)
            self.check_part2_for_sud(consent_id, change.data_classes, current.part2)
        if change.valid_until is not None:
            self.check_period(current.valid_from, change.valid_until)
            if change.valid_until <= at:
                # An end already past would be a revocation without the writing it needs
                # (164.508(b)(5)); it is refused rather than recorded as an amendment.
                raise InvalidInput.single(
                    "valid_until", "is not after the amendment; to end a consent, revoke it"
                )
        self._trigger(
            ConsentAmended,
            by,
            at,
            consent_id=consent_id,
            data_classes=change.data_classes,
            valid_until=change.valid_until,
        )

    def resolve_recipient(
        self,
        by: Actor,
        at: datetime,
        *,
        consent_id: UUID,
        recipient_id: UUID,
        recipient_kind: RecipientKind,
        recipient: str,
    ) -> None:
        """Name the directory entry a consent stored before the directory meant (the use
        case passes the entry's id, kind and the text it is named by)."""
        check_may_keep_consents(by)
        history = self.check_known_consent(consent_id)
        self.check_not_ended(consent_id, history)
        if history.current.recipient_id is not None:
            raise self._refusal(
                ConsentRefused,
                consent_id,
                "consent_id",
                f"consent {consent_id} already names directory entry "
                f"{history.current.recipient_id}; to change the recipient, grant a new one",
            )
        self._trigger(
            ConsentRecipientResolved,
            by,
            at,
            consent_id=consent_id,
            recipient_id=recipient_id,
            recipient_kind=recipient_kind,
            recipient=recipient,
        )

    def revoke(self, by: Actor, at: datetime, *, consent_id: UUID, reason: str) -> None:
        """Record the patient's written revocation (45 CFR 164.508(b)(5); 42 CFR
        2.31(a)(6)), effective at `at`: nothing new flows under the consent afterwards."""
        check_may_keep_consents(by)
        history = self.check_known_consent(consent_id)
        self.check_not_ended(consent_id, history)
        self.check_not_lapsed(consent_id, history, at)
        self.check_in_order(consent_id, history, at)
        self._trigger(ConsentRevoked, by, at, consent_id=consent_id, reason=reason)

    def expire(self, by: Actor, at: datetime, *, consent_id: UUID) -> None:
        """Record that a consent has run out: at or after its end date, or, for a consent
        that lasts until the end of treatment (42 CFR 2.31(a)(7)), when treatment ends."""
        check_may_keep_consents(by)
        history = self.check_known_consent(consent_id)
        self.check_not_ended(consent_id, history)
        self.check_in_order(consent_id, history, at)
        self.check_may_expire(consent_id, history, at)
        self._trigger(ConsentExpired, by, at, consent_id=consent_id)

    # --- recording ---------------------------------------------------------------

    def _trigger(
        self, event_class: type[ConsentEvent], by: Actor, at: datetime, **fields: Any
    ) -> None:
        check_clinical_time(at)
        with refused_fields():
            self.trigger_event(
                event_class,
                actor=by,
                data_class=DataClass.CONSENT,
                clinical_time=at,
                patient_id=self.patient_id,
                **fields,
            )
