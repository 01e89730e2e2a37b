"""Sign-in throttling without lockout: failures are counted per (account, client address)
and per client address, never per account alone, so nobody can lock an account for the
addresses they do not control. Past a few free failures each further attempt from that
address must wait, twice as long after each failure (progressive delay, capped).

Memory is bounded whatever arrives: at most `capacity` counters are kept (the least
recently failed is dropped first), a counter expires `window_seconds` after its last
failure, and the usernames that make up keys are bounded in length before they get here
(application.signin). Kept in memory: one process's view; behind several API processes
each keeps its own counts (named in the README)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Count:
    failures: int
    last: float


@dataclass
class LoginThrottle:
    # Free failures for one account from one address before attempts are delayed.
    max_failures: int = 5
    # A counter is forgotten this long after its last failure.
    window_seconds: float = 300.0
    # A whole clinic may sign in from one address: that key gets a larger allowance.
    client_factor: int = 10
    # The first delay, doubled after each further failure, never above `max_delay`.
    base_delay: float = 1.0
    max_delay: float = 300.0
    capacity: int = 10_000
    clock: Callable[[], float] = time.monotonic
    _counts: OrderedDict[str, _Count] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __len__(self) -> int:
        return len(self._counts)

    @staticmethod
    def _keys(account: str, client: str) -> tuple[str, str]:
        return f"pair:{account}\x00{client}", f"ip:{client}"

    def _current(self, key: str, now: float) -> _Count | None:
        count = self._counts.get(key)
        if count is not None and now - count.last >= self.window_seconds:
            del self._counts[key]
            return None
        return count

    def _wait(self, count: _Count | None, free: int, now: float) -> float:
        if count is None or count.failures < free:
            return 0.0
        delay = min(self.max_delay, self.base_delay * 2.0 ** min(count.failures - free, 32))
        return max(0.0, count.last + delay - now)

    def retry_after(self, account: str, client: str) -> float:
        """Seconds until an attempt is allowed for this account from this client (0: now)."""
        now = self.clock()
        pair, address = self._keys(account, client)
        with self._lock:
            return max(
                self._wait(self._current(pair, now), self.max_failures, now),
                self._wait(
                    self._current(address, now), self.max_failures * self.client_factor, now
                ),
            )

    def failed(self, account: str, client: str) -> None:
        now = self.clock()
        with self._lock:
            for key in self._keys(account, client):
                count = self._current(key, now)
                if count is None:
                    self._counts[key] = _Count(1, now)
                else:
                    count.failures += 1
                    count.last = now
                    self._counts.move_to_end(key)
            # Oldest failure first: drop the expired, then any beyond the capacity.
            while self._counts and (
                len(self._counts) > self.capacity
                or now - next(iter(self._counts.values())).last >= self.window_seconds
            ):
                self._counts.popitem(last=False)

    def succeeded(self, account: str, client: str) -> None:
        """A right password clears that account's counter from that address (the address's
        own counter stays: one good account must not reset an address's guesses)."""
        with self._lock:
            self._counts.pop(self._keys(account, client)[0], None)
