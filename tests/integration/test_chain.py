"""The hash chain over the notification log, against every backend (SQLite file, PostgreSQL).

Tampering is done with the database's own client, beside the code under test, the way an
intruder with write access to the store would do it.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError
from psycopg import sql

from adapters.chain import PostgresChainStore, SQLiteChainStore
from application.chain_link import ChainError, Link, MalformedEvent, StoredRow
from application.clinic import Clinic
from application.hash_chain import HashChain
from application.ports import ChainStore, ChainStoreError
from bootstrap import bootstrap, chain_store_for, postgres_connection
from bootstrap.settings import Settings
from domain.vocabulary import Role
from tests.builders import PRESCRIBER, SYSTEM, act, ago, register_with_team
from tests.conftest import postgres_settings

BATCH = 3  # small, so that a handful of events spans several batches


class CountingStore(ChainStore):
    """The real store, recording how many rows each read returned."""

    def __init__(self, inner: ChainStore) -> None:
        self.inner = inner
        self.events_table = inner.events_table
        self.reads: list[int] = []

    def events(self, start: int | None, limit: int, stop: int | None = None) -> list[StoredRow]:
        rows = self.inner.events(start, limit, stop)
        self.reads.append(len(rows))
        return rows

    def count_events(self, after: int) -> int:
        return self.inner.count_events(after)

    def links(self, start: int | None, limit: int, stop: int | None = None) -> list[Link]:
        links = self.inner.links(start, limit, stop)
        self.reads.append(len(links))
        return links

    def head(self) -> Link | None:
        return self.inner.head()

    def append(self, links: Sequence[Link], after: int) -> bool:
        return self.inner.append(links, after)

    def close(self) -> None:
        self.inner.close()


def documented_link(
    previous: bytes, n: int, oid: uuid.UUID, version: int, topic: str, state: bytes
) -> bytes:
    """The link format as the module docstring states it, written out independently."""
    t = topic.encode()
    return hashlib.sha256(
        previous
        + n.to_bytes(8, "big")
        + oid.bytes
        + version.to_bytes(8, "big")
        + len(t).to_bytes(8, "big")
        + t
        + len(state).to_bytes(8, "big")
        + state
    ).digest()


class ChainContract:
    """What the chain must do on every backend. Subclasses provide `settings` and `run`,
    which executes SQL against the raw tables: `{events}`, `{chain}`, `{pos}` (the events'
    position column) and `{p}` (a parameter marker) are filled in per backend."""

    skips_a_position_on_conflict = False

    @pytest.fixture
    def settings(self) -> Settings:
        raise NotImplementedError  # overridden per backend

    def run(self, settings: Settings, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        raise NotImplementedError  # overridden per backend

    @pytest.fixture
    def clinic(self, settings: Settings) -> Iterator[Clinic]:
        app = bootstrap(settings)
        yield app
        app.close()

    @pytest.fixture
    def store(self, settings: Settings, clinic: Clinic) -> Iterator[ChainStore]:
        with chain_store_for(settings) as store:
            yield store

    @pytest.fixture
    def chain(self, clinic: Clinic, store: ChainStore) -> HashChain:
        return HashChain(clinic, store, batch=BATCH)

    def write_events(self, clinic: Clinic, patients: int = 2) -> None:
        for _ in range(patients):
            patient = register_with_team(clinic).aggregate_id
            act(
                clinic,
                patient,
                lambda r: r.start_medication(
                    PRESCRIBER,
                    ago(days=1),
                    medication_id=uuid.uuid4(),
                    drug="sertraline",
                    rxnorm="36437",
                    dose={"amount": "25", "unit": "mg"},
                    schedule={"frequency": "once-daily"},
                    indication="recurrent major depression",
                ),
            )

    def positions(self, settings: Settings) -> list[int]:
        return [r[0] for r in self.run(settings, "SELECT {pos} FROM {events} ORDER BY {pos}")]

    def middle(self, settings: Settings) -> int:
        positions = self.positions(settings)
        return positions[len(positions) // 2]

    # --- an untouched log -------------------------------------------------------------

    def test_an_empty_log_is_intact_with_nothing_linked(self, chain: HashChain) -> None:
        assert chain.extend() == 0
        result = chain.verify()
        assert (result.intact, result.checked, result.head, result.first_broken) == (
            True,
            0,
            0,
            None,
        )
        assert result.head_link_hex == "00" * 32

    def test_an_intact_log_verifies_every_event_up_to_the_head(
        self, settings: Settings, clinic: Clinic, chain: HashChain
    ) -> None:
        self.write_events(clinic)
        assert chain.extend() == clinic.position()
        result = chain.verify()
        assert result.intact, result.reason
        assert result.checked == len(self.positions(settings)) > 2 * BATCH
        assert result.head == clinic.position()
        assert result.first_broken is None
        assert result.unlinked == 0
        assert "not yet linked" not in result.reason

    def test_the_head_link_follows_the_documented_format(
        self, clinic: Clinic, chain: HashChain
    ) -> None:
        self.write_events(clinic)
        chain.extend()
        link = bytes(32)
        for n in clinic.recorder.select_notifications(start=1, limit=10_000):
            assert isinstance(n.originator_id, uuid.UUID)
            link = documented_link(
                link, n.id, n.originator_id, n.originator_version, n.topic, n.state
            )
        assert chain.verify().head_link_hex == link.hex()

    def test_extending_again_changes_nothing(
        self, settings: Settings, clinic: Clinic, chain: HashChain
    ) -> None:
        self.write_events(clinic)
        head = chain.extend()
        links = self.run(settings, "SELECT position, link FROM {chain} ORDER BY position")
        assert chain.extend() == head
        assert chain.extend() == head
        assert self.run(settings, "SELECT position, link FROM {chain} ORDER BY position") == links
        assert len(links) == len(self.positions(settings))

    def test_verify_reads_in_batches(
        self, settings: Settings, clinic: Clinic, store: ChainStore
    ) -> None:
        self.write_events(clinic)
        counting = CountingStore(store)
        chain = HashChain(clinic, counting, batch=BATCH)
        chain.extend()
        counting.reads.clear()
        assert chain.verify().intact
        assert max(counting.reads) <= BATCH
        assert sum(counting.reads) == 2 * len(self.positions(settings))  # rows and links

    def test_extenders_running_side_by_side_build_one_chain(
        self, settings: Settings, clinic: Clinic, chain: HashChain
    ) -> None:
        self.write_events(clinic, patients=3)
        stores = [chain_store_for(settings) for _ in range(4)]
        heads: list[int] = []
        try:
            extenders = [
                threading.Thread(
                    target=lambda s=s: heads.append(HashChain(clinic, s, batch=2).extend())
                )
                for s in stores
            ]
            for t in extenders:
                t.start()
            for t in extenders:
                t.join(timeout=60)
        finally:
            for s in stores:
                s.close()
        assert heads == [clinic.position()] * 4
        result = chain.verify()
        assert result.intact, result.reason
        assert result.checked == len(self.positions(settings))

    def test_a_write_refused_as_a_conflict_leaves_the_chain_intact(
        self, settings: Settings, clinic: Clinic, chain: HashChain
    ) -> None:
        patient = register_with_team(clinic).aggregate_id
        first, second = clinic.patient(patient), clinic.patient(patient)
        for record in (first, second):
            record.add_team_member(
                SYSTEM,
                ago(hours=1),
                user_id=f"{uuid.uuid4().hex}@test",
                role=Role.THERAPIST,
                organisation="Test Clinic",
            )
        clinic.save(first)
        with pytest.raises(IntegrityError):
            clinic.save(second)
        self.write_events(clinic, patients=1)
        positions = self.positions(settings)
        skipped = set(range(1, positions[-1] + 1)) - set(positions)
        assert bool(skipped) == self.skips_a_position_on_conflict
        chain.extend()
        result = chain.verify()
        assert result.intact, result.reason
        assert result.checked == len(positions)
        assert result.head == clinic.position()

    # --- tampering ----------------------------------------------------------------------

    def test_one_flipped_byte_in_a_stored_event_is_named_at_its_position(
        self, settings: Settings, clinic: Clinic, chain: HashChain
    ) -> None:
        self.write_events(clinic)
        chain.extend()
        k = self.middle(settings)
        [(state,)] = self.run(settings, "SELECT state FROM {events} WHERE {pos} = {p}", k)
        altered = bytearray(state)
        altered[len(altered) // 2] ^= 0x01
        self.run(settings, "UPDATE {events} SET state = {p} WHERE {pos} = {p}", bytes(altered), k)

        result = chain.verify()
        assert not result.intact
        assert result.first_broken == k
        assert result.reason == f"event at position {k} does not match its link"
        assert result.checked == self.positions(settings).index(k)

    def test_an_altered_topic_is_named_at_its_position(
        self, settings: Settings, clinic: Clinic, chain: HashChain
    ) -> None:
        self.write_events(clinic)
        chain.extend()
        k = self.middle(settings)
        self.run(settings, "UPDATE {events} SET topic = topic || ' ' WHERE {pos} = {p}", k)
        result = chain.verify()
        assert (result.intact, result.first_broken) == (False, k)
        assert result.reason == f"event at position {k} does not match its link"

    def test_a_deleted_event_row_is_named(
        self, settings: Settings, clinic: Clinic, chain: HashChain
    ) -> None:
        self.write_events(clinic)
        chain.extend()
        k = self.middle(settings)
        self.run(settings, "DELETE FROM {events} WHERE {pos} = {p}", k)
        result = chain.verify()
        assert (result.intact, result.first_broken) == (False, k)
        assert result.reason == f"event at position {k} is missing"

    def test_an_altered_link_is_named(
        self, settings: Settings, clinic: Clinic, chain: HashChain
    ) -> None:
        self.write_events(clinic)
        chain.extend()
        k = self.middle(settings)
        self.run(settings, "UPDATE {chain} SET link = {p} WHERE position = {p}", bytes(32), k)
        result = chain.verify()
        assert (result.intact, result.first_broken) == (False, k)
        assert result.reason == f"link at position {k} was altered (it does not match its event)"

    def test_a_deleted_link_is_named(
        self, settings: Settings, clinic: Clinic, chain: HashChain
    ) -> None:
        self.write_events(clinic)
        chain.extend()
        k = self.middle(settings)
        self.run(settings, "DELETE FROM {chain} WHERE position = {p}", k)
        result = chain.verify()
        assert (result.intact, result.first_broken) == (False, k)
        assert result.reason == f"link at position {k} is missing"

    def test_a_row_inserted_where_the_log_skipped_a_position_is_named(
        self, settings: Settings, clinic: Clinic, chain: HashChain
    ) -> None:
        self.write_events(clinic)
        k = self.middle(settings)
        # A gap, as a failed PostgreSQL transaction leaves one; the chain links over it.
        self.run(settings, "DELETE FROM {events} WHERE {pos} = {p}", k)
        chain.extend()
        assert chain.verify().intact
        self.run(
            settings,
            "INSERT INTO {events} ({pos}, originator_id, originator_version, topic, state) "
            "VALUES ({p}, {p}, 1, 'domain.patient:Registered', {p})",
            k,
            self.stored_id(uuid.uuid4()),
            b"{}",
        )
        result = chain.verify()
        assert (result.intact, result.first_broken) == (False, k)
        assert result.reason == f"event at position {k} is not in the chain (an inserted row)"

    def stored_id(self, value: uuid.UUID) -> object:
        return value

    # --- the unlinked tail ----------------------------------------------------------------

    def test_events_written_after_the_last_extend_are_not_yet_linked_until_extended(
        self, settings: Settings, clinic: Clinic, chain: HashChain
    ) -> None:
        self.write_events(clinic, patients=1)
        head = chain.extend()
        before = len(self.positions(settings))
        self.write_events(clinic, patients=1)
        waiting = len(self.positions(settings)) - before

        result = chain.verify()
        assert result.intact, result.reason
        assert (result.head, result.checked, result.unlinked) == (head, before, waiting)
        assert f"not yet linked: {waiting} events" in result.reason

        assert chain.extend() == clinic.position()
        result = chain.verify()
        assert result.intact, result.reason
        assert (result.checked, result.unlinked) == (before + waiting, 0)
        assert "not yet linked" not in result.reason


class TestSQLiteChain(ChainContract):
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return Settings(data_dir=tmp_path / "data")

    def run(self, settings: Settings, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        text = statement.format(events="stored_events", chain="records_chain", pos="rowid", p="?")
        with sqlite3.connect(settings.sqlite_path) as db:
            return db.execute(text, params).fetchall()

    def stored_id(self, value: uuid.UUID) -> object:
        return value.hex

    def test_the_chain_lives_in_the_events_file(self, settings: Settings, clinic: Clinic) -> None:
        with chain_store_for(settings) as store:
            assert isinstance(store, SQLiteChainStore)
            HashChain(clinic, store).extend()
        tables = {r[0] for r in self.run(settings, "SELECT name FROM sqlite_master")}
        assert {"stored_events", "records_chain"} <= tables

    def test_an_originator_id_rewritten_in_capitals_is_malformed(
        self, settings: Settings, clinic: Clinic, chain: HashChain
    ) -> None:
        # UUID("ABC...") parses to the same id, so the library's log reader would hash the
        # same bytes; but the aggregate's lookup is case-sensitive, so the event would vanish.
        self.write_events(clinic)
        chain.extend()
        k = self.middle(settings)
        self.run(
            settings,
            "UPDATE {events} SET originator_id = upper(originator_id) WHERE {pos} = {p}",
            k,
        )
        result = chain.verify()
        assert (result.intact, result.first_broken) == (False, k)
        assert "malformed" in result.reason

    def test_extend_refuses_to_link_a_row_the_library_could_not_have_written(
        self, settings: Settings, clinic: Clinic, chain: HashChain
    ) -> None:
        self.write_events(clinic)
        k = self.middle(settings)
        self.run(settings, "UPDATE {events} SET state = 'text' WHERE {pos} = {p}", k)
        with pytest.raises(MalformedEvent) as refused:
            chain.extend()
        assert refused.value.position == k
        assert chain.verify().head < k


@pytest.mark.postgres
class TestPostgresChain(ChainContract):
    skips_a_position_on_conflict = True  # the sequence value of the failed insert is spent

    @pytest.fixture
    def settings(self, postgres_schema: str) -> Settings:
        return postgres_settings(postgres_schema)

    def run(self, settings: Settings, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        schema = settings.postgres_schema
        query = sql.SQL(statement.replace("{p}", "%s")).format(
            events=sql.Identifier(schema, "records_events"),
            chain=sql.Identifier(schema, "records_chain"),
            pos=sql.Identifier("notification_id"),
        )
        with psycopg.connect(
            host=settings.postgres_host,
            port=settings.postgres_port,
            dbname=settings.postgres_dbname,
            user=settings.postgres_user,
            password=settings.postgres_password.get_secret_value(),
            autocommit=True,
        ) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []


def test_a_chain_store_for_another_log_is_refused(tmp_path: Path) -> None:
    clinic = bootstrap(Settings(data_dir=tmp_path))
    try:
        with pytest.raises(ChainError, match="records_events"):
            HashChain(clinic, PostgresChainStore(postgres_connection(Settings(store="postgres"))))
    finally:
        clinic.close()


def test_an_unreachable_database_is_a_chain_store_error() -> None:
    settings = Settings(store="postgres", postgres_host="127.0.0.1", postgres_port=1)
    with (
        chain_store_for(settings) as store,
        pytest.raises(ChainStoreError, match=r"127\.0\.0\.1:1\b"),
    ):
        store.head()


def test_a_store_without_the_events_table_is_a_chain_store_error(tmp_path: Path) -> None:
    with SQLiteChainStore(tmp_path / "empty.sqlite") as store:
        with pytest.raises(ChainStoreError, match="stored_events"):
            store.events(None, 10)
        assert store.head() is None  # and the store is usable again afterwards
