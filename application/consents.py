"""Consents: granted by the patient (or documented by a treating clinician from a signed
authorization), amended, revoked, through the one write path. A revocation counts from the
very next read: reads load the patient's consents from the store itself."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from anyio import to_thread

from application.clinic import Clinic
from application.reading import viewer_of
from application.recording import receipt_of
from application.schemas.base import CommandReceipt
from application.schemas.consents import (
    ConsentAmendment,
    ConsentCreate,
    ConsentRevocation,
    RecipientResolution,
)
from application.writer import CommandWriter, Target
from domain.access import denied, may_manage_consents
from domain.consent import PatientConsents, consents_id_for
from domain.directory import Directory, Recipient
from domain.errors import ConsentRefused, InvalidInput, NotFound
from domain.events import now
from domain.users import User

ConsentCommand = Callable[[PatientConsents], None]


class Consents:
    def __init__(self, clinic: Clinic, writer: CommandWriter) -> None:
        self.clinic = clinic
        self.writer = writer

    async def _check(self, user: User, patient_id: UUID) -> None:
        """Who may keep this patient's consents (a missing patient is refused alike)."""
        try:
            record = await to_thread.run_sync(self.clinic.patient, patient_id)
        except NotFound:
            raise denied(patient_id) from None
        if not may_manage_consents(viewer_of(user), patient_id, record.state.team):
            raise denied(patient_id)

    async def _entry(self, recipient: str) -> tuple[Directory, Recipient]:
        """The directory entry a command names; refused on field `recipient` if empty or
        unknown (before anything is appended)."""
        directory = await to_thread.run_sync(self.clinic.directory)
        return directory, directory.entry(recipient, "recipient")

    async def _act(
        self, user: User, patient_id: UUID, command: ConsentCommand, created: UUID | None = None
    ) -> CommandReceipt:
        """Check who may keep this patient's consents, then act through the write path."""
        await self._check(user, patient_id)
        return await self._write(user, patient_id, command, created)

    async def _write(
        self, user: User, patient_id: UUID, command: ConsentCommand, created: UUID | None = None
    ) -> CommandReceipt:
        """Act through the write path, for a command whose caller has run `_check`."""

        def load() -> PatientConsents:
            found = self.clinic.consents(patient_id)
            return found or PatientConsents.open(user.actor, now(), patient_id)

        target = Target(consents_id_for(patient_id), PatientConsents, load)
        receipt = await self.writer.submit(target, command)
        return receipt_of(receipt, created).model_copy(update={"patient_id": patient_id})

    async def grant(self, user: User, patient_id: UUID, body: ConsentCreate) -> CommandReceipt:
        """Record a consent: which directory entry receives which data classes, for what
        purpose and period. A recipient that is empty or no entry of the directory (a typo
        of a name, say) is refused on field `recipient`, and nothing is appended."""
        await self._check(user, patient_id)
        _, entry = await self._entry(body.recipient)
        if body.recipient_kind is not None and body.recipient_kind != entry.kind:
            raise InvalidInput.single(
                "recipient_kind", f"entry {entry.entry_id} is an entry of kind {entry.kind}"
            )
        at = body.clinical_time or now()
        fields = body.model_dump(
            exclude={"clinical_time", "valid_from", "recipient", "recipient_kind"}
        )
        return await self._write(
            user,
            patient_id,
            lambda c: c.grant(
                user.actor,
                at,
                valid_from=body.valid_from or at,
                recipient_kind=entry.kind,
                recipient=entry.names,
                recipient_id=entry.entry_id,
                **fields,
            ),
            body.consent_id,
        )

    async def resolve_recipient(
        self, user: User, patient_id: UUID, consent_id: UUID, body: RecipientResolution
    ) -> CommandReceipt:
        """Resolve a consent stored before the directory, whose recipient text matches no
        entry, to the entry it meant (recorded; until then it opens nothing)."""
        await self._check(user, patient_id)
        directory, entry = await self._entry(body.recipient)
        at = body.clinical_time or now()

        def command(c: PatientConsents) -> None:
            history = c.check_known_consent(consent_id)
            matched = directory.resolved(history.current)
            if matched is not None and matched.recipient_id is not None:
                raise ConsentRefused(
                    f"consent {consent_id} already names directory entry "
                    f"{matched.recipient_id}; to change the recipient, grant a new one",
                    patient_id=patient_id,
                    consent_id=consent_id,
                    field="consent_id",
                )
            c.resolve_recipient(
                user.actor,
                at,
                consent_id=consent_id,
                recipient_id=entry.entry_id,
                recipient_kind=entry.kind,
                recipient=entry.names,
            )

        return await self._write(user, patient_id, command)

    async def amend(
        self, user: User, patient_id: UUID, consent_id: UUID, body: ConsentAmendment
    ) -> CommandReceipt:
        at = body.clinical_time or now()
        return await self._act(
            user,
            patient_id,
            lambda c: c.amend(
                user.actor,
                at,
                consent_id=consent_id,
                data_classes=body.data_classes,
                valid_until=body.valid_until,
            ),
        )

    async def revoke(
        self, user: User, patient_id: UUID, consent_id: UUID, body: ConsentRevocation
    ) -> CommandReceipt:
        """Revoke in writing (45 CFR 164.508(b)(5), 42 CFR 2.31): nothing new flows after it."""
        at = body.clinical_time or now()
        return await self._act(
            user,
            patient_id,
            lambda c: c.revoke(user.actor, at, consent_id=consent_id, reason=body.reason),
        )
