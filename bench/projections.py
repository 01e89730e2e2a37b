"""The record index (and the board it keeps) against reading the same log: catch-up
speed as a ratio of reading and decoding the notification log in the same run (goal
>= 0.5x), and the time of a full rebuild (goal <= 30 s at 1 M events).

Each patient has `per_patient` events: the registration, the team, progress notes and,
for one patient in ten, a lithium start and PHQ-9 answers, so the board's rules have
work to do as they would in a clinic. The store is filled without the index; the log is
then read and decoded once (what any projection must at least do), and the index is
built from the first event, in the batches the runner uses.
Just this bench: `python -m bench.projections [patients] [events per patient]`."""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from uuid import uuid4

from application.clinic import Clinic
from bootstrap import bootstrap, index_runner
from bootstrap.settings import Settings
from demo.common import answers
from domain.events import Actor, now
from domain.patient import PatientRecord
from domain.vocabulary import Role

SYSTEM = Actor.system("bench")
THERAPIST = Actor(user_id="bench@therapist", role=Role.THERAPIST, organisation="Bench Clinic")
PRESCRIBER = Actor(user_id="bench@prescriber", role=Role.PRESCRIBER, organisation="Bench Clinic")
LITHIUM = {
    "drug": "lithium carbonate",
    "rxnorm": "42351",
    "dose": {"amount": "300", "unit": "mg"},
    "schedule": {"frequency": "twice-daily"},
    "indication": "bipolar I disorder",
}


def record(n: int, per_patient: int) -> PatientRecord:
    at = now() - timedelta(days=200)
    r = PatientRecord.register(
        SYSTEM,
        at,
        mrn=f"BP-{n:07d}",
        given_name="Bench",
        family_name=f"Synthetic{n}",
        birth_date=date(1990, 1, 1),
        sex_at_birth="unknown",
    )
    for member in (THERAPIST, PRESCRIBER):
        r.add_team_member(
            SYSTEM, at, user_id=member.user_id, role=member.role, organisation=member.organisation
        )
    if n % 10 == 0:
        r.start_medication(PRESCRIBER, at + timedelta(hours=1), medication_id=uuid4(), **LITHIUM)
        r.answer_questionnaire(
            THERAPIST,
            at + timedelta(hours=2),
            instrument="phq-9",
            answers=answers(2, 2, 1, 1, 1, 1, 0, 0, 0),
        )
    for i in range(per_patient - r.version):
        r.write_progress_note(THERAPIST, at + timedelta(hours=3 + i), text=f"session {i}: kept")
    return r


def fill(clinic: Clinic, patients: int, per_patient: int) -> None:
    batch = max(1, 2000 // per_patient)
    for first in range(0, patients, batch):
        clinic.save(*(record(n, per_patient) for n in range(first, min(patients, first + batch))))


def decode_all(clinic: Clinic, batch: int = 500) -> int:
    """Read and decode every stored event, as the index's catch-up reads them; how many."""
    count, start = 0, 1
    while True:
        notifications = clinic.recorder.select_notifications(start=start, limit=batch)
        for n in notifications:
            clinic.mapper.to_domain_event(n)
        count += len(notifications)
        if len(notifications) < batch:
            return count
        start = notifications[-1].id + 1


def main(patients: int = 1000, per_patient: int = 100) -> tuple[float, float]:
    """Catch-up / decode ratio and rebuild seconds at patients x per_patient events."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data")
        clinic = bootstrap(settings)
        t0 = time.perf_counter()
        fill(clinic, patients, per_patient)
        events = clinic.position()
        filled = time.perf_counter() - t0
        t0 = time.perf_counter()
        decoded = decode_all(clinic)
        decode_s = time.perf_counter() - t0
        assert decoded == events, (decoded, events)
        runner = index_runner(settings, clinic)
        t0 = time.perf_counter()
        runner.catch_up()
        build_s = time.perf_counter() - t0
        assert runner.position == events
        t0 = time.perf_counter()
        runner.rebuild()
        rebuild_s = time.perf_counter() - t0
        clinic.close()
    decode_rate, build_rate = events / decode_s, events / build_s
    ratio = build_rate / decode_rate
    print(f"\nRecord index and board, {patients:,} patients x {per_patient} events = {events:,}")
    print(f"  store filled in {filled:.0f} s")
    print(f"  read and decode the log: {decode_rate:,.0f} events/s ({decode_s:.1f} s)")
    print(
        f"  index catch-up from empty: {build_rate:,.0f} events/s ({build_s:.1f} s) = "
        f"{ratio:.2f}x of the decode (goal >= 0.5x)"
    )
    goal = " (goal <= 30 s at 1 M events)" if events >= 1_000_000 else ""
    print(f"  full rebuild (tandem rebuild): {rebuild_s:.1f} s{goal}")
    return ratio, rebuild_s


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
