"""The application as the entry points see it: one object holding the use cases' parts,
built by the composition root (`bootstrap.bootstrap_services`).

Entry points reach patient data only through `reader` (the one audited read) and change
anything only through `writer` (the one write path)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from anyio import to_thread

from application.anchoring import Anchor, ChainKeeper
from application.audited import AuditedReads
from application.clinic import Clinic
from application.consents import Consents
from application.directory import DirectoryUseCases
from application.errors import IndexBehind
from application.hash_chain import HashChain
from application.ports import Passwords, Sender, Sessions, ShareAccess, Tokens
from application.reading import Reader
from application.throttle import LoginThrottle
from application.writer import CommandWriter
from domain.errors import InvalidInput


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
    sessions: Sessions
    keeper: ChainKeeper
    # Mark the page cookies Secure (the API is reached over TLS, behind a proxy or not).
    secure_cookies: bool = False
    share_access: ShareAccess | None = None
    # The clinic's settings that commands take when a request leaves them unset
    # (CommandSpec.clinic_defaults): "state", the clinic's PDMP state (TANDEM_PDMP_STATE).
    command_defaults: dict[str, Any] = field(default_factory=dict)
    consents: Consents = field(init=False)
    directory: DirectoryUseCases = field(init=False)

    def __post_init__(self) -> None:
        self.consents = Consents(self.clinic, self.writer)
        self.directory = DirectoryUseCases(self.clinic, self.writer, self.share_access)

    @property
    def anchor(self) -> Anchor:
        return self.keeper.anchor

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
        background (the index only when no separate worker keeps it; the chain linked and
        its head published after every group commit)."""
        if self.reader.index.projects:
            self.reader.index.catch_up()
            self.reader.index.start()
        self.keeper.start()

    def close(self) -> None:
        """Stop: link the chain (and publish its head) once more, so a clean stop leaves
        nothing unlinked, then close the store."""
        self.keeper.stop()
        self.chain.store.close()
        self.reader.index.stop()
        self.clinic.close()
