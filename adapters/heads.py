"""The head log: signed chain heads appended, one JSON object a line, to a file outside the
data directory (TANDEM_HEAD_LOG, mode 0600).

Appends take an exclusive `flock` on the file, so extenders in several processes publish
one after another and each decides on the true last entry. The last entry is found by
reading the file backwards from its end (a published head per group commit makes the file
long; finding its last line costs the same however long it is). A line cut short by a crash
mid-write is ignored when reading and ended before the next append.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from pathlib import Path

from application.heads import HeadLogError, PublishedHead
from application.ports import HeadLog

_CHUNK = 4096


def _last_line(fd: int) -> bytes | None:
    """The last complete line of the file (without its newline), or None."""
    tail, at = b"", os.lseek(fd, 0, os.SEEK_END)
    while at > 0:
        step = min(_CHUNK, at)
        at -= step
        tail = os.pread(fd, step, at) + tail
        lines = tail.split(b"\n")[:-1]  # what follows the last newline is cut short or empty
        if at > 0:
            lines = lines[1:]  # the first may have begun before `at`
        complete = [line for line in lines if line.strip()]
        if complete:
            return complete[-1]
    return None


class JsonLinesHeadLog(HeadLog):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)

    def _open(self) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise HeadLogError(f"the head log {self.path} cannot be opened: {exc}") from exc

    @staticmethod
    def _parse(line: bytes | None) -> PublishedHead | None:
        if line is None:
            return None
        try:
            fields = json.loads(line)
        except ValueError as exc:
            raise HeadLogError(f"the head log's last entry is not JSON: {exc}") from exc
        if not isinstance(fields, dict):
            raise HeadLogError("the head log's last entry is not a JSON object")
        return PublishedHead.from_record(fields)

    def last(self) -> PublishedHead | None:
        if not self.path.exists():
            return None
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            return self._parse(_last_line(fd))
        finally:
            os.close(fd)

    def publish(
        self, decide: Callable[[PublishedHead | None], PublishedHead | None]
    ) -> PublishedHead | None:
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            entry = decide(self._parse(_last_line(fd)))
            if entry is None:
                return None
            line = json.dumps(entry.record(), sort_keys=True, separators=(",", ":")) + "\n"
            end = os.lseek(fd, 0, os.SEEK_END)
            if end and os.pread(fd, 1, end - 1) != b"\n":
                line = "\n" + line  # end a line a crash cut short; readers skip it
            os.write(fd, line.encode())
            os.fsync(fd)
            return entry
        except OSError as exc:
            raise HeadLogError(f"the head log {self.path} cannot be written: {exc}") from exc
        finally:
            os.close(fd)
