"""Anchoring the hash chain: signed heads published out of the data directory's reach, and
the log checked against the last one.

The chain alone (application/hash_chain.py) shows a changed, inserted or removed row in the
middle, but not a cut at the tail (rows and links removed together) nor a whole data
directory copied back by hand. `Anchor.link()` extends the chain and publishes its new tail
as a signed head (the writer wakes it after every group commit, and the service links once
more as it stops); `Anchor.verify()` recomputes the chain, then compares it with the last
published head and says which head that was. A head is published only if the stored chain
still holds the last published one: once the log has been rolled back, nothing new is
published over it, so the disagreement stays visible until someone restores openly.

A restore (`Anchor.reanchor`) is the one open way back: it publishes a signed entry saying
"restored from a backup taken at position N at time T", after which verify compares with
that entry and says the chain was re-anchored.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from application.chain_link import ChainError
from application.hash_chain import HashChain, Verification
from application.heads import HEAD, RESTORE, Kind, PublishedHead, Restored
from application.ports import Backup, HeadLog, HeadSigner

logger = logging.getLogger(__name__)

NO_HEAD_LOG = (
    "no published head to compare with: TANDEM_HEAD_LOG is not set, so a cut at the log's "
    "tail or a data directory copied back by hand cannot be detected"
)


class RolledBack(ChainError):
    """The stored chain no longer holds the last published head."""


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class AnchorCheck:
    """How the log compares with the last published head. `anchored`: there was a head to
    compare with; `ok`: nothing disagrees (True without a head: say so, see `note`)."""

    ok: bool
    anchored: bool
    note: str
    head: PublishedHead | None = None
    broken_at: int | None = None


@dataclass(frozen=True)
class LogVerification:
    """The chain's own verification and the comparison with the last published head."""

    chain: Verification
    anchor: AnchorCheck

    @property
    def intact(self) -> bool:
        return self.chain.intact and self.anchor.ok

    @property
    def first_broken(self) -> int | None:
        if not self.chain.intact:
            return self.chain.first_broken
        return self.anchor.broken_at

    @property
    def reason(self) -> str:
        if not self.chain.intact:
            return f"{self.chain.reason}; {self.anchor.note}"
        if not self.anchor.ok:
            return self.anchor.note
        return f"{self.chain.reason}; {self.anchor.note}"


class Anchor:
    """Publishes the chain's signed heads and checks the log against the last one. Without
    a head log (`log` None) it only links, and verify says that nothing was compared."""

    def __init__(
        self,
        chain: HashChain,
        signer: HeadSigner | None = None,
        log: HeadLog | None = None,
        clock: Callable[[], str] = utc_now,
    ) -> None:
        if (signer is None) != (log is None):
            raise ValueError("a head log needs a signing key, and a signing key a head log")
        self.chain, self.signer, self.log, self.clock = chain, signer, log, clock

    @property
    def publishes(self) -> bool:
        return self.log is not None

    # --- publishing -----------------------------------------------------------------------

    def link(self) -> int:
        """Link every stored event, then publish the chain's new tail as a signed head
        (once per call, however many events it covers). RolledBack, publishing nothing,
        if the stored chain no longer holds the last published head."""
        position = self.chain.extend()
        if self.log is not None:
            self.log.publish(self._next_head)
        return position

    def _next_head(self, last: PublishedHead | None) -> PublishedHead | None:
        if last is not None:
            disagreement = self._disagreement(last)
            if disagreement is not None:
                raise RolledBack(disagreement[1])
        tail = self.chain.store.head()  # now, under the log's lock: another may have linked
        if tail is None or (last is not None and tail.position <= last.position):
            return None
        restored = last.restored if last is not None else None
        return self._signed(HEAD, tail.position, tail.digest.hex(), restored)

    def reanchor(self, backup: Backup) -> PublishedHead | None:
        """Publish, openly, that the log was put back to `backup` (its position and link):
        from now on the log is compared with this entry. None without a head log."""
        if self.log is None:
            return None
        restored = Restored(backup.position, backup.link, backup.taken_at, self.clock())
        return self.log.publish(
            lambda _: self._signed(RESTORE, backup.position, backup.link, restored)
        )

    def _signed(
        self, kind: Kind, position: int, link: str, restored: Restored | None
    ) -> PublishedHead:
        assert self.signer is not None  # set together with the log (checked in __init__)
        head = PublishedHead(
            kind=kind,
            position=position,
            link=link,
            time=self.clock(),
            key_id=self.signer.key_id,
            restored=restored,
        )
        signature = base64.b64encode(self.signer.sign(head.payload())).decode()
        return replace(head, signature=signature)

    # --- checking -------------------------------------------------------------------------

    def _disagreement(self, head: PublishedHead) -> tuple[int, str] | None:
        """Where and why the stored chain disagrees with `head`, or None."""
        assert self.signer is not None
        try:
            signature = base64.b64decode(head.signature, validate=True)
        except ValueError:
            signature = b""
        if not self.signer.check(head.key_id, head.payload(), signature):
            return head.position, (
                f"{head.describe()} does not verify: its key is unknown or the entry was "
                "forged or changed"
            )
        stored = self.chain.link_at(head.position)
        if stored is None:
            tail = self.chain.store.head()
            end = tail.position if tail is not None else 0
            return head.position, (
                f"the log ends at position {end}, before {head.describe()}: events were cut "
                "from its tail or the data directory was rolled back"
            )
        if stored.digest.hex() != head.link:
            return head.position, (
                f"the link at position {head.position} differs from {head.describe()}: the "
                "log was rolled back or rewritten"
            )
        return None

    def check(self) -> AnchorCheck:
        """Compare the stored chain with the last published head."""
        if self.log is None:
            return AnchorCheck(True, False, NO_HEAD_LOG)
        head = self.log.last()
        if head is None:
            return AnchorCheck(True, False, f"no head published yet in {self.log.where}")
        disagreement = self._disagreement(head)
        if disagreement is not None:
            at, why = disagreement
            return AnchorCheck(False, True, why, head, at)
        note = f"matches {head.describe()} in {self.log.where}"
        if head.restored is not None:
            r = head.restored
            note += (
                f"; re-anchored from a backup taken at position {r.backup_position} at "
                f"{r.backup_taken} (restored at {r.restored_at})"
            )
        return AnchorCheck(True, True, note, head)

    def verify(self, link: bool = True) -> LogVerification:
        """Recompute the chain and compare it with the last published head; with `link`,
        and only if nothing disagrees, first link (and publish) what was written since."""
        found = LogVerification(self.chain.verify(), self.check())
        if found.intact and link:  # never extend (or publish) past a break
            self.link()
            found = LogVerification(self.chain.verify(), self.check())
        return found


class ChainKeeper:
    """Keeps the chain linked and its head published: woken after every group commit (so
    the signing happens once per commit's tail, never per event, and off the request path),
    every `seconds` besides (for other processes' writes), and once more when it stops."""

    def __init__(self, anchor: Anchor, seconds: float) -> None:
        self.anchor, self.seconds = anchor, seconds
        self._due = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        self._due.set()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="tandem-chain", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stopping:
            self._due.wait(self.seconds)
            self._due.clear()
            if not self._stopping:
                self.link()

    def link(self) -> None:
        """Link and publish now; a failure is logged (`tandem verify` reports the cause)."""
        try:
            self.anchor.link()
        except RolledBack as exc:
            logger.error("not publishing a chain head: %s", exc)
        except Exception:
            logger.exception("extending the hash chain failed")

    def stop(self) -> None:
        """Stop the thread, then link and publish what the last writes left."""
        self._stopping = True
        self._due.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.link()
