"""The ports the application names and the adapters implement.

The application layer never imports an adapter: it is handed these by the composition
root (`bootstrap`), which is the only place that knows which implementation runs. A test
hands it a fake that subclasses the port instead.

    IndexView      the record index's storage (projections.record_index)
    ChainStore     where the hash chain's links are kept beside the stored rows
    Sender         how a notification leaves (log, SMTP)
    Tokens         signed bearer tokens
    Passwords      password hashing and verification
    ShareAccess    a directory entry's credential and ACLs on the Kafka broker
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.chain_link import ChainError, Link, StoredRow
from application.schemas.directory import BrokerCredential
from domain.directory import Recipient
from projections.record_index import IndexView

__all__ = [
    "ChainStore",
    "ChainStoreError",
    "IndexView",
    "InvalidToken",
    "Notification",
    "Passwords",
    "SendFailed",
    "Sender",
    "ShareAccess",
    "Tokens",
]


class ChainStoreError(ChainError):
    """The database holding the events and the chain refused or could not be reached."""


class ChainStore(ABC):
    """Port: reads the log's rows exactly as stored, and keeps their links.

    Positions are log positions (notification ids). Reads take `start` (None: from the
    lowest), an inclusive `stop` and a `limit`, and return rows in position order.
    Implementations are safe to share between threads.
    """

    events_table: str  # the events table it reads, as the library names it

    @abstractmethod
    def events(self, start: int | None, limit: int, stop: int | None = None) -> list[StoredRow]:
        """Stored events with start <= position <= stop, at most `limit` of them."""

    @abstractmethod
    def count_events(self, after: int) -> int:
        """How many stored events lie after position `after`."""

    @abstractmethod
    def links(self, start: int | None, limit: int, stop: int | None = None) -> list[Link]:
        """Stored links with start <= position <= stop, at most `limit` of them."""

    @abstractmethod
    def head(self) -> Link | None:
        """The link at the highest position, or None for an empty chain."""

    @abstractmethod
    def append(self, links: Sequence[Link], after: int) -> bool:
        """Store `links` atomically if the head is still at position `after` (0: empty);
        False, storing nothing, if another extender moved it first."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> ChainStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SendFailed(Exception):
    """The notification could not be handed to its transport."""


@dataclass(frozen=True)
class Notification:
    to: str
    subject: str
    body: str


class Sender(ABC):
    """Port: hands a notification to its transport."""

    channel: str

    @abstractmethod
    def send(self, notification: Notification) -> None:
        """Hand the notification over, or raise SendFailed."""


class InvalidToken(Exception):
    """The token is missing, forged, expired or malformed."""


class Tokens(ABC):
    """Port: issues and checks signed bearer tokens."""

    secret: str
    lifetime: timedelta

    @abstractmethod
    def issue(self, email: str, role: str, now: datetime | None = None) -> str:
        """A token for this user, valid for `lifetime`."""

    @abstractmethod
    def subject(self, token: str) -> str:
        """The email the token was issued to, or InvalidToken."""


class Passwords(ABC):
    """Port: the only place a password is touched."""

    @abstractmethod
    def hash(self, password: str) -> str:
        """A hash to store; ValueError naming the rule a password breaks."""

    @abstractmethod
    def verify(self, password: str, password_hash: str | None) -> bool:
        """Whether the password matches; with no hash, the same effort and False."""


class ShareAccess(ABC):
    """What a directory entry may do on the Kafka broker the relay shares through."""

    @abstractmethod
    def issue(self, entry: Recipient) -> BrokerCredential:
        """A new credential for the entry (ending any earlier one) that may read its own
        topic and consumer group and nothing else, and the relay's right to write that
        topic. Raises BrokerUnavailable if the broker cannot make the change."""

    @abstractmethod
    def revoke(self, entry: Recipient) -> None:
        """End the entry's credential and remove every right on its topic."""
