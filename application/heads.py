"""A published chain head: the chain's tail (position and link) at a moment, signed.

Each head is kept where whoever rewrites the data directory cannot reach it (the head log,
a settings-named path outside the data directory), so a log cut at its tail or a data
directory copied back by hand no longer matches the last head published for it.

A head's signed payload is its fields (all but the signature) as canonical JSON: sorted
keys, no spaces, UTF-8. `restored` names the last restore the chain descends from: a
restore entry (kind "restore") re-anchors the chain openly at a backup's position, and every
head after it carries that restore forward, so verify can always say where the chain was
re-anchored.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

from application.chain_link import ChainError

Kind = Literal["head", "restore"]
HEAD: Kind = "head"
RESTORE: Kind = "restore"


class HeadLogError(ChainError):
    """The head log or the signing key cannot be read, written or trusted."""


@dataclass(frozen=True)
class Restored:
    """A restore from a backup: the backup's chain head and when it was taken and put back."""

    backup_position: int
    backup_link: str
    backup_taken: str
    restored_at: str


@dataclass(frozen=True)
class PublishedHead:
    """One entry of the head log. `time` is when it was published (UTC, ISO 8601) and
    `key_id` names the Ed25519 key that signed it."""

    kind: Kind
    position: int
    link: str  # hex
    time: str
    key_id: str
    signature: str = ""  # base64; empty until signed
    restored: Restored | None = None

    def payload(self) -> bytes:
        """The bytes the signature covers."""
        fields = self.record()
        fields.pop("signature")
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, fields: dict[str, Any]) -> PublishedHead:
        try:
            restored = fields.get("restored")
            return cls(
                kind=fields["kind"],
                position=int(fields["position"]),
                link=str(fields["link"]),
                time=str(fields["time"]),
                key_id=str(fields["key_id"]),
                signature=str(fields["signature"]),
                restored=Restored(**restored) if restored else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise HeadLogError(f"a head log entry is not a published head: {exc}") from exc

    def describe(self) -> str:
        what = "re-anchor" if self.kind == RESTORE else "head"
        return (
            f"the {what} published at position {self.position} at {self.time} (key {self.key_id})"
        )
