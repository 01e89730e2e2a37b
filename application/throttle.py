"""Sign-in throttling: too many failures for one account or one client address within a
window, and further attempts are refused until the window has moved on.

Kept in memory: one process's view. Behind several API processes each keeps its own
count, so the effective limit is per process (named in the README)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LoginThrottle:
    max_failures: int = 5
    window_seconds: float = 300.0
    # A whole clinic may sign in from one address: that key gets a larger allowance.
    client_factor: int = 10
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: str, now: float) -> deque[float]:
        stamps = self._failures[key]
        while stamps and stamps[0] <= now - self.window_seconds:
            stamps.popleft()
        return stamps

    def retry_after(self, account: str, client: str) -> float:
        """Seconds until an attempt is allowed for this account from this client (0: now)."""
        now = self.clock()
        wait = 0.0
        limits = ((account, self.max_failures), (client, self.max_failures * self.client_factor))
        with self._lock:
            for key, limit in limits:
                stamps = self._recent(key, now)
                if len(stamps) >= limit:
                    wait = max(wait, stamps[-limit] + self.window_seconds - now)
        return wait

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
