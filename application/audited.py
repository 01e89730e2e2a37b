"""The one audited read: the only way a person gets patient data.

`read(request, actor)` decides (the access policy), builds (the role's view from the record
index), hashes, records the access (an AccessRecord, stored before anything is answered) and
returns the answer. Every API route, page, PDF, board row and CLI command that shows patient
data goes through here; this is the only module outside the tests that builds access records.

The answer depends only on the index rows up to a log position, the patient's consents at a
version, the reading time, the viewer, the purpose and (for break-the-glass) the stated
emergency. The access record keeps all of them, so a replay rebuilds the very same bytes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from anyio import CapacityLimiter, to_thread
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import PersistenceError

from application.clinic import Clinic
from application.reading import PAGE_KINDS, PreparedRead, Reader, ReadRequest
from application.writer import CommandWriter, Target
from domain.access import Basis, denied
from domain.audit import AccessRecord, RefusedRead
from domain.errors import AccessDenied, NotFound
from domain.events import Actor, now
from domain.vocabulary import DataClass
from projections import role_views


@dataclass(frozen=True)
class AuditedAnswer:
    """What a read answers: the exact bytes recorded (by hash) in its access record."""

    body: bytes
    access_id: UUID
    access_position: int
    basis: Basis
    classes: frozenset[str]

    def json(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.body)
        return found


def access_record(request: ReadRequest, prepared: PreparedRead, actor: Actor) -> AccessRecord:
    """The access record of one read: who, role, patient, view, classes returned, consents
    relied on, purpose, the log position reflected and the hash of the exact answer."""
    return AccessRecord.record(
        actor,
        prepared.at,
        access_id=uuid4(),
        patient_id=request.patient_id,
        view=request.kind,
        purpose=request.purpose.value,
        basis=prepared.decision.basis,
        classes=[DataClass(c) for c in prepared.classes],
        consents=list(prepared.decision.consents),
        reflected_position=prepared.position,
        consents_version=prepared.consents_version,
        viewer_patient_id=request.viewer.patient_id,
        response_sha256=prepared.sha256,
        emergency_reason=request.emergency_reason,
        reason=request.reason,
        part2=DataClass.SUD.value in prepared.classes,
        team_position=prepared.team_position,
        view_format=prepared.view_format,
        directory_version=prepared.directory_version,
        clinic_timezone=prepared.clinic_timezone,
        sections=list(prepared.sections),
        **page_of(request),
    )


def page_of(request: ReadRequest) -> dict[str, int | None]:
    """The page a paged read disclosed, as the access record keeps it (a read of a paged
    kind without one disclosed the default: the newest entries)."""
    if request.kind not in PAGE_KINDS:
        return {}
    page = request.page or role_views.Page()
    return {"page_before": page.before, "page_size": page.size}


def refusal(request: ReadRequest, actor: Actor, exc: AccessDenied) -> RefusedRead:
    """The record of a refused read: who, role, the patient id asked for, when, why."""
    return RefusedRead.record(
        actor,
        now(),
        patient_id=request.patient_id,
        view=request.kind,
        purpose=request.purpose.value,
        why=exc.why,
    )


def review_target(clinic: Clinic, access_id: UUID) -> Target:
    """An access record as the write path's target, for its compliance review."""

    def load() -> AccessRecord:
        try:
            found: object = clinic.repository.get(access_id)
        except AggregateNotFoundError:
            raise NotFound("access record", access_id) from None
        if not isinstance(found, AccessRecord):
            raise NotFound("access record", access_id)
        return found

    return Target(access_id, AccessRecord, load)


class AuditedReads:
    def __init__(self, reader: Reader, writer: CommandWriter) -> None:
        self.reader = reader
        self.writer = writer
        # A listing's reads (a board page: up to 200 patients) are CPU work under one GIL:
        # run one listing at a time, in one worker thread, rather than one thread each
        # racing the others for the interpreter. Measured over HTTP (the 1,000-patient
        # board, 32 connections), that doubled the boards answered a second.
        self._listings = CapacityLimiter(1)

    def _prepare(self, request: ReadRequest, bases: Iterable[Basis] | None) -> PreparedRead:
        try:
            prepared = self.reader.prepare(request)
        except PersistenceError as exc:
            raise self.writer.health.failed(exc) from exc
        if bases is not None and prepared.decision.basis not in set(bases):
            raise denied(request.patient_id, f"not shown on a {prepared.decision.basis} basis")
        return prepared

    async def read(
        self,
        request: ReadRequest,
        actor: Actor,
        *,
        bases: Iterable[Basis] | None = None,
        listing: bool = False,
    ) -> AuditedAnswer:
        """Decide, build, hash, record, answer (for the API and the pages). With `bases`,
        a read the policy allows on any other basis is refused. A refusal is recorded too
        (a refused read is an attempted access), the same way whether or not the patient
        exists, and answered as before; `listing` marks the board's and the shared list's
        reads of every candidate, whose refusals are the listing working, not an attempt."""
        try:
            prepared = await to_thread.run_sync(self._prepare, request, bases)
        except AccessDenied as exc:
            if not listing:
                await self.writer.append(refusal(request, actor, exc))
            raise
        record = access_record(request, prepared, actor)
        receipt = await self.writer.append(record)
        return AuditedAnswer(
            prepared.body, record.id, receipt.position, prepared.decision.basis, prepared.classes
        )

    async def read_listing(
        self, requests: Sequence[ReadRequest], actor: Actor
    ) -> list[AuditedAnswer | None]:
        """`read(..., listing=True)` for each of a listing's candidates (a board page, the
        patients sharing with a reader), in order: None where the policy refuses, which is
        the listing working and is not recorded. Each answer is decided, built and hashed
        as `read` does, all of them in one worker thread one after another (a hop per
        patient, each racing the others for the GIL, cost more than the reads), and their
        access records go into one group commit, each stored before anything is answered."""

        def prepare_all() -> list[PreparedRead | None]:
            found: list[PreparedRead | None] = []
            for request in requests:
                try:
                    found.append(self._prepare(request, None))
                except AccessDenied:
                    found.append(None)
            return found

        prepared = await to_thread.run_sync(prepare_all, limiter=self._listings)
        records = [
            None if p is None else access_record(r, p, actor)
            for r, p in zip(requests, prepared, strict=True)
        ]
        receipts = await asyncio.gather(
            *(self.writer.append(record) for record in records if record is not None)
        )
        answers: list[AuditedAnswer | None] = []
        stored = iter(receipts)
        for p, record in zip(prepared, records, strict=True):
            if p is None or record is None:
                answers.append(None)
                continue
            answers.append(
                AuditedAnswer(p.body, record.id, next(stored).position, p.decision.basis, p.classes)
            )
        return answers

    def read_now(
        self, request: ReadRequest, actor: Actor, *, bases: Iterable[Basis] | None = None
    ) -> AuditedAnswer:
        """`read` for callers without an event loop (the CLI)."""
        try:
            prepared = self._prepare(request, bases)
        except AccessDenied as exc:
            self.writer.create(refusal(request, actor, exc))
            raise
        record = access_record(request, prepared, actor)
        receipt = self.writer.create(record)
        return AuditedAnswer(
            prepared.body, record.id, receipt.position, prepared.decision.basis, prepared.classes
        )
