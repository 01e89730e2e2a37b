"""What a consent says, and how the consents aggregate remembers it.

The vocabulary of a consent (who may record one, its recipient, its purpose, the record's
data classes, the 42 CFR 2.32 notice), the terms of one consent at one moment
(`ConsentTerms`) and a consent's versions and end (`ConsentHistory`). The events and the
aggregate that use them are in domain/consent.py, which re-exports everything here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from domain.errors import NotPermittedAuthor
from domain.events import Actor
from domain.vocabulary import DataClass, Role

# Who records a consent: the patient, who signs it (45 CFR 164.508(c)(1)(vi); 42 CFR
# 2.31(a)(8)), a treating clinician documenting the patient's written authorization, or the
# system importing one. Whether the person is the patient or on the team is the access
# policy's question (domain.access.may_manage_consents); the aggregate checks the role.
CONSENT_KEEPERS = frozenset({Role.PATIENT, Role.THERAPIST, Role.PRESCRIBER, Role.SYSTEM})

# 42 CFR 2.32(a)(1), Statement 1 (2024 final rule): the notice that accompanies every
# disclosure made with the patient's written consent.
REDISCLOSURE_NOTICE = (
    "This record which has been disclosed to you is protected by Federal confidentiality "
    "rules (42 CFR part 2). These rules prohibit you from using or disclosing this record, "
    "or testimony that describes the information contained in this record, in any civil, "
    "criminal, administrative, or legislative proceedings by any Federal, State, or local "
    "authority, against the patient, unless authorized by the consent of the patient, except "
    "as provided at 42 CFR 2.12(c)(5) or as authorized by a court in accordance with 42 CFR "
    "2.64 or 2.65. In addition, the Federal rules prohibit you from making any other use or "
    "disclosure of this record unless at least one of the following applies: (A) Further use "
    "or disclosure is expressly permitted by the written consent of the individual whose "
    "information is being disclosed in this record or as otherwise permitted by 42 CFR part "
    "2. (B) You are a covered entity or business associate and have received the record for "
    "treatment, payment, or health care operations, or (C) You have received the record from "
    "a covered entity or business associate as permitted by 45 CFR part 164, subparts A and "
    "E. A general authorization for the release of medical or other information is NOT "
    "sufficient to meet the required elements of written consent to further use or "
    "redisclose the record (see 42 CFR 2.31)."
)

RecipientKind = Literal["user", "organisation"]

# The data classes of a patient's record (DESIGN.md, "Data classes"), listed rather than
# derived from DataClass so that a label added later (accounts, audit) is shared with nobody
# until someone decides it should be.
RECORD_CLASSES = frozenset(
    {
        DataClass.DEMOGRAPHICS,
        DataClass.CARE_TEAM,
        DataClass.CARE_PLAN,
        DataClass.APPOINTMENT,
        DataClass.PROGRESS_NOTE,
        DataClass.PSYCHOTHERAPY_NOTE,
        DataClass.MEDICATION,
        DataClass.LAB,
        DataClass.MEASURE,
        DataClass.FUNCTIONAL,
        DataClass.SAFETY,
        DataClass.SUD,
        DataClass.MESSAGE,
        DataClass.CONSENT,
    }
)


class Purpose(StrEnum):
    """Why the recipient may see what the consent covers (45 CFR 164.508(c)(1)(iv);
    42 CFR 2.31(a)(5))."""

    TREATMENT = "treatment"
    CARE_COORDINATION = "care-coordination"
    PAYMENT = "payment"
    OPERATIONS = "operations"
    EDUCATION_SUPPORT = "education-support"
    RETURN_TO_WORK = "return-to-work"
    FAMILY_SUPPORT = "family-support"
    # The patient's own copy of their record (45 CFR 164.524, the right of access): the
    # purpose of a read the patient asks for, never one a consent is given for.
    RIGHT_OF_ACCESS = "right-of-access"


# The purposes a consent may name (every one but the patient's own right of access).
CONSENT_PURPOSES = frozenset(Purpose) - {Purpose.RIGHT_OF_ACCESS}


@dataclass(frozen=True)
class ConsentTerms:
    """What one consent says at one moment."""

    consent_id: UUID
    recipient_kind: RecipientKind
    recipient: str
    data_classes: frozenset[DataClass]
    purpose: Purpose
    valid_from: datetime
    valid_until: datetime | None
    part2: bool
    notice: str | None
    # The directory entry the consent names (domain.directory); None for a grant stored
    # before the directory, matched by its text until the clinic resolves it.
    recipient_id: UUID | None = None


@dataclass
class ConsentHistory:
    """One consent as the aggregate remembers it: its versions and how it ended."""

    granted_at: datetime
    until_end_of_treatment: bool
    versions: list[tuple[datetime, ConsentTerms]]
    ended_at: datetime | None = None
    ended_how: Literal["revoked", "expired"] | None = None

    @property
    def current(self) -> ConsentTerms:
        return self.versions[-1][1]

    @property
    def changed_at(self) -> datetime:
        return self.ended_at or self.versions[-1][0]

    def version_at(self, at: datetime) -> ConsentTerms | None:
        """The terms as they stood at `at`: None before the grant."""
        found = None
        for effective_at, terms in self.versions:
            if effective_at > at:
                break
            found = terms
        return found

    def in_force_at(self, at: datetime) -> ConsentTerms | None:
        terms = self.version_at(at)
        if terms is None or at < terms.valid_from:
            return None
        if terms.valid_until is not None and at >= terms.valid_until:
            return None
        if self.ended_at is not None and at >= self.ended_at:
            return None
        return terms


def check_may_keep_consents(by: Actor) -> None:
    if by.role not in CONSENT_KEEPERS:
        raise NotPermittedAuthor(f"a {by.role.value} may not record consents", field="actor.role")
