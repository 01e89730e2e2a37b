"""Messages between members of a patient's care team, tied to what they concern."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from pydantic import Field

from domain.errors import RuleViolation
from domain.events import Actor
from domain.medication import OmitsNewFields
from domain.record import ANY_TEAM_ROLE, TREATING, RecordBase, RecordEvent
from domain.vocabulary import DataClass, Role, ShortText, Text

# Who may write to the team: every team role. A supporter writes too (what they notice,
# questions about the plan); what any reader then sees is for the access policy to decide.
CORRESPONDENTS = TREATING | {
    Role.PRIMARY_CARE,
    Role.SCHOOL_COUNSELOR,
    Role.EMPLOYER,
    Role.PATIENT,
    Role.SUPPORTER,
}


@dataclass
class MessageState:
    sender: str
    recipients: frozenset[str]
    acknowledged_by: set[str] = field(default_factory=set)
    subject: str = ""
    thread: UUID | None = None  # the first message of its thread (None: it is the first)


class MessageSent(OmitsNewFields):
    default_class: ClassVar[DataClass] = DataClass.MESSAGE
    authors: ClassVar[frozenset[Role]] = CORRESPONDENTS
    omitted_when_none: ClassVar[frozenset[str]] = frozenset({"in_reply_to"})

    message_id: UUID
    to: list[ShortText] = Field(min_length=1, max_length=20)
    subject: ShortText
    body: Text
    # Record versions (positions in this patient's stream) the message is about.
    regarding: list[int] = Field(default_factory=list, max_length=20)
    # The message this one answers (a reply); left out of the JSON when unset, so a message
    # stored before replies keeps its payload byte for byte.
    in_reply_to: UUID | None = None

    def apply(self, aggregate: Any) -> None:
        answered = aggregate.state.messages.get(self.in_reply_to) if self.in_reply_to else None
        aggregate.state.messages[self.message_id] = MessageState(
            self.actor.user_id,
            frozenset(self.to),
            subject=self.subject,
            thread=(answered.thread or self.in_reply_to) if answered else None,
        )

    def summary(self) -> str:
        return f"message from {self.actor.user_id} to {', '.join(self.to)}: {self.subject}"


class MessageAcknowledged(RecordEvent):
    """A recipient has read a message. Any active member the message was sent to may
    acknowledge it, whatever their role: being a recipient is the rule (see
    acknowledge_message), not the author table."""

    default_class: ClassVar[DataClass] = DataClass.MESSAGE
    authors: ClassVar[frozenset[Role]] = ANY_TEAM_ROLE

    message_id: UUID

    def apply(self, aggregate: Any) -> None:
        aggregate.state.messages[self.message_id].acknowledged_by.add(self.actor.user_id)

    def summary(self) -> str:
        return f"{self.actor.user_id} acknowledged message {self.message_id}"


class ReminderSent(RecordEvent):
    """A reminder went out (appointment, questionnaire, dose): kept so none goes twice."""

    default_class: ClassVar[DataClass] = DataClass.MESSAGE
    authors: ClassVar[frozenset[Role]] = frozenset({Role.SYSTEM})
    part2_eligible: ClassVar[bool] = False

    key: ShortText
    kind: ShortText
    channel: ShortText
    subject: ShortText

    def summary(self) -> str:
        return f"{self.kind} reminder sent by {self.channel}: {self.subject}"


class MessagingSection(RecordBase):
    def send_message(
        self,
        by: Actor,
        at: datetime,
        *,
        message_id: UUID,
        to: list[str],
        subject: str,
        body: str,
        regarding: list[int] | None = None,
    ) -> None:
        # The author first: the recipient check below tells who is on the team, and an
        # outsider must not learn that (a Part 2 member's presence discloses SUD care).
        self.check_may_author(MessageSent, by)
        if message_id in self.state.messages:
            raise RuleViolation(
                f"message {message_id} already exists", patient_id=self.id, field="message_id"
            )
        for index, user_id in enumerate(to):
            member = self.state.team.get(user_id)
            if member is None or not member.active:
                raise RuleViolation(
                    f"recipient {user_id} is not on the care team",
                    patient_id=self.id,
                    field=f"to.{index}",
                )
        for index, version in enumerate(regarding or []):
            if not 1 <= version <= self.version:
                raise RuleViolation(
                    f"record position {version} does not exist (last is {self.version})",
                    patient_id=self.id,
                    field=f"regarding.{index}",
                )
        self._record(
            MessageSent,
            by,
            at,
            message_id=message_id,
            to=to,
            subject=subject,
            body=body,
            regarding=regarding or [],
        )

    def reply_to_message(
        self, by: Actor, at: datetime, *, message_id: UUID, reply_id: UUID, body: str
    ) -> None:
        """A reply to a message, to everyone else on it (its sender and recipients) who is
        still on the care team, under the same subject ("Re: ...")."""
        self.check_may_author(MessageSent, by)
        self.check_known("message", message_id, self.state.messages, "message_id")
        answered: MessageState = self.state.messages[message_id]
        if by.user_id != answered.sender and by.user_id not in answered.recipients:
            raise RuleViolation(
                f"user {by.user_id} is neither the sender nor a recipient of message {message_id}",
                patient_id=self.id,
                field="message_id",
            )
        if reply_id in self.state.messages:
            raise RuleViolation(
                f"message {reply_id} already exists", patient_id=self.id, field="reply_id"
            )
        to = sorted(
            user
            for user in answered.recipients | {answered.sender}
            if user != by.user_id and (m := self.state.team.get(user)) is not None and m.active
        )
        if not to:
            raise RuleViolation(
                "no one else on this message is still on the care team",
                patient_id=self.id,
                field="message_id",
            )
        subject = (
            answered.subject if answered.subject.startswith("Re: ") else (f"Re: {answered.subject}")
        )
        self._record(
            MessageSent,
            by,
            at,
            message_id=reply_id,
            to=to,
            subject=subject[:200],
            body=body,
            in_reply_to=message_id,
        )

    def acknowledge_message(self, by: Actor, at: datetime, *, message_id: UUID) -> None:
        # On the team, in the role they act in, before anything about the message is said.
        self.check_may_author(MessageAcknowledged, by)
        self.check_known("message", message_id, self.state.messages, "message_id")
        message: MessageState = self.state.messages[message_id]
        if by.user_id not in message.recipients:
            raise RuleViolation(
                f"user {by.user_id} is not a recipient of message {message_id}",
                patient_id=self.id,
                field="message_id",
            )
        if by.user_id in message.acknowledged_by:
            raise RuleViolation(
                f"message {message_id} was already acknowledged by {by.user_id}",
                patient_id=self.id,
                field="message_id",
            )
        self._record(MessageAcknowledged, by, at, message_id=message_id)

    def record_reminder_sent(
        self, by: Actor, at: datetime, *, key: str, kind: str, channel: str, subject: str
    ) -> None:
        if any(getattr(e, "key", None) == key for e in self.pending_events):
            raise RuleViolation(f"reminder {key} already recorded", patient_id=self.id, field="key")
        self._record(ReminderSent, by, at, key=key, kind=kind, channel=channel, subject=subject)
