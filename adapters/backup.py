"""Backups of the embedded store: SQLite's online backup API, never a file copy.

A file copy of a live WAL database can catch the main file and its write-ahead log at
different moments; the backup API copies a consistent snapshot page by page while the
store keeps being written (it restarts if a write lands mid-copy). The events file holds
the chain table too, so the copy's events and links are of one moment.

A backup folder holds events.sqlite, relay.sqlite when the relay has a checkpoint, and
backup.json (what the copy ends at: its chain head, and when it was taken). The record
index is not copied: it is rebuilt from the log (a restore removes it). Neither is the
token signing key, so a restore signs every user out.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from adapters.chain import SQLiteChainStore
from application.ports import Backup, Backups, ChainStore
from application.recovery import BackupError

EVENTS, RELAY, INDEX, MANIFEST = "events.sqlite", "relay.sqlite", "views.sqlite", "backup.json"


def _copy(source: Path, target: Path) -> None:
    """Copy one SQLite database consistently."""
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


class SQLiteBackups(Backups):
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    def _outside(self, folder: Path) -> Path:
        resolved, data = folder.expanduser().resolve(), self.data_dir.resolve()
        if resolved == data or resolved.is_relative_to(data):
            raise BackupError(f"{folder} lies inside the data directory {self.data_dir}")
        return resolved

    def take(self, target: Path, taken_at: str) -> Backup:
        target = self._outside(target)
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise BackupError(f"{target} is not an empty folder: back up into a new one")
        try:
            target.mkdir(mode=0o700, parents=True, exist_ok=True)
            files = [name for name in (EVENTS, RELAY) if (self.data_dir / name).exists()]
            for name in files:
                _copy(self.data_dir / name, target / name)
                os.chmod(target / name, 0o600)
            with SQLiteChainStore(target / EVENTS) as store:
                head = store.head()
        except (OSError, sqlite3.Error) as exc:
            raise BackupError(f"the backup into {target} failed: {exc}") from exc
        if head is None:
            raise BackupError("the copy holds no linked events")
        backup = Backup(head.position, head.digest.hex(), taken_at, str(target))
        manifest = {"position": backup.position, "link": backup.link, "taken_at": taken_at}
        (target / MANIFEST).write_text(json.dumps({**manifest, "files": files}, indent=1))
        return backup

    def inspect(self, source: Path) -> tuple[Backup, ChainStore]:
        source = self._outside(source)
        try:
            fields = json.loads((source / MANIFEST).read_text())
            backup = Backup(
                int(fields["position"]), str(fields["link"]), str(fields["taken_at"]), str(source)
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BackupError(f"{source} holds no readable backup: {exc}") from exc
        if not (source / EVENTS).exists():
            raise BackupError(f"{source} holds no {EVENTS}")
        return backup, SQLiteChainStore(source / EVENTS)

    def put_back(self, source: Path) -> None:
        source = self._outside(source)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            for name in (EVENTS, RELAY):
                if (source / name).exists():
                    _copy(source / name, self.data_dir / name)
                else:  # a checkpoint past the restored log would skip what follows it
                    _remove(self.data_dir / name)
            _remove(self.data_dir / INDEX)  # rebuilt from the restored log
        except (OSError, sqlite3.Error) as exc:
            raise BackupError(f"restoring {source} failed: {exc}") from exc


def _remove(database: Path) -> None:
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        path.unlink(missing_ok=True)
