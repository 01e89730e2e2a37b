"""The ports the application names and the adapters implement.

The application layer never imports an adapter: it is handed these by the composition
root (`bootstrap`), which is the only place that knows which implementation runs. A test
hands it a fake that subclasses the port instead.

    IndexView      the record index's storage (projections.record_index)
    ChainStore     where the hash chain's links are kept beside the stored rows
    HeadSigner     signs chain heads (Ed25519) and checks heads signed by its current or
                   retired keys
    HeadLog        where signed heads are published, out of the data directory's reach
    Backups        consistent copies of the data directory, and putting one back
    Sender         how a notification leaves (log, SMTP)
    Tokens         signed bearer tokens
    Passwords      password hashing and verification
    ShareAccess    a directory entry's credential and ACLs on the Kafka broker
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from application.chain_link import ChainError, Link, StoredRow
from application.heads import PublishedHead
from application.schemas.directory import BrokerCredential
from domain.directory import Recipient
from projections.record_index import IndexView

__all__ = [
    "Backup",
    "Backups",
    "ChainStore",
    "ChainStoreError",
    "HeadLog",
    "HeadSigner",
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


class HeadSigner(ABC):
    """Port: signs chain heads with the current key; checks a head against the public key
    its `key_id` names (the current one or a retired one: heads signed before a rotation
    still verify)."""

    @property
    @abstractmethod
    def key_id(self) -> str: ...

    @abstractmethod
    def sign(self, payload: bytes) -> bytes: ...

    @abstractmethod
    def check(self, key_id: str, payload: bytes, signature: bytes) -> bool:
        """Whether `signature` over `payload` is by the key `key_id` names (False for a key
        it does not know)."""


class HeadLog(ABC):
    """Port: the append-only place signed heads are published.

    `publish` holds the log's lock (across processes) while it reads the last entry, asks
    `decide` what to append after it (None: nothing) and appends that."""

    where: str  # a human-readable name of the place

    @abstractmethod
    def last(self) -> PublishedHead | None:
        """The latest entry, or None for an empty log."""

    @abstractmethod
    def publish(
        self, decide: Callable[[PublishedHead | None], PublishedHead | None]
    ) -> PublishedHead | None:
        """Append what `decide` returns given the last entry; return it."""


@dataclass(frozen=True)
class Backup:
    """A backup's own account of itself: the chain head it was taken at, and when."""

    position: int
    link: str  # hex
    taken_at: str  # UTC, ISO 8601
    where: str


class Backups(ABC):
    """Port: consistent copies of the store's files, and putting one back."""

    @abstractmethod
    def take(self, target: Path, taken_at: str) -> Backup:
        """Copy the store into `target` (a new or empty folder) consistently, even while
        it is being written, and describe the copy."""

    @abstractmethod
    def inspect(self, source: Path) -> tuple[Backup, ChainStore]:
        """A backup's description and a chain store reading its copy of the log."""

    @abstractmethod
    def put_back(self, source: Path) -> None:
        """Replace the store's files with the backup's (the service must be stopped)."""


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

    @abstractmethod
    def revoke(self, token: str) -> None:
        """Sign this token out: from now on it verifies no more (a restart included), though
        its signature and expiry are still good."""


class RevokedTokens(ABC):
    """Port: the ids of bearer tokens signed out before they expired."""

    @abstractmethod
    def add(self, token_id: str, expires: float) -> None:
        """Remember `token_id` as signed out until `expires` (seconds since the epoch)."""

    @abstractmethod
    def __contains__(self, token_id: object) -> bool:
        """Whether `token_id` was signed out (and has not expired since)."""


class Sessions(ABC):
    """Port: the server-side state of page sessions. A browser holds only a random session
    id; the server decides on every request whether it is still live, so signing out, a
    deactivation or an idle spell ends it for good (a restart included)."""

    idle_seconds: float
    max_seconds: float

    @abstractmethod
    def start(self, email: str) -> str:
        """A new session for this user: its id, to hand to the browser once."""

    @abstractmethod
    def resolve(self, session_id: str) -> str | None:
        """The email of a live session (and it counts as used now), else None: unknown,
        ended, idle longer than `idle_seconds` or older than `max_seconds`."""

    @abstractmethod
    def end(self, session_id: str) -> None:
        """Sign this session out."""

    @abstractmethod
    def end_all(self, email: str) -> None:
        """End every session of this user (a deactivation)."""


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
