"""The access policy: one place that decides who may read or write a patient's record.

Deny by default. Until consents arrive, only active members of the patient's treating
team (therapist, prescriber) may read or write (minimum necessary, 45 CFR 164.502(b)).
Psychotherapy notes are visible to their author only (45 CFR 164.508(a)(2): any other use
needs a separate authorization, which this system does not yet record).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING
from uuid import UUID

from domain.errors import AccessDenied
from domain.events import Actor
from domain.vocabulary import TREATING_ROLES, DataClass

if TYPE_CHECKING:
    from domain.record import RecordBase, RecordEvent


def denied(patient_id: UUID) -> AccessDenied:
    """The one refusal for 'no such patient' and 'not yours to see': indistinguishable."""
    return AccessDenied(patient_id)


def check_treating_member(record: RecordBase, actor: Actor) -> None:
    member = record.state.team.get(actor.user_id)
    if (
        member is None
        or not member.active
        or member.role != actor.role
        or member.role not in TREATING_ROLES
    ):
        raise denied(record.id)


def may_see(event: RecordEvent, actor: Actor) -> bool:
    if event.data_class == DataClass.PSYCHOTHERAPY_NOTE:
        return event.actor.user_id == actor.user_id
    return True


def visible_events(events: Iterable[RecordEvent], actor: Actor) -> list[RecordEvent]:
    return [e for e in events if may_see(e, actor)]
