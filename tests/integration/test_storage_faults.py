"""Storage faults and failed commits, with fakes of the store's own port handed to the
composition root: the real SQLite recorder, on a disk that fills up (SQLite's
max_page_count stands in for a full disk), or one whose commits fail or collide.

What must hold: a write that did not commit gets no receipt; a full disk answers 503 with
Retry-After and a message naming the cause, logged once per episode, and /health says so;
service resumes by itself when space returns; a command that fails half-way leaves nothing
behind in the writer's cache.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from fastapi.testclient import TestClient

from adapters.passwords import hash_password
from api.app import create_app
from application.services import Services
from application.writer import CommandWriter
from bootstrap import Overrides, Settings, bootstrap, bootstrap_services
from domain.errors import Conflict, NotFound, NotOnCareTeam, RuleViolation
from domain.events import Actor
from domain.therapy import ProgressNoteWritten
from domain.vocabulary import Role
from tests.builders import THERAPIST, ago, create_user, register_with_team

PASSWORD = "synthetic-password-1"
NOTE = {"text": "Behavioural activation plan reviewed.", "modality": "cbt"}
# A note longer than a database page: storing it always needs new pages.
LONG_NOTE = {"text": "Synthetic session summary, reviewed in detail. " * 200, "modality": "cbt"}


class SmallDisk(SQLiteApplicationRecorder):
    """The real recorder, on a disk that holds no more than it holds now once `fill()` is
    called, until `free()`: every insert that needs a new page then fails as SQLite does
    on a full disk ("database or disk is full")."""

    def __init__(self, real: SQLiteApplicationRecorder) -> None:
        super().__init__(real.datastore, real.events_table_name)
        self.full = False

    def fill(self) -> None:
        self.full = True

    def free(self) -> None:
        self.full = False

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Take the write lock first (a deferred transaction that reads before it writes may
        # meet another writer's commit), then set the limit on this connection:
        # max_page_count cannot go below the file's size, so asking for 1 pins it there.
        c.execute(f"DELETE FROM {self.events_table_name} WHERE 0")
        c.execute(f"PRAGMA max_page_count = {1 if self.full else 1073741823}")
        return super()._insert_events(c, stored_events, **kwargs)


class Colliding(SQLiteApplicationRecorder):
    """The real recorder, whose commits collide (another writer got there first) while
    `colliding` is set: the library's IntegrityError, as on a concurrent write."""

    def __init__(self, real: SQLiteApplicationRecorder) -> None:
        super().__init__(real.datastore, real.events_table_name)
        self.colliding = False
        self.attempts = 0

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        self.attempts += 1
        if self.colliding:
            raise IntegrityError("UNIQUE constraint failed (simulated concurrent write)")
        return super().insert_events(stored_events, **kwargs)


def run_loop(coroutine: Any) -> Any:
    """Run a coroutine on a loop of its own thread (Playwright's sync API may keep a loop
    running in the main thread when the browser tests run first)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@dataclass
class Api:
    client: TestClient
    services: Services
    headers: dict[str, str]
    patient: str

    def note(self, body: dict[str, str] = LONG_NOTE) -> Any:
        return self.client.post(
            f"/patients/{self.patient}/progress-notes", json=body, headers=self.headers
        )

    def view(self) -> Any:
        return self.client.get(f"/patients/{self.patient}/view", headers=self.headers)


def api_with(tmp_path: Path, wrap: Any) -> Iterator[Api]:
    settings = Settings(data_dir=tmp_path / "data")
    seeded = bootstrap(settings)
    create_user(
        seeded,
        Actor.system("tests"),
        email=THERAPIST.user_id,
        display_name="Therapist",
        role=Role.THERAPIST,
        organisation=THERAPIST.organisation,
        password_hash=hash_password(PASSWORD),
    )
    patient = str(register_with_team(seeded).aggregate_id)
    seeded.close()
    services = bootstrap_services(settings, Overrides(recorder=wrap))
    with TestClient(create_app(services=services)) as client:
        token = client.post(
            "/auth/token", data={"username": THERAPIST.user_id, "password": PASSWORD}
        ).json()["access_token"]
        yield Api(client, services, {"Authorization": f"Bearer {token}"}, patient)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[tuple[Api, SmallDisk]]:
    made: list[SmallDisk] = []

    def wrap(real: Any) -> Any:
        made.append(SmallDisk(real))
        return made[-1]

    for api in api_with(tmp_path, wrap):
        yield api, made[0]


@pytest.fixture
def colliding(tmp_path: Path) -> Iterator[tuple[Api, Colliding]]:
    made: list[Colliding] = []

    def wrap(real: Any) -> Any:
        made.append(Colliding(real))
        return made[-1]

    for api in api_with(tmp_path, wrap):
        yield api, made[0]


def test_a_full_disk_answers_503_naming_the_cause_and_acknowledges_nothing(
    disk: tuple[Api, SmallDisk], caplog: pytest.LogCaptureFixture
) -> None:
    api, store = disk
    assert api.note().status_code == 201
    before = api.services.clinic.position()
    store.fill()
    caplog.clear()
    with caplog.at_level(logging.INFO):
        answers = [api.note() for _ in range(5)]
        # A read's access record is small: it may still fit in the last page's free space,
        # as a real disk has some slack; once that is gone, every read is refused too.
        reads = [api.view() for _ in range(40)]
    first_refused = next(n for n, r in enumerate(reads) if r.status_code == 503)
    assert all(r.status_code == 200 for r in reads[:first_refused])
    answers += reads[first_refused:]
    assert len(answers) > 30
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"].isdigit()
        assert answer.json()["type"] == "store_unavailable"
        assert "disk is full" in answer.json()["message"]
    # Nothing refused was stored: only the reads answered before the disk filled are.
    assert api.services.clinic.position() == before + first_refused
    store_logs = [r.getMessage() for r in caplog.records if r.name == "tandem.store"]
    # Once per episode, never per request: reads that still fit end the notes' episode,
    # and the first one refused after them starts another.
    failing = [m for m in store_logs if "cannot write" in m]
    assert len(failing) == (2 if first_refused else 1), store_logs
    assert all("disk is full" in m for m in failing)
    assert not any(r.exc_info for r in caplog.records)  # no tracebacks

    health = api.client.get("/health")
    assert health.status_code == 503
    assert health.json()["store"] == "failing" and "disk is full" in health.json()["cause"]


def test_service_resumes_by_itself_when_space_returns(disk: tuple[Api, SmallDisk]) -> None:
    api, store = disk
    store.fill()
    assert api.note().status_code == 503
    store.free()
    written = api.note()
    assert written.status_code == 201, written.text
    assert api.client.get("/health").json()["store"] == "ok"
    assert api.view().status_code == 200
    # The note refused while the disk was full is not stored; the later one is, once.
    notes = [
        e
        for e in api.services.clinic.patient_events(UUID(written.json()["patient_id"]))
        if isinstance(e, ProgressNoteWritten)
    ]
    assert len(notes) == 1


def test_a_write_that_did_not_commit_gets_no_receipt_and_leaves_no_events_behind(
    disk: tuple[Api, SmallDisk],
) -> None:
    api, store = disk
    store.fill()
    refused = api.note()
    assert refused.status_code == 503 and "position" not in refused.json()
    store.free()
    after = api.note()
    assert after.status_code == 201
    record = api.services.clinic.patient(UUID(after.json()["patient_id"]))
    # The cached record was dropped with the failed commit: the version the receipt gives is
    # the stored one, and the failed note's event did not ride along with the later write.
    assert after.json()["version"] == record.version
    kinds = [type(e).__name__ for e in api.services.clinic.patient_events(record.id)]
    assert kinds.count("ProgressNoteWritten") == 1


def test_a_collision_on_the_retry_is_a_409_conflict_not_a_receipt(
    colliding: tuple[Api, Colliding],
) -> None:
    api, store = colliding
    before = api.services.clinic.position()
    store.colliding = True
    answer = api.note()
    assert answer.status_code == 409, answer.text
    assert answer.json()["type"] == "conflict"
    assert store.attempts >= 2  # the batch, then the retry on fresh state
    assert api.services.clinic.position() == before
    store.colliding = False
    assert api.note().status_code == 201


def test_a_new_aggregate_colliding_on_the_retry_is_a_conflict(tmp_path: Path) -> None:
    made: list[Colliding] = []

    def wrap(real: Any) -> Any:
        made.append(Colliding(real))
        return made[-1]

    clinic = bootstrap(Settings(data_dir=tmp_path), Overrides(recorder=wrap))
    writer = CommandWriter(clinic)
    patient = register_with_team(clinic).aggregate_id
    made[0].colliding = True
    record = clinic.patient(patient)
    record.write_progress_note(THERAPIST, ago(minutes=1), **NOTE)

    from domain.audit import AccessRecord  # a new aggregate, as a read's access record is

    access = AccessRecord.record(
        THERAPIST,
        ago(minutes=1),
        access_id=__import__("uuid").uuid4(),
        patient_id=patient,
        view="view",
        purpose="treatment",
        basis="treating-team",
        classes=[],
        consents=[],
        reflected_position=1,
        consents_version=0,
        viewer_patient_id=None,
        response_sha256="0" * 64,
        view_format=2,
    )
    with pytest.raises(Conflict):
        run_loop(writer.append(access))


def test_a_command_that_fails_half_way_leaves_no_changed_record_in_the_cache(
    tmp_path: Path,
) -> None:
    clinic = bootstrap(Settings(data_dir=tmp_path))
    writer = CommandWriter(clinic)
    patient = register_with_team(clinic).aggregate_id

    def half_way(record: Any) -> None:
        record.write_progress_note(THERAPIST, ago(minutes=2), text="first half", modality="cbt")
        raise RuleViolation("the second half refuses", field="text")

    def whole(record: Any) -> None:
        record.write_progress_note(THERAPIST, ago(minutes=1), text="whole", modality="cbt")

    async def run() -> None:
        await writer.submit(patient, lambda r: None)  # the record is in the cache now
        with pytest.raises(RuleViolation):
            await writer.submit(patient, half_way)
        await writer.submit(patient, whole)

    run_loop(run())
    texts = [e.text for e in clinic.patient_events(patient) if isinstance(e, ProgressNoteWritten)]
    assert texts == ["whole"]


# --- the write path's refusals tell nothing, and a retry keeps the version check ----------


def test_an_outsiders_conditional_write_is_refused_before_the_version_is_compared(
    tmp_path: Path,
) -> None:
    clinic = bootstrap(Settings(data_dir=tmp_path))
    writer = CommandWriter(clinic)
    patient = register_with_team(clinic).aggregate_id
    outsider = THERAPIST.model_copy(update={"user_id": "outsider@test"})

    async def run() -> list[BaseException]:
        from application.recording import record
        from domain.errors import AccessDenied

        user: Any = type("U", (), {"actor": outsider, "patient_id": None})()
        refusals = []
        for target in (patient, __import__("uuid").uuid4()):
            with pytest.raises((AccessDenied, NotOnCareTeam)) as caught:
                await record(writer, user, target, lambda r: None, expected_version=999)
            refusals.append(caught.value)
        return refusals

    existing, missing = run_loop(run())
    # The same refusal whether or not the record exists, and no version in it.
    assert "version" not in str(existing) and "version" not in str(missing)


def test_a_retry_after_a_collision_still_checks_the_expected_version(tmp_path: Path) -> None:
    clinic = bootstrap(Settings(data_dir=tmp_path))
    writer = CommandWriter(clinic)
    other_process = CommandWriter(clinic)
    patient = register_with_team(clinic).aggregate_id

    def note(text: str) -> Any:
        return lambda r: r.write_progress_note(THERAPIST, ago(minutes=1), text=text, modality="cbt")

    async def run() -> None:
        cached = await writer._checkout(patient)
        seen = cached.version
        other_process.write(patient, note("written elsewhere"))  # the cached copy is stale now
        with pytest.raises(Conflict):
            await writer.submit(patient, note("based on what I saw"), expected_version=seen)

    run_loop(run())
    texts = [e.text for e in clinic.patient_events(patient) if isinstance(e, ProgressNoteWritten)]
    assert texts == ["written elsewhere"]


def test_an_id_of_another_kind_of_aggregate_is_never_taken_for_a_record(tmp_path: Path) -> None:
    from application.writer import Target
    from domain.consent import PatientConsents, consents_id_for

    clinic = bootstrap(Settings(data_dir=tmp_path))
    writer = CommandWriter(clinic)
    patient = register_with_team(clinic).aggregate_id
    consents_id = consents_id_for(patient)

    async def run() -> None:
        opened = Target(
            consents_id,
            PatientConsents,
            lambda: PatientConsents.open(THERAPIST, ago(minutes=1), patient),
        )
        await writer.submit(opened, lambda c: None)  # a consents aggregate is in the cache
        with pytest.raises(NotFound):
            await writer.submit(
                consents_id,
                lambda r: r.write_progress_note(
                    THERAPIST, ago(minutes=1), text="x", modality="cbt"
                ),
            )

    run_loop(run())
