"""The chain's link: one SHA-256 digest per stored event, over the link before it.

Every stored event, in log order, is linked to the one before it. For the event at log
position n, whose predecessor in the log is at position p (positions may skip: PostgreSQL
burns ids in failed transactions):

    link(n) = SHA-256( link(p)                    32 bytes; 32 zero bytes before the first event
                     + n                          8 bytes, big-endian
                     + originator id              16 bytes (the UUID's bytes)
                     + originator version         8 bytes, big-endian
                     + len(topic) + topic         8-byte big-endian length, then UTF-8 bytes
                     + len(state) + state )       8-byte big-endian length, then the bytes

The state is hashed exactly as stored (after compression and encryption), so the chain can be
verified without the cipher key and any changed byte changes the link. Rows are read straight
from the events table rather than through the library's recorder, because the recorder
normalises what it reads: SQLite keeps the originator id as hex text and `UUID()` also parses
upper-case or hyphenated forms, so a row rewritten into such a form would drop out of its
aggregate while hashing the same. A row the library could not have written is "malformed".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from uuid import UUID

from domain.errors import TandemError

ZERO_LINK = bytes(32)


class ChainError(TandemError):
    """The chain cannot be read or extended."""


class MalformedEvent(ChainError):
    """A stored row the library could not have written: tampered, though not by a byte
    the hash alone would have shown."""

    def __init__(self, position: int, why: str) -> None:
        self.position, self.why = position, why
        super().__init__(f"event at position {position} is malformed: {why}")


@dataclass(frozen=True)
class StoredRow:
    """One row of the events table exactly as the driver returned it (not yet checked)."""

    position: int
    originator_id: object
    originator_version: object
    topic: object
    state: object


@dataclass(frozen=True)
class Link:
    """The chain's entry for the event at `position`: its SHA-256 digest."""

    position: int
    digest: bytes


def _u64(value: int) -> bytes:
    return value.to_bytes(8, "big")


def link_for(previous: bytes, row: StoredRow) -> bytes:
    """The link of `row` after the link `previous`, per the format above."""
    oid, version, topic, state = row.originator_id, row.originator_version, row.topic, row.state
    if isinstance(oid, str):  # SQLite: the library writes exactly `uuid.hex`
        try:
            parsed: UUID | None = UUID(hex=oid)
        except ValueError:
            parsed = None
        if parsed is None or parsed.hex != oid:
            raise MalformedEvent(row.position, "originator id is not a UUID in stored form")
        oid = parsed
    if not isinstance(oid, UUID):
        raise MalformedEvent(row.position, "originator id is not a UUID")
    if type(version) is not int or not 0 < version < 2**63:
        raise MalformedEvent(row.position, "originator version is not a positive integer")
    if not 0 < row.position < 2**63:
        raise MalformedEvent(row.position, "position is not a positive integer")
    if isinstance(state, memoryview):
        state = bytes(state)
    if not isinstance(state, bytes):
        raise MalformedEvent(row.position, "state is not stored as bytes")
    try:
        topic_bytes = topic.encode("utf-8") if isinstance(topic, str) else None
    except UnicodeEncodeError:
        topic_bytes = None
    if topic_bytes is None:
        raise MalformedEvent(row.position, "topic is not UTF-8 text")
    parts = (previous, _u64(row.position), oid.bytes, _u64(version))
    tail = (_u64(len(topic_bytes)), topic_bytes, _u64(len(state)), state)
    return hashlib.sha256(b"".join(parts + tail)).digest()
