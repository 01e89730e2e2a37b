"""Audited role-view reads over a large store: p50/p99 of one read (policy decision, view
built from the record index, response hashed, access record durably appended).

Sizes from the environment: BENCH_PATIENTS (default 10,000) x BENCH_EVENTS_PER_PATIENT
(default 100) = 1,000,000 events; smaller runs are for a quick look. It runs with a (fresh)
cipher key, the store and the record index encrypted at rest, and then without one, and
prints the ratio; BENCH_CIPHER=1 runs only the first.
Just this bench: `python -m bench.reads`."""

from __future__ import annotations

import asyncio
import gc
import os
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

from eventsourcing.cipher import AESCipher
from pydantic import SecretStr

from application.audited import access_record
from application.reading import ReadRequest
from bootstrap import Services, bootstrap_services
from bootstrap.settings import Settings
from domain.access import Viewer
from domain.events import Actor, now
from domain.patient import PatientRecord
from domain.vocabulary import Role

PATIENTS = int(os.environ.get("BENCH_PATIENTS", "10000"))
PER_PATIENT = int(os.environ.get("BENCH_EVENTS_PER_PATIENT", "100"))
READS = 2000
CIPHER = os.environ.get("BENCH_CIPHER", "") not in ("", "0")
SYSTEM = Actor.system("bench")
THERAPIST = Actor(user_id="bench@therapist", role=Role.THERAPIST, organisation="Bench Clinic")


def record(n: int) -> PatientRecord:
    at = now() - timedelta(days=200)
    r = PatientRecord.register(
        SYSTEM,
        at,
        mrn=f"BR-{n:07d}",
        given_name="Bench",
        family_name=f"Synthetic{n}",
        birth_date=date(1990, 1, 1),
        sex_at_birth="unknown",
    )
    r.add_team_member(
        SYSTEM,
        at,
        user_id=THERAPIST.user_id,
        role=Role.THERAPIST,
        organisation=THERAPIST.organisation,
    )
    for i in range(PER_PATIENT - 2):
        r.write_progress_note(THERAPIST, at + timedelta(hours=i), text=f"session {i}: plan kept")
    return r


def fill(services: Services) -> list[UUID]:
    """Store the bench's patients (their ids are random) and index them; their ids."""
    started = time.perf_counter()
    batch = max(1, 2000 // PER_PATIENT)
    ids: list[UUID] = []
    for first in range(0, PATIENTS, batch):
        records = [record(n) for n in range(first, min(PATIENTS, first + batch))]
        services.clinic.save(*records)
        ids.extend(r.id for r in records)
    stored = time.perf_counter()
    services.reader.index.catch_up(batch=2000)
    print(
        f"  filled {PATIENTS * PER_PATIENT:,} events in {stored - started:.0f} s; "
        f"indexed in {time.perf_counter() - stored:.0f} s"
    )
    return ids


class Pauses:
    """The time the garbage collector takes while the reads run (a stop of the whole
    process, so a read it falls in is that much slower)."""

    def __init__(self) -> None:
        self.ms = 0.0
        self.count = 0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.ms += (time.perf_counter() - self._started) * 1000
            self.count += 1


async def read_all(services: Services, patients: list[UUID]) -> dict[str, list[float]]:
    """Each read timed whole, and in its two parts: the decision, build and hash (prepare)
    and the access record's durable append."""
    reader, writer = services.reader, services.writer
    viewer = Viewer(THERAPIST.user_id, Role.THERAPIST, THERAPIST.organisation)
    timings: dict[str, list[float]] = {"read": [], "prepare": [], "append": []}
    for _ in range(READS):
        request = ReadRequest(viewer, random.choice(patients), "view")
        started = time.perf_counter()
        prepared = reader.prepare(request)
        built = time.perf_counter()
        await writer.append(access_record(request, prepared, THERAPIST))
        done = time.perf_counter()
        timings["read"].append((done - started) * 1000)
        timings["prepare"].append((built - started) * 1000)
        timings["append"].append((done - built) * 1000)
    return timings


def measure(cipher: bool) -> tuple[float, float]:
    """p50 and p99 (ms) of one audited read, with or without a cipher key."""
    with tempfile.TemporaryDirectory() as tmp:
        key = SecretStr(AESCipher.create_key(32)) if cipher else None
        services = bootstrap_services(Settings(data_dir=Path(tmp), cipher_key=key))
        print(
            f"\nAudited role-view read, {PATIENTS:,} patients x {PER_PATIENT} events"
            f"{', encrypted at rest' if cipher else ', no cipher key'}"
        )
        patients = fill(services)
        os.sync()  # the fill's writeback is done before the first read is timed
        pauses = Pauses()
        gc.callbacks.append(pauses)
        try:
            timings = asyncio.run(read_all(services, patients))
        finally:
            gc.callbacks.remove(pauses)
        cuts = statistics.quantiles(timings["read"], n=100)
        print(f"  {READS} reads: p50 {cuts[49]:.2f} ms, p99 {cuts[98]:.2f} ms (goal p99 <= 10 ms)")
        for part in ("prepare", "append"):
            each = statistics.quantiles(timings[part], n=100)
            print(f"    {part}: p50 {each[49]:.2f} ms, p99 {each[98]:.2f} ms")
        print(f"    garbage collection: {pauses.count} pauses, {pauses.ms:.0f} ms in all")
        services.close()
        return cuts[49], cuts[98]


def main() -> None:
    """With the key set (the goal), and unless BENCH_CIPHER=1 asks for that run alone,
    without one, for the ratio measured in this run."""
    sealed = measure(cipher=True)
    if CIPHER:
        return
    plain = measure(cipher=False)
    print(
        f"  with the key / without: p50 {sealed[0] / plain[0]:.2f}x, "
        f"p99 {sealed[1] / plain[1]:.2f}x"
    )


if __name__ == "__main__":
    main()
