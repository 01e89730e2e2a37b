"""Group commit: concurrent commands share a transaction without weakening what a receipt
promises, and one refused command does not sink the others in its batch."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from application.clinic import Clinic, Receipt
from application.writer import CommandWriter
from bootstrap import bootstrap
from bootstrap.settings import Settings
from domain.errors import InvalidInput
from tests.builders import THERAPIST, ago, register_with_team


@pytest.fixture
def clinic(tmp_path: Path) -> Iterator[Clinic]:
    app = bootstrap(Settings(data_dir=tmp_path))
    yield app
    app.close()


def note(text: str) -> Any:
    return lambda r: r.write_progress_note(THERAPIST, ago(minutes=5), text=text)


def bad_answers(r: Any) -> None:
    r.answer_questionnaire(THERAPIST, ago(minutes=1), instrument="gad-7", answers={"1": 9})


def submit_together(writer: CommandWriter, jobs: list[tuple[Any, Any]]) -> list[Any]:
    """Start every submission in the same turn of the loop; return receipts or errors."""

    async def run() -> list[Any]:
        for patient, _ in jobs:  # warm the cache so no submission waits on a load
            await writer._checkout(patient)
        tasks = [asyncio.ensure_future(writer.submit(p, c)) for p, c in jobs]
        return await asyncio.gather(*tasks, return_exceptions=True)

    # A loop of its own, in a thread of its own: other tests (Playwright's sync API) may
    # leave an event loop running in the main thread.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


def test_concurrent_commands_share_one_transaction_and_each_is_stored(clinic: Clinic) -> None:
    writer = CommandWriter(clinic)
    patients = [register_with_team(clinic).aggregate_id for _ in range(5)]
    results = submit_together(writer, [(patients[i % 5], note(f"note {i}")) for i in range(30)])

    assert all(isinstance(r, Receipt) for r in results), results
    assert writer.batches == 1
    assert writer.writes == 30
    for receipt in results:
        stored = clinic.recorder.select_notifications(start=receipt.position, limit=1)[0]
        assert stored.originator_id == receipt.aggregate_id
        assert stored.originator_version == receipt.version
    for patient in patients:
        versions = [e.originator_version for e in clinic.patient_events(patient)]
        assert versions == list(range(1, 3 + 6 + 1))  # registration, two members, six notes


def test_a_refused_command_fails_alone(clinic: Clinic) -> None:
    writer = CommandWriter(clinic)
    patient = register_with_team(clinic).aggregate_id
    before = clinic.position()
    results = submit_together(
        writer, [(patient, note("before")), (patient, bad_answers), (patient, note("after"))]
    )
    assert isinstance(results[0], Receipt) and isinstance(results[2], Receipt)
    assert isinstance(results[1], InvalidInput)
    assert clinic.position() == before + 2
    texts = [getattr(e, "text", None) for e in clinic.patient_events(patient)]
    assert texts[-2:] == ["before", "after"]


def test_a_write_from_another_process_makes_the_stale_command_run_again(clinic: Clinic) -> None:
    writer = CommandWriter(clinic)
    a = register_with_team(clinic).aggregate_id
    b = register_with_team(clinic).aggregate_id
    submit_together(writer, [(a, note("cached"))])  # the writer now caches a
    other = clinic.patient(a)  # "another process" writes to a behind the writer's back
    other.write_progress_note(THERAPIST, ago(minutes=1), text="elsewhere")
    clinic.save(other)

    results = submit_together(writer, [(b, note("fine")), (a, note("stale")), (b, note("also"))])
    assert all(isinstance(r, Receipt) for r in results), results
    texts = [getattr(e, "text", None) for e in clinic.patient_events(a)]
    assert texts[-3:] == ["cached", "elsewhere", "stale"]
    versions = [e.originator_version for e in clinic.patient_events(b)]
    assert versions == list(range(1, len(versions) + 1))
    assert [getattr(e, "text", None) for e in clinic.patient_events(b)][-2:] == ["fine", "also"]


def test_every_receipt_is_held_by_a_reopened_store(clinic: Clinic, tmp_path: Path) -> None:
    writer = CommandWriter(clinic)
    patient = register_with_team(clinic).aggregate_id
    results = submit_together(writer, [(patient, note(f"n{i}")) for i in range(10)])
    reopened = bootstrap(Settings(data_dir=tmp_path))
    try:
        held = {e.originator_version for e in reopened.patient_events(patient)}
        assert {r.version for r in results} <= held
    finally:
        reopened.close()
