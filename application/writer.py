"""The one write path: every change to any aggregate (a patient's record, their consents, an
access record's review, a user account) is run and stored here, and nowhere else.

Two doors, one set of rules:

- `submit` / `append` (async, the API and the pages): group commit on the event loop.
  A command runs on the aggregate (from a small cache, or loaded in a worker thread on a
  miss), its new events are serialised and queued; the first queued write schedules a
  flush for the loop's next turn, and every write queued by then goes into one
  insert-and-commit. Only after the commit does each request get its receipt, so a 2xx
  still means durable; the fsync is just shared.
- `write` / `create` (blocking: the CLI, the demo loader, imports): the same command, the
  same version check, the same error translation, committed on its own.

Why group commit runs on the loop rather than in a writer thread: Python's sqlite3 and
psycopg release the GIL around every statement, and under load a thread that must win the
GIL back from busy request threads waits milliseconds each time (measured: a 12-row insert,
0.4 ms alone, took 62 ms beside one busy thread). Running the command path on the loop keeps
the handovers out of the hot path; the only blocking call is the commit itself.

Consistency: commands on one aggregate run one after another on the loop, each on the state
the previous left, and all writes queued before a flush commit together or not at all. A
command that raises leaves nothing behind: the cached copy it ran on is dropped, so events it
may have recorded before failing are never stored by a later write. If the commit collides
(another process wrote a cached aggregate), every aggregate of the batch is dropped from the
cache and each command is run again on its own, in order, on freshly loaded state: a retry
never inserts events built on state that was not stored, and a retry that collides again is
a Conflict (409), never a receipt. A store that cannot write (a full disk, an unreachable
database) is StoreUnavailable (503) for every write of the batch; nothing is acknowledged.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from anyio import to_thread
from eventsourcing.domain import BaseAggregate
from eventsourcing.persistence import IntegrityError, PersistenceError, StoredEvent

from application.clinic import Clinic, Receipt
from application.errors import StoreUnavailable
from application.health import StoreHealth
from domain.errors import Conflict, NotFound
from domain.patient import PatientRecord

A = TypeVar("A", bound=BaseAggregate[UUID])
Command = Callable[[Any], None]
Loader = Callable[[], Any]


def check_version(aggregate: Any, expected_version: int | None) -> None:
    """The one expected-version check: refuse (Conflict) if the aggregate has moved on since
    the caller last read it."""
    if expected_version is not None and aggregate.version != expected_version:
        raise Conflict(
            aggregate.id,
            f"record {aggregate.id} is at version {aggregate.version}, "
            f"not the expected {expected_version}",
        )


@dataclass(frozen=True)
class Target:
    """Which aggregate a command runs on: its id, its type (the cache keeps each type apart:
    an id of another type's aggregate is never taken for this one), how to load it (default:
    a patient's record), and a guard that decides, on the very state the command will run
    on, whether the actor may act at all (before the version is even compared: a refusal
    must not tell whether the record exists, or how far it has got)."""

    aggregate_id: UUID
    kind: type = PatientRecord
    load: Loader | None = None
    guard: Command | None = None


@dataclass
class _Write:
    target: Target
    command: Command | None  # None: a new aggregate, whose events are final as built
    expected_version: int | None
    stored: list[StoredEvent]
    version: int
    done: asyncio.Future[Receipt]

    @property
    def aggregate_id(self) -> UUID:
        return self.target.aggregate_id


def _run(target: Target, aggregate: Any, command: Command, expected_version: int | None) -> None:
    """Guard, then the one expected-version check, then the command."""
    if not isinstance(aggregate, target.kind):
        raise NotFound(target.kind.__name__, target.aggregate_id)
    if target.guard is not None:
        target.guard(aggregate)
    check_version(aggregate, expected_version)
    command(aggregate)


class CommandWriter:
    def __init__(
        self, clinic: Clinic, cache_size: int = 4096, health: StoreHealth | None = None
    ) -> None:
        self._clinic = clinic
        self._cache: OrderedDict[tuple[type, UUID], Any] = OrderedDict()
        self._cache_size = cache_size
        self._queued: list[_Write] = []
        self.health = health or StoreHealth()
        self.on_commit: Callable[[], None] | None = None  # e.g. wake the index runner
        self.batches = 0
        self.writes = 0

    # --- the asynchronous door: group commit -------------------------------------------

    async def submit(
        self,
        target: UUID | Target,
        command: Command,
        *,
        expected_version: int | None = None,
    ) -> Receipt:
        """Run `command` on the aggregate (a patient's record unless the target says
        otherwise); return once its events are durable. Whatever the guard or the command
        raises is raised here, and then nothing is stored."""
        target = target if isinstance(target, Target) else Target(target)
        aggregate = await self._checkout(target)
        try:
            _run(target, aggregate, command, expected_version)
        except BaseException:
            # Even a refusal may come after an earlier part of the command recorded: drop
            # the copy, so nothing it recorded can ride along with a later write.
            if aggregate.pending_events:
                self._evict(target)
            raise
        if not aggregate.pending_events:
            return Receipt(target.aggregate_id, aggregate.version, self._clinic.position())
        stored = self._serialise(aggregate)
        return await self._enqueue(
            _Write(target, command, expected_version, stored, aggregate.version, self._future())
        )

    async def append(self, aggregate: BaseAggregate[UUID], *beside: BaseAggregate[UUID]) -> Receipt:
        """Store a new aggregate's events (an access record, a user) in the next group
        commit; a Conflict if one with that id exists. Aggregates `beside` it (a
        registration's MRN claim) are stored in the same atomic insert, or nothing is."""
        stored = [e for a in (aggregate, *beside) for e in self._serialise(a)]
        target = Target(aggregate.id, type(aggregate))
        return await self._enqueue(
            _Write(target, None, None, stored, aggregate.version, self._future())
        )

    # --- the blocking door ----------------------------------------------------------------

    def write(
        self,
        target: UUID | Target,
        command: Command,
        *,
        expected_version: int | None = None,
    ) -> Receipt:
        """`submit` for callers without an event loop (the CLI, the demo loader, imports:
        never beside the event loop's door in one process): load, guard, check, run, commit
        on its own."""
        target = target if isinstance(target, Target) else Target(target)
        self._evict(target)  # whatever this process cached is about to be stale
        aggregate = self._guarded(self._loader(target))
        _run(target, aggregate, command, expected_version)
        if not aggregate.pending_events:
            return Receipt(target.aggregate_id, aggregate.version, self._clinic.position())
        return self._insert_alone(aggregate.id, aggregate.version, self._serialise(aggregate))

    def create(self, aggregate: BaseAggregate[UUID], *beside: BaseAggregate[UUID]) -> Receipt:
        """`append` for callers without an event loop."""
        stored = [e for a in (aggregate, *beside) for e in self._serialise(a)]
        return self._insert_alone(aggregate.id, aggregate.version, stored)

    @property
    def clinic(self) -> Clinic:
        """The store this path writes to (for what a command needs to read first)."""
        return self._clinic

    # --- inside ------------------------------------------------------------------------

    def _loader(self, target: Target) -> Loader:
        return target.load or (lambda: self._clinic.patient(target.aggregate_id))

    def _guarded(self, read: Callable[[], A]) -> A:
        try:
            return read()
        except IntegrityError:
            raise
        except PersistenceError as exc:
            raise self.health.failed(exc) from exc

    def _serialise(self, aggregate: BaseAggregate[UUID]) -> list[StoredEvent]:
        mapper = self._clinic.mapper
        return [mapper.to_stored_event(e) for e in aggregate.collect_events()]

    def _future(self) -> asyncio.Future[Receipt]:
        return asyncio.get_running_loop().create_future()

    async def _enqueue(self, write: _Write) -> Receipt:
        if not self._queued:
            asyncio.get_running_loop().call_soon(self._flush)
        self._queued.append(write)
        return await write.done

    async def _checkout(self, target: UUID | Target) -> Any:
        target = target if isinstance(target, Target) else Target(target)
        key = (target.kind, target.aggregate_id)
        aggregate = self._cache.get(key)
        if aggregate is None:
            loaded = await to_thread.run_sync(self._guarded, self._loader(target))
            # Another request may have cached (and advanced) it while this one waited.
            aggregate = self._cache.get(key)
            if aggregate is None:
                aggregate = loaded
                self._cache[key] = aggregate
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        self._cache.move_to_end(key)
        return aggregate

    def _evict(self, target: Target) -> None:
        self._cache.pop((target.kind, target.aggregate_id), None)

    def _insert(self, stored: list[StoredEvent]) -> Sequence[int]:
        """Insert-and-commit; a storage fault becomes StoreUnavailable (health noted)."""
        try:
            positions = self._clinic.recorder.insert_events(stored)
        except IntegrityError:
            raise
        except PersistenceError as exc:
            raise self.health.failed(exc) from exc
        self.health.succeeded()
        if not positions or len(positions) != len(stored):  # an application recorder's duty
            raise StoreUnavailable("the store did not report the positions it wrote")
        return positions

    def _insert_alone(self, aggregate_id: UUID, version: int, stored: list[StoredEvent]) -> Receipt:
        try:
            positions = self._insert(stored)
        except IntegrityError as exc:
            raise Conflict(aggregate_id) from exc
        if self.on_commit is not None:
            self.on_commit()
        return Receipt(aggregate_id, version, positions[-1])

    def _flush(self) -> None:
        batch, self._queued = self._queued, []
        stored = [event for write in batch for event in write.stored]
        try:
            positions = self._insert(stored)
        except IntegrityError:
            for write in batch:
                self._evict(write.target)
            for write in batch:
                self._retry_alone(write)
            return
        except BaseException as exc:
            for write in batch:
                self._evict(write.target)
                if not write.done.done():
                    write.done.set_exception(exc)
            return
        self.batches += 1
        self.writes += len(batch)
        end = 0
        for write in batch:
            end += len(write.stored)
            if not write.done.done():  # the request may have been cancelled meanwhile
                write.done.set_result(
                    Receipt(write.aggregate_id, write.version, positions[end - 1])
                )
        if self.on_commit is not None:
            self.on_commit()

    def _retry_alone(self, write: _Write) -> None:
        """Run a write's command again on freshly loaded state and commit it on its own
        (rare: only after a collision with another process). Blocks the loop briefly."""
        try:
            if write.command is None:  # a new aggregate: nothing stale to rebuild
                receipt = self._insert_alone(write.aggregate_id, write.version, write.stored)
            else:
                aggregate = self._guarded(self._loader(write.target))
                # The same guard and version check as the first run: state that moved on
                # since the caller read it is a Conflict now as it would have been then.
                _run(write.target, aggregate, write.command, write.expected_version)
                if not aggregate.pending_events:
                    receipt = Receipt(
                        write.aggregate_id, aggregate.version, self._clinic.position()
                    )
                else:
                    receipt = self._insert_alone(
                        aggregate.id, aggregate.version, self._serialise(aggregate)
                    )
                    self._cache[(write.target.kind, write.aggregate_id)] = aggregate
        except BaseException as exc:
            if not write.done.done():
                write.done.set_exception(exc)
            return
        if not write.done.done():
            write.done.set_result(receipt)
