"""The record index: incremental and rebuilt states are equal, and a restart resumes
exactly where it stopped."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.cipher import AESCipher
from eventsourcing.utils import get_topic
from pydantic import SecretStr

from adapters.sealing import SealBroken
from application.reading import ReadRequest
from bootstrap import bootstrap, bootstrap_services, index_runner
from bootstrap.settings import Settings
from demo import load_demo
from domain.access import Viewer
from domain.errors import AccessDenied
from domain.record import RecordEvent, kind_of
from domain.registration import MrnClaimed
from domain.therapy import ProgressNoteWritten
from domain.vocabulary import Role
from projections.record_index import EventRow, event_row
from tests.builders import THERAPIST, act, ago, demo_services, register_with_team

TABLES = ("record_events", "consent_events", "access_log", "tracking")


def dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(path) as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in TABLES}


def test_a_rebuilt_index_equals_the_incrementally_built_one(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    clinic = bootstrap(settings)
    runner = index_runner(settings, clinic)
    patient = register_with_team(clinic).aggregate_id
    runner.catch_up()
    load_demo(demo_services(clinic), "index-password-1")
    for n in range(5):  # more work after each catch-up: the index grows in steps
        act(
            clinic,
            patient,
            lambda r, n=n: r.write_progress_note(THERAPIST, ago(minutes=5), text=f"n{n}"),
        )
        runner.catch_up()
    incremental = dump(tmp_path / "views.sqlite")
    assert len(incremental["record_events"]) > 400
    assert runner.position == clinic.position()

    runner.rebuild()
    assert dump(tmp_path / "views.sqlite") == incremental


def test_a_restarted_index_resumes_without_gaps_or_duplicates(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    clinic = bootstrap(settings)
    load_demo(demo_services(clinic), "index-password-1")
    first = index_runner(settings, clinic)
    first.catch_up(batch=50)
    half = clinic.position()
    patient = register_with_team(clinic).aggregate_id
    act(clinic, patient, lambda r: r.write_progress_note(THERAPIST, ago(minutes=1), text="after"))

    second = index_runner(settings, bootstrap(settings))  # a new process, the same files
    assert second.position == half
    second.catch_up()
    rows = dump(tmp_path / "views.sqlite")["record_events"]
    positions = [r[0] for r in rows]
    assert positions == sorted(set(positions))
    assert second.position == clinic.position()
    assert rows[-1][11].startswith("progress note: after")


def test_two_processes_projecting_into_one_index_write_each_event_once(tmp_path: Path) -> None:
    """A CLI command beside the API: two runners on the same files, catching up at once,
    neither refused for the other's rows nor writing one twice."""
    settings = Settings(data_dir=tmp_path)
    clinic = bootstrap(settings)
    runners = [index_runner(settings, clinic), index_runner(settings, bootstrap(settings))]
    patient = register_with_team(clinic).aggregate_id
    failures: list[BaseException] = []

    def keep_up(runner: object) -> None:
        try:
            for _ in range(40):
                runner.catch_up(batch=3)  # type: ignore[attr-defined]
        except BaseException as exc:
            failures.append(exc)

    for n in range(20):
        act(clinic, patient, lambda r, n=n: r.write_progress_note(THERAPIST, ago(), text=f"{n}"))
    threads = [threading.Thread(target=keep_up, args=(r,)) for r in runners]
    for t in threads:
        t.start()
    for n in range(20, 40):
        act(clinic, patient, lambda r, n=n: r.write_progress_note(THERAPIST, ago(), text=f"{n}"))
    for t in threads:
        t.join(60)
    runners[0].catch_up()

    assert failures == []
    positions = [r[0] for r in dump(tmp_path / "views.sqlite")["record_events"]]
    # Each record event once, none missing (the registration's MRN claim is no record's).
    shown = [
        n.id
        for n in clinic.recorder.select_notifications(start=1, limit=10_000)
        if n.topic != get_topic(MrnClaimed)
    ]
    assert positions == shown


@pytest.mark.parametrize("keyed", [False, True], ids=["plain", "sealed"])
def test_rows_read_back_equal_the_rows_projected_from_the_events(
    tmp_path: Path, keyed: bool
) -> None:
    """What `patient_events` hands back (plain tuples, payloads parsed together, sealed
    blobs opened together) equals `event_row` of each stored event, times' text included."""
    key = SecretStr(AESCipher.create_key(32)) if keyed else None
    settings = Settings(data_dir=tmp_path, cipher_key=key)
    clinic = bootstrap(settings)
    load_demo(demo_services(clinic), "index-password-1")
    runner = index_runner(settings, clinic)
    runner.catch_up()
    projected: dict[UUID, list[EventRow]] = {}
    for position, event in clinic.all_events():
        if isinstance(event, RecordEvent):
            projected.setdefault(event.originator_id, []).append(event_row(position, event))
    assert len(projected) >= 4
    for patient_id, rows in projected.items():
        read = runner.view.patient_events(patient_id)
        assert read == rows
        assert [(r.clinical_time_text, r.recorded_at_text) for r in read] == [
            (r.clinical_time.isoformat(), r.recorded_at.isoformat()) for r in rows
        ]
        assert [r.payload for r in read] == [r.payload for r in rows]
        middle = rows[len(rows) // 2].position
        assert runner.view.patient_events(patient_id, up_to=middle) == [
            r for r in rows if r.position <= middle
        ]


def test_a_refused_read_opens_none_of_the_patients_other_rows(tmp_path: Path) -> None:
    """A read is decided on the registration and the team's rows alone, and the rest of the
    record is read only once it is allowed: with a note's sealed row broken, a reader off
    the team is refused as usual (nothing else was opened), while the team's read fails on
    the broken row."""
    settings = Settings(data_dir=tmp_path, cipher_key=SecretStr(AESCipher.create_key(32)))
    services = bootstrap_services(settings)
    try:
        patient = register_with_team(services.clinic).aggregate_id
        act(
            services.clinic,
            patient,
            lambda r: r.write_progress_note(THERAPIST, ago(minutes=1), text="plan kept"),
        )
        services.reader.index.catch_up()
        with sqlite3.connect(tmp_path / "views.sqlite") as conn:
            (blob,) = conn.execute(
                "SELECT sealed FROM record_events WHERE kind = ?",
                (kind_of(ProgressNoteWritten),),
            ).fetchone()
            broken = bytes([blob[0] ^ 1]) + blob[1:]
            conn.execute(
                "UPDATE record_events SET sealed = ? WHERE kind = ?",
                (broken, kind_of(ProgressNoteWritten)),
            )
        outsider = Viewer("someone@elsewhere", Role.THERAPIST, "Elsewhere Clinic")
        with pytest.raises(AccessDenied):
            services.reader.prepare(ReadRequest(outsider, patient, "view"))
        member = Viewer(THERAPIST.user_id, THERAPIST.role, THERAPIST.organisation)
        with pytest.raises(SealBroken):
            services.reader.prepare(ReadRequest(member, patient, "view"))
    finally:
        services.close()
