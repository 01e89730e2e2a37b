"""Recording clinical actions and registering patients: the use cases behind every form
and every POST under /patients. Access is checked inside the write (on the state the
command runs on), through the one write path."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from anyio import to_thread

from application.clinic import Clinic, Receipt
from application.schemas.base import CommandReceipt
from application.writer import CommandWriter, Target
from domain.access import check_record_writer, check_treating_member, denied
from domain.errors import Conflict, NotFound, NotPermittedAuthor
from domain.events import Actor, now
from domain.patient import PatientRecord
from domain.users import User
from domain.vocabulary import TREATING_ROLES

RecordCommand = Callable[[PatientRecord], None]


def receipt_of(receipt: Receipt, created_id: UUID | None = None) -> CommandReceipt:
    return CommandReceipt(
        patient_id=receipt.aggregate_id,
        version=receipt.version,
        position=receipt.position,
        created_id=created_id,
    )


def _treating(actor: Actor, patient_id: UUID) -> Target:
    """A patient's record, written only by an active treating-team member in role (checked
    on the state the command runs on, before anything else about the record is told)."""
    return Target(patient_id, PatientRecord, guard=lambda r: check_treating_member(r, actor))


def _writable(user: User, patient_id: UUID) -> Target:
    """A patient's record, written by an active treating-team member in role or by the
    patient on their own record (domain.access.check_record_writer), checked on the state
    the command runs on; what kind of entry either may record is the record's own check."""
    actor, own = user.actor, user.patient_id
    return Target(patient_id, PatientRecord, guard=lambda r: check_record_writer(r, actor, own))


async def record(
    writer: CommandWriter,
    user: User,
    patient_id: UUID,
    command: RecordCommand,
    *,
    expected_version: int | None = None,
    created_id: UUID | None = None,
) -> CommandReceipt:
    """Run one command on a patient's record as a treating-team member, or as the patient
    on their own record; a patient that does not exist is refused exactly as one that is
    not the user's to change."""
    try:
        receipt = await writer.submit(
            _writable(user, patient_id), command, expected_version=expected_version
        )
    except NotFound:
        raise denied(patient_id) from None
    return receipt_of(receipt, created_id)


def record_now(
    writer: CommandWriter, actor: Actor, patient_id: UUID, command: RecordCommand
) -> Receipt:
    """The same, for callers without an event loop (the demo loader, imports)."""
    return writer.write(_treating(actor, patient_id), command)


def new_record(
    by: Actor,
    at: datetime | None = None,
    *,
    join_team: bool = False,
    patient_id: UUID | None = None,
    **demographics: Any,
) -> PatientRecord:
    """A new patient's record (under a random id unless `patient_id` is given); with
    `join_team`, the registering clinician is the first member of the care team, in the
    same write."""
    at = at or now()
    record: PatientRecord = PatientRecord.register(by, at, patient_id=patient_id, **demographics)
    if join_team:
        record.add_team_member(
            Actor.system("registration"),
            at,
            user_id=by.user_id,
            role=by.role,
            organisation=by.organisation,
        )
    return record


def already_registered(record: PatientRecord) -> Conflict:
    return Conflict(record.id, f"a patient with MRN {record.state.mrn} is already registered")


def check_mrn_free(clinic: Clinic, record: PatientRecord) -> None:
    """Refuse an MRN a patient registered before claims holds (their records have no claim
    to collide with; no such registration can happen any more, so this read cannot race).
    Newer MRNs are held by their claim, stored with the record (`Clinic.mrn_claim`)."""
    if clinic.legacy_patient(record.state.mrn) is not None:
        raise already_registered(record)


async def register(
    writer: CommandWriter, user: User, at: datetime, **demographics: Any
) -> CommandReceipt:
    """Open a record; only a treating clinician registers, and joins the care team."""
    if user.role not in TREATING_ROLES:
        raise NotPermittedAuthor(
            f"a {user.role.value} may not register patients", field="actor.role"
        )
    contact = demographics.pop("emergency_contact", None)
    record = new_record(user.actor, at, join_team=True, **demographics)
    if contact:  # in the same write as the registration
        record.set_emergency_contact(user.actor, at, **contact)
    clinic = writer.clinic
    await to_thread.run_sync(check_mrn_free, clinic, record)
    try:
        receipt = await writer.append(record, clinic.mrn_claim(record, user.actor, at))
    except Conflict:
        raise already_registered(record) from None
    return receipt_of(receipt, receipt.aggregate_id)


def register_now(
    writer: CommandWriter,
    by: Actor,
    at: datetime | None = None,
    *,
    join_team: bool = False,
    patient_id: UUID | None = None,
    **demographics: Any,
) -> Receipt:
    """Registration for callers without an event loop (the demo loader, tests, imports);
    `patient_id` only for the demo's fixed stories."""
    at = at or now()
    record = new_record(by, at, join_team=join_team, patient_id=patient_id, **demographics)
    clinic = writer.clinic
    check_mrn_free(clinic, record)
    try:
        return writer.create(record, clinic.mrn_claim(record, by, at))
    except Conflict:
        raise already_registered(record) from None
