"""Event-store save rates: one event per transaction against batched transactions,
for SQLite (a file in a temporary data directory) and PostgreSQL (a fresh schema)."""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from application.clinic import Clinic
from bootstrap import bootstrap
from bootstrap.settings import Settings
from domain.events import Actor, now
from domain.patient import PatientRecord

SYSTEM = Actor.system("bench")
EVENTS = 2000
BATCH = 100
PG: dict[str, str | int] = {
    "host": "127.0.0.1",
    "port": 5432,
    "dbname": "tandem",
    "user": "tandem",
    "password": "tandem",
}


def records(count: int) -> list[PatientRecord]:
    at = now() - timedelta(days=1)
    return [
        PatientRecord.register(
            SYSTEM,
            at,
            mrn=f"B-{uuid.uuid4().hex[:12]}",
            given_name="Bench",
            family_name="Synthetic",
            birth_date=date(1990, 1, 1),
            sex_at_birth="unknown",
        )
        for _ in range(count)
    ]


def rate(clinic: Clinic, batch: int) -> float:
    todo = records(EVENTS)
    started = time.perf_counter()
    for i in range(0, EVENTS, batch):
        clinic.save(*todo[i : i + batch])
    return EVENTS / (time.perf_counter() - started)


@contextmanager
def sqlite_store() -> Iterator[Clinic]:
    with tempfile.TemporaryDirectory() as tmp:
        clinic = bootstrap(Settings(data_dir=Path(tmp)))
        try:
            yield clinic
        finally:
            clinic.close()


@contextmanager
def postgres_store() -> Iterator[Clinic]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(autocommit=True, **PG) as conn:  # type: ignore[arg-type]  # dict of str|int
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    clinic = bootstrap(
        Settings.model_validate(
            {"store": "postgres", "postgres_password": "tandem", "postgres_schema": schema}
        )
    )
    try:
        yield clinic
    finally:
        clinic.close()
        with psycopg.connect(autocommit=True, **PG) as conn:  # type: ignore[arg-type]  # dict of str|int
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def main() -> None:
    print(
        f"Event store save rate ({EVENTS} registration events; batched = {BATCH} per transaction)"
    )
    print(f"{'store':<12}{'1 per txn (ev/s)':>20}{'batched (ev/s)':>18}{'ratio':>9}")
    stores: list[tuple[str, Callable[[], AbstractContextManager[Clinic]]]] = [
        ("sqlite", sqlite_store),
        ("postgres", postgres_store),
    ]
    for name, store in stores:
        with store() as clinic:
            rate(clinic, BATCH)  # warm-up: tables, caches, connection pool
            single = rate(clinic, 1)
            batched = rate(clinic, BATCH)
        print(f"{name:<12}{single:>20,.0f}{batched:>18,.0f}{batched / single:>8.1f}x")


if __name__ == "__main__":
    main()
