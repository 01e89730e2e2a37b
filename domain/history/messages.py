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
    acknowledged: list[Fact] = field(default_factory=list)  # in the order given

    @property
    def sender(self) -> str:
        return self.sent.author

    @property
    def body(self) -> str:
        return str(self.sent.payload.get("body") or "")

    @property
    def in_reply_to(self) -> str | None:
        found = self.sent.payload.get("in_reply_to")
        return str(found) if found else None


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
            found[str(p["message_id"])].acknowledged.append(fact)
    return found


def threads(facts: Iterable[Fact]) -> list[list[Message]]:
    """The messages as threads: each first message with its replies (and theirs), in the
    order sent; the thread last written to first."""
    found = messages(facts)
    roots: dict[str, list[Message]] = {}
    root_of: dict[str, str] = {}
    for m in found.values():
        parent = m.in_reply_to
        root = root_of.get(parent, parent) if parent in found else None
        root_of[m.message_id] = root or m.message_id
        roots.setdefault(root_of[m.message_id], []).append(m)
    return sorted(roots.values(), key=lambda t: t[-1].sent.position, reverse=True)
