"""Group commit: commands from concurrent requests share one store transaction.

Request threads hand (patient, command) jobs to one writer thread. The writer takes every
job waiting, runs each command on its patient's record (commands on the same patient in
one batch apply in arrival order, each on the state the previous one left), saves all the
records in a single transaction, and only then releases the waiting requests with their
receipts. So a 2xx still means the event is durable; the fsync is just shared.

The writer keeps the records it wrote in a small LRU. All of this process's writes pass
through it, so the cache cannot drift from the store except by another process writing:
such a write makes the batch's save collide (optimistic concurrency), and the writer then
evicts, reloads and retries each job on its own, so only a truly conflicting job fails.
"""

from __future__ import annotations

import queue
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from adapters.clinic import Clinic, Receipt
from domain.errors import Conflict
from domain.patient import PatientRecord

Command = Callable[[PatientRecord], None]


@dataclass
class _Job:
    patient_id: UUID
    command: Command
    done: threading.Event = field(default_factory=threading.Event)
    receipt: Receipt | None = None
    error: BaseException | None = None
    last_version: int = 0


class CommandWriter:
    def __init__(self, clinic: Clinic, max_batch: int = 128, cache_size: int = 4096) -> None:
        self._clinic = clinic
        self._max_batch = max_batch
        self._cache: OrderedDict[UUID, PatientRecord] = OrderedDict()
        self._cache_size = cache_size
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="tandem-writer", daemon=True)
        self._thread.start()
        self.batches = 0
        self.jobs = 0

    def submit(self, patient_id: UUID, command: Command) -> Receipt:
        """Run `command` on the patient's record and return once it is durably stored.
        The command runs on the writer thread; whatever it raises is raised here."""
        job = _Job(patient_id, command)
        self._jobs.put(job)
        job.done.wait()
        if job.error is not None:
            raise job.error
        assert job.receipt is not None  # set whenever error is not
        return job.receipt

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=10)

    # --- the writer thread ------------------------------------------------------------

    def _run(self) -> None:
        while True:
            first = self._jobs.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    self._jobs.put(None)  # finish this batch, then stop
                    break
                batch.append(job)
            try:
                self._commit(batch)
            except BaseException as exc:  # never leave a request waiting forever
                for job in batch:
                    if not job.done.is_set():
                        job.error = exc
                        job.done.set()

    def _record(self, patient_id: UUID) -> PatientRecord:
        record = self._cache.get(patient_id)
        if record is None:
            record = self._clinic.patient(patient_id)
            self._cache[patient_id] = record
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(patient_id)
        return record

    def _commit(self, batch: list[_Job], retrying: bool = False) -> None:
        touched: dict[UUID, PatientRecord] = {}
        ran: list[_Job] = []
        for job in batch:
            try:
                record = self._record(job.patient_id)
                job.command(record)
            except Exception as exc:
                job.error = exc
                job.done.set()
                continue
            job.last_version = record.version
            ran.append(job)
            if record.pending_events:
                touched[job.patient_id] = record
        if not touched:
            for job in ran:  # commands that recorded nothing: nothing to wait for
                job.receipt = Receipt(job.patient_id, job.last_version, self._clinic.position())
                job.done.set()
            return
        try:
            recordings = self._clinic.save(*touched.values())
        except IntegrityError:
            for patient_id in touched:
                self._cache.pop(patient_id, None)
            if retrying:
                for job in ran:
                    job.error = Conflict(job.patient_id)
                    job.done.set()
                return
            for job in ran:
                self._commit([job], retrying=True)
            return
        except BaseException:
            for patient_id in touched:
                self._cache.pop(patient_id, None)
            raise
        positions = {
            (r.domain_event.originator_id, r.domain_event.originator_version): r.notification.id
            for r in recordings
        }
        self.batches += 1
        self.jobs += len(ran)
        for job in ran:
            job.receipt = Receipt(
                job.patient_id,
                job.last_version,
                positions.get((job.patient_id, job.last_version), self._clinic.position()),
            )
            job.done.set()
