"""Keeps the record index up to date with the store, by polling the notification log.

(eventsourcing 9.5.6's SQLite recorder has no subscribe(), so the runner polls; the API's
writer also wakes it after each commit, so a fresh write reaches the index within
milliseconds.) `wait_for(position)` gives reads their read-your-writes guarantee.
"""

from __future__ import annotations

import threading
import time

from eventsourcing.persistence import Tracking

from application.clinic import Clinic
from projections.record_index import IndexView, RecordIndex


class IndexRunner:
    def __init__(
        self, clinic: Clinic, view: IndexView, poll_seconds: float = 0.25, projects: bool = True
    ) -> None:
        # projects=False: another process (a `tandem project` worker) writes the index; this
        # runner only reads its position and waits for it.
        self.projects = projects
        self.clinic = clinic
        self.view = view
        self.projection = RecordIndex(view)
        self._poll = poll_seconds
        self._wake = threading.Event()
        self._caught_up = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.error: BaseException | None = None

    @property
    def position(self) -> int:
        return self.view.max_tracking_id(self.clinic.name) or 0

    def catch_up(self, batch: int = 500) -> int:
        """Process every stored event after the index's position; return the new position."""
        with self._lock:
            while True:
                with self.view.batch():
                    # Read inside the batch's write transaction: another process projecting
                    # into the same index (a CLI command beside the API) may have moved it on
                    # since, and nothing it wrote may be written twice.
                    start = self.position + 1
                    notifications = self.clinic.recorder.select_notifications(
                        start=start, limit=batch
                    )
                    for n in notifications:
                        event = self.clinic.mapper.to_domain_event(n)
                        self.projection.process(event, Tracking(self.clinic.name, n.id))  # type: ignore[arg-type]
                if len(notifications) < batch:
                    break
        with self._caught_up:
            self._caught_up.notify_all()
        return self.position

    def rebuild(self) -> int:
        """Drop the index and build it again from the first event."""
        with self._lock:
            self.view.clear()
        return self.catch_up()

    def wake(self) -> None:
        self._wake.set()

    def wait_for(self, position: int, timeout: float = 10.0) -> bool:
        """Block until the index reflects `position` (True) or the timeout passes."""
        deadline = time.monotonic() + timeout
        while self.position < position:
            if self._thread is None and self.projects:
                self.catch_up()
                continue
            self.wake()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if not self.projects:
                time.sleep(min(remaining, 0.005))  # the worker is another process: poll
                continue
            with self._caught_up:
                self._caught_up.wait(min(remaining, 0.05))
        return True

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="tandem-index", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.catch_up()
            except Exception as exc:  # keep the failure visible; never skip the event
                self.error = exc
                self._stop.wait(1.0)
            self._wake.wait(self._poll)
            self._wake.clear()
