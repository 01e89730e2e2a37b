"""The application as the entry points see it: one object holding the use cases' parts,
built by the composition root (`bootstrap.bootstrap_services`).

Entry points reach patient data only through `reader` (the one audited read) and change
anything only through `writer` (the one write path)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from anyio import to_thread

from application.audited import AuditedReads
from application.clinic import Clinic
from application.consents import Consents
from application.directory import DirectoryUseCases
from application.errors import IndexBehind
from application.hash_chain import HashChain
from application.ports import Passwords, Sender, ShareAccess, Tokens
from application.reading import Reader
from application.throttle import LoginThrottle
from application.writer import CommandWriter
from domain.errors import InvalidInput

logger = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything the entry points need, built once from settings."""

    clinic: Clinic
    writer: CommandWriter
    reader: Reader
    reads: AuditedReads
    tokens: Tokens
    passwords: Passwords
    throttle: LoginThrottle
    chain: HashChain
    sender: Sender
    chain_seconds: float = 2.0
    share_access: ShareAccess | None = None
    consents: Consents = field(init=False)
    directory: DirectoryUseCases = field(init=False)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.consents = Consents(self.clinic, self.writer)
        self.directory = DirectoryUseCases(self.clinic, self.writer, self.share_access)

    def reflect(self, min_position: int | None) -> None:
        """Read-your-writes for the index-backed answers (the board, compliance): wait until
        the index reflects `min_position` (a receipt's or an access record's position)."""
        if min_position is None:
            return
        head = self.clinic.position()
        if min_position > head:
            raise InvalidInput.single(
                "min_position", f"{min_position} is beyond the log's last position {head}"
            )
        if not self.reader.index.wait_for(min_position):
            raise IndexBehind(f"the index has not reached position {min_position} yet")

    async def reflecting(self, min_position: int | None) -> None:
        await to_thread.run_sync(self.reflect, min_position)

    async def visible(self, position: int) -> None:
        """Wait until the record index reflects a write (so the next page shows it)."""
        await to_thread.run_sync(self.reader.index.wait_for, position)

    def start(self) -> None:
        """Bring the record index up to date, then keep it and the hash chain so in the
        background (the index only when no separate worker keeps it)."""
        if self.reader.index.projects:
            self.reader.index.catch_up()
            self.reader.index.start()
        threading.Thread(target=self._link, name="tandem-chain", daemon=True).start()

    def _link(self) -> None:
        while not self._stop.wait(self.chain_seconds):
            try:
                self.chain.extend()
            except Exception:  # keep running; `tandem verify` reports the cause
                logger.exception("extending the hash chain failed")

    def close(self) -> None:
        self._stop.set()
        self.reader.index.stop()
        self.clinic.close()
