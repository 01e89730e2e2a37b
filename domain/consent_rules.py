"""The rules every change to a patient's consents must keep, as the named guards of
`PatientConsents` (domain/consent.py), which inherits them:

- a consent is granted once, and changed only while it is known, not ended (revoked or
  expired) and not run out, and never dated before its last change;
- a user recipient is named by their email; a consent names a purpose other than the
  patient's own right of access (45 CFR 164.524); it lists the record's data classes,
  each once, for a period that ends after it begins;
- a psychotherapy-note consent covers those notes alone (45 CFR 164.508(b)(3)(ii)), and SUD
  records are shared only under a Part 2 consent (42 CFR 2.31);
- a consent expires at or after its end date, or when treatment ends for one that lasts
  until then (42 CFR 2.31(a)(7)).

Each guard raises a domain error naming the patient, the consent and the field.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from domain.consent_terms import (
    CONSENT_PURPOSES,
    RECORD_CLASSES,
    ConsentHistory,
    ConsentTerms,
    Purpose,
    RecipientKind,
)
from domain.errors import (
    ConsentClosed,
    ConsentRefused,
    InvalidInput,
    NotCombinable,
    Part2ConsentRequired,
    UnknownReference,
)
from domain.users import EMAIL_PATTERN
from domain.vocabulary import DataClass

_EMAIL = re.compile(EMAIL_PATTERN)


class ConsentRules:
    """The guards of a patient's consents; the aggregate provides the patient's id and the
    history of each consent."""

    patient_id: UUID
    consents: dict[UUID, ConsentHistory]

    def check_new_consent(self, consent_id: UUID) -> None:
        if consent_id in self.consents:
            raise self._refusal(
                ConsentRefused, consent_id, "consent_id", f"consent {consent_id} already exists"
            )

    def check_known_consent(self, consent_id: UUID) -> ConsentHistory:
        history = self.consents.get(consent_id)
        if history is None:
            raise UnknownReference(
                f"consent {consent_id} is not among the consents of patient {self.patient_id}",
                patient_id=self.patient_id,
                field="consent_id",
            )
        return history

    @staticmethod
    def check_recipient(kind: RecipientKind, recipient: str) -> None:
        # A user is named by their account's email (its user id, domain.users).
        if kind == "user" and not _EMAIL.match(recipient):
            raise InvalidInput.single("recipient", "a user recipient is named by their email")

    @staticmethod
    def check_consent_purpose(purpose: Purpose) -> None:
        # The right of access (45 CFR 164.524) is the patient's own request for their
        # record, not a purpose anyone else may be given it for.
        if purpose not in CONSENT_PURPOSES:
            raise InvalidInput.single(
                "purpose", f"{purpose.value} is the patient's own request, not a consent's purpose"
            )

    @staticmethod
    def check_classes_distinct(data_classes: Sequence[DataClass]) -> None:
        if len(set(data_classes)) != len(data_classes):
            raise InvalidInput.single("data_classes", "names a data class more than once")
        outside = sorted(c.value for c in set(data_classes) - RECORD_CLASSES)
        if outside:
            raise InvalidInput.single(
                "data_classes", f"{', '.join(outside)} is not part of the patient's record"
            )

    def check_psychotherapy_notes_alone(
        self, consent_id: UUID, data_classes: Sequence[DataClass], before: ConsentTerms | None
    ) -> None:
        """45 CFR 164.508(a)(2), (b)(3)(ii): psychotherapy notes need their own
        authorization, which may not be combined with any other. An amendment may neither
        add other classes to one nor turn an ordinary consent into one."""
        notes = DataClass.PSYCHOTHERAPY_NOTE in data_classes
        if notes and len(data_classes) > 1:
            raise self._refusal(
                NotCombinable,
                consent_id,
                "data_classes",
                "a psychotherapy-note consent covers psychotherapy notes only "
                "(45 CFR 164.508(b)(3)(ii))",
            )
        if before is not None and notes != (DataClass.PSYCHOTHERAPY_NOTE in before.data_classes):
            raise self._refusal(
                NotCombinable,
                consent_id,
                "data_classes",
                "a psychotherapy-note consent and an ordinary consent cannot be turned into "
                "each other; grant a separate consent (45 CFR 164.508(b)(3)(ii))",
            )

    def check_part2_for_sud(
        self, consent_id: UUID, data_classes: Sequence[DataClass], part2: bool
    ) -> None:
        """42 CFR 2.31: SUD records are disclosed only under a consent with Part 2's
        required elements, and every disclosure carries the 2.32 notice."""
        if DataClass.SUD in data_classes and not part2:
            raise self._refusal(
                Part2ConsentRequired,
                consent_id,
                "part2",
                "SUD records are shared only under a 42 CFR Part 2 consent (part2=true)",
            )

    @staticmethod
    def check_period(valid_from: datetime, valid_until: datetime | None) -> None:
        if valid_until is not None and valid_until <= valid_from:
            raise InvalidInput.single("valid_until", "is not after valid_from")

    def check_not_ended(self, consent_id: UUID, history: ConsentHistory) -> None:
        if history.ended_how is not None:
            raise self._refusal(
                ConsentClosed,
                consent_id,
                "consent_id",
                f"consent {consent_id} was {history.ended_how}",
            )

    def check_not_lapsed(self, consent_id: UUID, history: ConsentHistory, at: datetime) -> None:
        until = history.current.valid_until
        if until is not None and at >= until:
            raise self._refusal(
                ConsentClosed,
                consent_id,
                "consent_id",
                f"consent {consent_id} ran out on {until.isoformat()}; grant a new one",
            )

    def check_in_order(self, consent_id: UUID, history: ConsentHistory, at: datetime) -> None:
        # Versions are read by time: a change dated before the last one would rewrite
        # what an earlier "as of" view relied on.
        if at < history.changed_at:
            raise self._refusal(
                ConsentRefused,
                consent_id,
                "at",
                f"consent {consent_id} last changed at {history.changed_at.isoformat()}; "
                "a later change cannot be dated before it",
            )

    def check_may_expire(self, consent_id: UUID, history: ConsentHistory, at: datetime) -> None:
        if history.until_end_of_treatment:
            return  # it ends when treatment ends, which this command records (42 CFR 2.31(a)(7))
        until = history.current.valid_until
        if until is None:
            raise self._refusal(
                ConsentRefused,
                consent_id,
                "consent_id",
                f"consent {consent_id} has no end date; revoke it instead",
            )
        if at < until:
            raise self._refusal(
                ConsentRefused,
                consent_id,
                "at",
                f"consent {consent_id} is valid until {until.isoformat()}",
            )

    def _refusal(
        self, error: type[ConsentRefused], consent_id: UUID, field: str, message: str
    ) -> ConsentRefused:
        return error(message, patient_id=self.patient_id, consent_id=consent_id, field=field)
