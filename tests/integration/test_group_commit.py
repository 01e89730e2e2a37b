"""Group commit: concurrent commands share a transaction without weakening what a receipt
promises, and one refused command does not sink the others in its batch."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.bootstrap import bootstrap
from adapters.clinic import Clinic, Receipt
from adapters.settings import Settings
from adapters.writer import CommandWriter
from domain.errors import InvalidInput
from tests.builders import THERAPIST, ago, register_with_team


@pytest.fixture
def clinic(tmp_path: Path) -> Iterator[Clinic]:
    app = bootstrap(Settings(data_dir=tmp_path))
    yield app
    app.close()


def note(text: str) -> Any:
    return lambda r: r.write_progress_note(THERAPIST, ago(minutes=5), text=text)


def held_batch(writer: CommandWriter, jobs: list[tuple[Any, Any]]) -> list[Receipt | BaseException]:
    """Block the writer on a first job until every other job is queued, so they all land
    in the next batch; then release it and collect what each submitter got back."""
    release = threading.Event()
    gate_patient = jobs[0][0]
    results: list[Receipt | BaseException] = [RuntimeError("not run")] * len(jobs)

    def gate(r: Any) -> None:
        release.wait(10)

    def submit(index: int, patient: Any, command: Any) -> None:
        try:
            results[index] = writer.submit(patient, command)
        except BaseException as exc:
            results[index] = exc

    first = threading.Thread(target=submit, args=(0, gate_patient, gate))
    first.start()
    time.sleep(0.05)  # the writer is now inside `gate`
    threads = [
        threading.Thread(target=submit, args=(i, p, c)) for i, (p, c) in enumerate(jobs) if i
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while writer._jobs.qsize() < len(threads) and time.monotonic() < deadline:
        time.sleep(0.005)
    release.set()
    for thread in [first, *threads]:
        thread.join(10)
    return results


def test_concurrent_commands_share_one_transaction_and_each_is_stored(clinic: Clinic) -> None:
    writer = CommandWriter(clinic)
    patients = [register_with_team(clinic).aggregate_id for _ in range(5)]
    jobs = [(patients[0], None)] + [(patients[i % 5], note(f"note {i}")) for i in range(1, 31)]
    batches_before = writer.batches
    results = held_batch(writer, jobs)
    writer.close()

    receipts = [r for r in results[1:] if isinstance(r, Receipt)]
    assert len(receipts) == 30, results
    assert writer.batches - batches_before == 1  # the gate committed nothing; 30 in one go
    for receipt in receipts:
        stored = clinic.recorder.select_notifications(start=receipt.position, limit=1)[0]
        assert stored.originator_id == receipt.aggregate_id
        assert stored.originator_version == receipt.version
    for patient in patients:
        versions = [e.originator_version for e in clinic.patient_events(patient)]
        assert versions == list(range(1, len(versions) + 1))
        assert len(versions) == 3 + 6  # registration, two members, six notes


def test_a_refused_command_fails_alone(clinic: Clinic) -> None:
    writer = CommandWriter(clinic)
    patient = register_with_team(clinic).aggregate_id
    def bad(r: Any) -> None:
        r.answer_questionnaire(THERAPIST, ago(minutes=1), instrument="gad-7", answers={"1": 9})

    jobs = [(patient, None), (patient, note("before")), (patient, bad), (patient, note("after"))]
    results = held_batch(writer, jobs)
    writer.close()
    assert isinstance(results[1], Receipt) and isinstance(results[3], Receipt)
    assert isinstance(results[2], InvalidInput)
    texts = [getattr(e, "text", None) for e in clinic.patient_events(patient)]
    assert texts[-2:] == ["before", "after"]


def test_a_write_from_another_process_is_a_conflict_for_the_stale_job_only(clinic: Clinic) -> None:
    writer = CommandWriter(clinic)
    a = register_with_team(clinic).aggregate_id
    b = register_with_team(clinic).aggregate_id
    writer.submit(a, note("cached"))  # the writer now caches a
    other = clinic.patient(a)  # "another process" writes to a behind the writer's back
    other.write_progress_note(THERAPIST, ago(minutes=1), text="elsewhere")
    clinic.save(other)

    results = held_batch(writer, [(b, None), (a, note("stale")), (b, note("fine"))])
    writer.close()
    # The batch collided on a; the writer retried each job alone on fresh records.
    assert isinstance(results[1], Receipt) and isinstance(results[2], Receipt)
    texts = [getattr(e, "text", None) for e in clinic.patient_events(a)]
    assert texts[-3:] == ["cached", "elsewhere", "stale"]
