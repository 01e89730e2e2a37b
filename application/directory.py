"""The directory of recipients: the clinic registers the organisations and people outside
it that consents may name, through the one write path, and anyone signed in may list them
(an entry holds no patient data; the consent form offers them as choices).

With a Kafka broker configured (a ShareAccess), registering an entry also issues its broker
credential and ACLs (answered once: the password is kept nowhere), and removing it revokes
them. The entry is written first and its access changed after: a broker that fails then is
BrokerUnavailable (503), and `issue_credential` (POST /directory/{entry_id}/credential,
`tandem directory credential`) is the retry, as it is the rotation."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from anyio import to_thread
from pydantic import BaseModel

from application.clinic import Clinic
from application.ports import ShareAccess
from application.reading import ReadRequest, viewer_of
from application.schemas.directory import (
    BrokerCredential,
    DirectoryReceipt,
    RecipientCreate,
    RecipientPublic,
    RecipientRemoval,
)
from application.writer import CommandWriter, Target
from domain.consent import Purpose
from domain.directory import (
    DIRECTORY_ID,
    Directory,
    Recipient,
    RecipientDirectory,
    check_may_keep_directory,
)
from domain.errors import NotPermittedAuthor, RuleViolation
from domain.events import Actor, now
from domain.record import refused_fields
from domain.users import User
from domain.vocabulary import TREATING_ROLES

if TYPE_CHECKING:
    from application.services import Services


def _target(clinic: Clinic, by: Actor) -> Target:
    def load() -> RecipientDirectory:
        return clinic.recipient_directory() or RecipientDirectory.open(by, now())

    return Target(DIRECTORY_ID, RecipientDirectory, load)


def _registration(
    by: Actor, body: RecipientCreate, created: list[UUID]
) -> Callable[[RecipientDirectory], None]:
    """The command that registers `body`, putting the new entry's id in `created`."""

    def command(directory: RecipientDirectory) -> None:
        created.append(directory.register(by, now(), **body.model_dump()))

    return command


def _removal(
    by: Actor, entry_id: UUID, body: RecipientRemoval, removed: list[Recipient]
) -> Callable[[RecipientDirectory], None]:
    def command(directory: RecipientDirectory) -> None:
        removed.append(directory.remove(by, now(), entry_id=entry_id, reason=body.reason))

    return command


def public(entry: Recipient) -> RecipientPublic:
    return RecipientPublic(
        entry_id=entry.entry_id,
        kind=entry.kind,
        name=entry.name,
        role=entry.role,
        email=entry.email,
    )


def listing(directory: Directory) -> list[RecipientPublic]:
    """The entries, by name."""
    return [public(e) for e in sorted(directory.entries.values(), key=lambda e: (e.name, e.names))]


class DirectoryUseCases:
    def __init__(
        self, clinic: Clinic, writer: CommandWriter, access: ShareAccess | None = None
    ) -> None:
        self.clinic = clinic
        self.writer = writer
        self.access = access  # None: no broker is configured; entries get no credential

    async def register(self, by: Actor, body: RecipientCreate) -> DirectoryReceipt:
        """Add an entry; refused with the field and the reason, and nothing appended, when
        it is incomplete, in a role no consent opens anything to, or already registered."""
        created: list[UUID] = []
        receipt = await self.writer.submit(
            _target(self.clinic, by), _registration(by, body, created)
        )
        credential = await to_thread.run_sync(self._issue, created[-1])
        return DirectoryReceipt(
            entry_id=created[-1],
            version=receipt.version,
            position=receipt.position,
            broker_credential=credential,
        )

    def register_now(self, by: Actor, **entry: object) -> DirectoryReceipt:
        """`register` for callers without an event loop (the CLI, the demo loader)."""
        with refused_fields():
            body = RecipientCreate.model_validate(entry)
        created: list[UUID] = []
        receipt = self.writer.write(_target(self.clinic, by), _registration(by, body, created))
        return DirectoryReceipt(
            entry_id=created[-1],
            version=receipt.version,
            position=receipt.position,
            broker_credential=self._issue(created[-1]),
        )

    async def remove(self, by: Actor, entry_id: UUID, body: RecipientRemoval) -> DirectoryReceipt:
        """Take an entry out of the directory, then revoke its broker access."""
        removed: list[Recipient] = []
        receipt = await self.writer.submit(
            _target(self.clinic, by), _removal(by, entry_id, body, removed)
        )
        if self.access is not None:
            await to_thread.run_sync(self.access.revoke, removed[-1])
        return DirectoryReceipt(
            entry_id=entry_id, version=receipt.version, position=receipt.position
        )

    def remove_now(self, by: Actor, entry_id: object, reason: object) -> DirectoryReceipt:
        """`remove` for callers without an event loop (the CLI)."""
        with refused_fields():
            body = RecipientRemoval.model_validate({"reason": reason})
        key = self.clinic.directory().entry(entry_id, "entry_id").entry_id
        removed: list[Recipient] = []
        receipt = self.writer.write(_target(self.clinic, by), _removal(by, key, body, removed))
        if self.access is not None:
            self.access.revoke(removed[-1])
        return DirectoryReceipt(entry_id=key, version=receipt.version, position=receipt.position)

    async def issue_credential(self, by: Actor, entry_id: UUID) -> BrokerCredential:
        return await to_thread.run_sync(self.issue_credential_now, by, entry_id)

    def issue_credential_now(self, by: Actor, entry_id: object) -> BrokerCredential:
        """A new broker credential for an entry (its first, or one replacing a lost or
        leaked one, which stops working); refused when no broker is configured."""
        check_may_keep_directory(by)
        entry = self.clinic.directory().entry(entry_id, "entry_id")
        if self.access is None:
            raise RuleViolation(
                "no Kafka broker is configured (TANDEM_KAFKA_ADMIN_USERNAME)", field="entry_id"
            )
        return self.access.issue(entry)

    def _issue(self, entry_id: UUID) -> BrokerCredential | None:
        if self.access is None:
            return None
        return self.access.issue(self.clinic.directory().entries[entry_id])

    async def listing(self) -> list[RecipientPublic]:
        return listing(await to_thread.run_sync(self.clinic.directory))


class UnresolvedConsent(BaseModel):
    """A consent stored before the directory whose recipient text names no entry: it opens
    nothing until the clinic resolves it
    (POST /patients/{patient_id}/consents/{consent_id}/recipient)."""

    patient_id: UUID
    consent_id: UUID
    recipient_kind: str
    recipient: str
    granted_at: str
    data_classes: list[str]
    purpose: str


async def unresolved_consents(services: Services, user: User) -> list[UnresolvedConsent]:
    """The consents waiting for a directory entry, on the patients of the reader's caseload.

    For the treating team, who keep the consents with the patient (domain.access.
    may_manage_consents) and can resolve them; compliance sees audit records, never a
    patient's consents. Each patient's consents are read, and recorded, through the one
    audited read (its consent-list view), as the board reads each patient's care view."""
    if user.role not in TREATING_ROLES:
        raise NotPermittedAuthor(
            f"a {user.role.value} keeps no patient's consents", field="actor.role"
        )
    viewer = viewer_of(user)
    caseload = await to_thread.run_sync(services.reader.index.view.caseload, user.email)
    found: list[UnresolvedConsent] = []
    requests = [
        ReadRequest(viewer, patient_id, "consent-list", Purpose.TREATMENT)
        for patient_id, _role in caseload
    ]
    answers = await services.reads.read_listing(requests, user.actor)
    for request, answer in zip(requests, answers, strict=True):
        if answer is None:
            continue
        patient_id = request.patient_id
        given: list[dict[str, Any]] = answer.json().get("given") or []
        found.extend(
            UnresolvedConsent(
                patient_id=patient_id,
                consent_id=UUID(c["consent_id"]),
                recipient_kind=c["recipient_kind"],
                recipient=c["recipient"],
                granted_at=c["granted_at"],
                data_classes=c["data_classes"],
                purpose=c["purpose"],
            )
            for c in given
            if not c["resolved"] and c["ended"] is None
        )
    return found
