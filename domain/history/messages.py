"""Messages between the team and the patient: each with whom it still waits for (its
recipients who have not acknowledged it)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from domain.messaging import MessageAcknowledged, MessageSent
from domain.record import kind_of
from domain.rules.care import Fact

SENT, ACKNOWLEDGED = kind_of(MessageSent), kind_of(MessageAcknowledged)


@dataclass
class Message:
    message_id: str
    sent: Fact
    to: list[str]
    subject: str
    waiting_for: set[str] = field(default_factory=set)

    @property
    def sender(self) -> str:
        return self.sent.author


def messages(facts: Iterable[Fact]) -> dict[str, Message]:
    """Every message the facts send, by message id, in the order sent."""
    found: dict[str, Message] = {}
    for fact in facts:
        p = fact.payload
        if fact.kind == SENT:
            to = [str(user) for user in p["to"]]
            found[str(p["message_id"])] = Message(
                str(p["message_id"]), fact, to, str(p["subject"]), set(to)
            )
        elif fact.kind == ACKNOWLEDGED and str(p["message_id"]) in found:
            found[str(p["message_id"])].waiting_for.discard(fact.author)
    return found
