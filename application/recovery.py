"""Backup and restore (45 CFR 164.308(a)(7)): a consistent copy of the store, and putting it
back openly.

A backup first links the chain and publishes its head (so the copy ends at a published,
signed position), then copies the store consistently while it may still be written. A
restore checks the backup's own chain, puts the copy back, and publishes a signed
re-anchor ("restored from a backup taken at position N at time T") before anything else,
so verify explains the step back instead of reporting it as a rollback. Copying a data
directory back by hand publishes nothing, and verify still reports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from application.anchoring import Anchor, LogVerification, utc_now
from application.hash_chain import HashChain
from application.heads import PublishedHead
from application.ports import Backup, Backups
from domain.errors import TandemError


class BackupError(TandemError):
    """A backup cannot be taken, or is not fit to be restored."""


@dataclass(frozen=True)
class Restoration:
    backup: Backup
    reanchor: PublishedHead | None  # None: no head log configured, nothing published
    verification: LogVerification


def take_backup(anchor: Anchor, backups: Backups, target: Path) -> Backup:
    """Link and publish the head (refused if the log disagrees with its last published
    head: a rolled-back store is not backed up as if it were sound), then copy."""
    if anchor.link() == 0:
        raise BackupError("the store holds no events: there is nothing to back up")
    return backups.take(target, utc_now())


def restore_backup(anchor: Anchor, backups: Backups, source: Path) -> Restoration:
    """Check the backup's chain, put it back, re-anchor the chain openly at its head, then
    link what the copy held beyond its head, and verify."""
    backup, store = backups.inspect(source)
    with store:
        found = HashChain(None, store).verify()
    if not found.intact:
        raise BackupError(f"the backup in {source} is not intact: {found.reason}")
    if (found.head, found.head_link_hex) != (backup.position, backup.link):
        raise BackupError(
            f"the backup in {source} says it ends at position {backup.position}, but its "
            f"chain ends at position {found.head}"
        )
    backups.put_back(source)
    reanchor = anchor.reanchor(backup)
    anchor.link()
    return Restoration(backup, reanchor, anchor.verify(link=False))
