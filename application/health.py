"""Whether the event store can write: one episode of failure is logged once, and the
service resumes by itself at the first write that succeeds again."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from application.errors import StoreUnavailable

logger = logging.getLogger("tandem.store")


def _cause(exc: BaseException) -> str:
    """The storage fault in words (the driver's message, which names no patient data)."""
    inner = exc.__cause__ or exc.__context__ or exc
    text = str(inner).strip() or type(inner).__name__
    return text.splitlines()[0][:200]


@dataclass(frozen=True)
class HealthReport:
    ok: bool
    cause: str | None
    failing_since: float | None


class StoreHealth:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cause: str | None = None
        self._since: float | None = None

    def failed(self, exc: BaseException) -> StoreUnavailable:
        """Note a storage fault; the error to raise. Logged once per episode."""
        cause = _cause(exc)
        with self._lock:
            first = self._cause is None
            self._cause, self._since = cause, self._since or time.time()
        if first:
            logger.error(
                "the record store cannot write: %s (writes answer 503 until it can)", cause
            )
        return StoreUnavailable(cause)

    def succeeded(self) -> None:
        if self._cause is None:  # the usual case: no lock taken
            return
        with self._lock:
            cause, self._cause, self._since = self._cause, None, None
        if cause is not None:
            logger.warning("the record store writes again (it had failed: %s)", cause)

    def report(self) -> HealthReport:
        with self._lock:
            return HealthReport(self._cause is None, self._cause, self._since)
