"""Shared fixtures: real stores (SQLite files, a real PostgreSQL server) per test.

With CI=true a service that cannot be reached fails the test; elsewhere the test is
skipped with a message saying how to get the service.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest
from psycopg import sql
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from adapters import passwords
from adapters.kafka_access import BrokerAccess
from adapters.kafka_connection import KafkaConnection
from bootstrap.settings import Settings

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_configure(config: pytest.Config) -> None:
    """The suite's own throwaway accounts are hashed with Argon2id at its lowest cost: the
    same algorithm, library and verifier (a hash carries its parameters), about a
    millisecond a hash or sign-in where the production cost takes 0.3 s, which the suite's
    thousands of sign-ins cannot afford. Processes the tests start (the CLI, uvicorn) hash
    at the production cost; tests/unit/test_passwords.py checks that cost."""
    passwords._hasher = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    passwords._dummy_hash.cache_clear()


PG = {
    "host": os.environ.get("TANDEM_POSTGRES_HOST", "127.0.0.1"),
    "port": int(os.environ.get("TANDEM_POSTGRES_PORT", "5432")),
    "dbname": os.environ.get("TANDEM_POSTGRES_DBNAME", "tandem"),
    "user": os.environ.get("TANDEM_POSTGRES_USER", "tandem"),
    "password": os.environ.get("TANDEM_POSTGRES_PASSWORD", "tandem"),
}

# The local broker scripts/kafka.sh starts (make test runs it), found as the script finds it
# (TANDEM_KAFKA_PORT, TANDEM_KAFKA_DIR); TANDEM_KAFKA_BOOTSTRAP overrides the address.
KAFKA_PORT = os.environ.get("TANDEM_KAFKA_PORT", "9092")
KAFKA_DIR = Path(
    os.environ.get("TANDEM_KAFKA_DIR")
    or ("/tmp/tandem-kafka" if KAFKA_PORT == "9092" else f"/tmp/tandem-kafka-{KAFKA_PORT}")
)
KAFKA_BOOTSTRAP = os.environ.get("TANDEM_KAFKA_BOOTSTRAP") or f"127.0.0.1:{KAFKA_PORT}"


def _kafka_credentials() -> dict[str, str]:
    """The broker's TANDEM_KAFKA_* lines (scripts/kafka.sh writes them, mode 0600, in its
    runtime dir); the process environment overrides each."""
    found: dict[str, str] = {}
    path = KAFKA_DIR / "credentials.env"
    if path.exists():
        for line in path.read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep and not name.startswith("#"):
                found[name.strip()] = value.strip()
    return found | {k: v for k, v in os.environ.items() if k.startswith("TANDEM_KAFKA_")}


@dataclass(frozen=True)
class SecuredBroker:
    """The secured test broker: the clinic's admin credential (a super user) and the
    relay's (no rights but those each recipient's credential grants it)."""

    admin: KafkaConnection
    relay: KafkaConnection

    @property
    def bootstrap(self) -> str:
        return self.admin.bootstrap

    def access(self) -> BrokerAccess:
        return BrokerAccess(self.admin, self.relay.username)

    def env(self) -> dict[str, str]:
        """The relay's settings, for a `tandem relay` subprocess."""
        return {
            "TANDEM_KAFKA_BOOTSTRAP": self.bootstrap,
            "TANDEM_KAFKA_USERNAME": self.relay.username,
            "TANDEM_KAFKA_PASSWORD": self.relay.password,
            "TANDEM_KAFKA_CA_FILE": str(self.relay.ca_file or ""),
        }


def _test_broker() -> SecuredBroker | None:
    found = _kafka_credentials()
    if not found.get("TANDEM_KAFKA_ADMIN_PASSWORD"):
        return None
    ca = found.get("TANDEM_KAFKA_CA_FILE")
    admin = KafkaConnection(
        found.get("TANDEM_KAFKA_BOOTSTRAP") or KAFKA_BOOTSTRAP,
        found.get("TANDEM_KAFKA_ADMIN_USERNAME", "tandem-admin"),
        found["TANDEM_KAFKA_ADMIN_PASSWORD"],
        Path(ca) if ca else None,
    )
    relay = admin.as_user(
        found.get("TANDEM_KAFKA_RELAY_USERNAME", "tandem-relay"),
        found.get("TANDEM_KAFKA_RELAY_PASSWORD", ""),
    )
    return SecuredBroker(admin, relay)


def service_missing(what: str, how: str) -> NoReturn:
    """A service a test needs is missing: under CI=true a failure, otherwise a skip that
    says how to get it (the one place either happens)."""
    message = f"{what} is not reachable; {how}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: a missing service is a failure)")
    pytest.skip(message)


def _pg_connect() -> psycopg.Connection:
    try:
        return psycopg.connect(connect_timeout=3, autocommit=True, **PG)
    except psycopg.OperationalError as exc:
        service_missing(
            f"PostgreSQL at {PG['host']}:{PG['port']} ({exc.__class__.__name__})",
            "run `make test` (it starts one) or `bash scripts/postgres.sh`",
        )
        raise


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A fresh schema in the tandem database, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with _pg_connect() as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    yield schema
    with _pg_connect() as conn:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def postgres_settings(schema: str, **extra: object) -> Settings:
    return Settings(
        store="postgres",
        postgres_host=PG["host"],
        postgres_port=PG["port"],
        postgres_dbname=PG["dbname"],
        postgres_user=PG["user"],
        postgres_password=PG["password"],
        postgres_schema=schema,
        **extra,  # type: ignore[arg-type]
    )


def raw_postgres_states(schema: str) -> list[bytes]:
    """Every stored event's raw state bytes, straight from the table."""
    with _pg_connect() as conn:
        rows = conn.execute(
            sql.SQL("SELECT state FROM {}.records_events").format(sql.Identifier(schema))
        ).fetchall()
    return [bytes(r[0]) for r in rows]


def _kafka_problem(broker: SecuredBroker) -> str | None:
    """None if the broker answers an admin describe_cluster; otherwise what went wrong."""
    first = broker.bootstrap.split(",", maxsplit=1)[0].strip()
    host, _, port = first.rpartition(":")
    if not host:
        host, port = first, "9092"
    try:  # fails fast: kafka-python alone would retry the bootstrap for its whole timeout
        with socket.create_connection((host, int(port)), timeout=3):
            pass
    except OSError as exc:
        return exc.__class__.__name__
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(
            **broker.admin.configs(), request_timeout_ms=10_000, bootstrap_timeout_ms=10_000
        )
        try:
            brokers = admin.describe_cluster()["brokers"]
        finally:
            admin.close()
    except KafkaError as exc:
        return exc.__class__.__name__
    return None if brokers else "no brokers in the cluster"


@pytest.fixture(scope="session")
def kafka() -> SecuredBroker:
    """The secured Kafka broker (127.0.0.1:9092 by default) with its credentials, checked
    to answer the admin."""
    how = "run `make test` (it starts one) or `bash scripts/kafka.sh`"
    broker = _test_broker()
    if broker is None:
        service_missing(f"Kafka's credentials ({KAFKA_DIR / 'credentials.env'})", how)
    problem = _kafka_problem(broker)
    if problem is not None:
        service_missing(f"Kafka at {broker.bootstrap} ({problem})", how)
    return broker


def create_kafka_topic(
    admin_connection: KafkaConnection, partitions: int = 6, prefix: str = "tandem-test"
) -> str:
    """Create a topic with a fresh random name; returns once every partition has a leader."""
    from kafka import KafkaAdminClient

    topic = f"{prefix}-{uuid.uuid4().hex[:12]}"
    admin = KafkaAdminClient(**admin_connection.configs(), request_timeout_ms=10_000)
    try:
        admin.create_topics(
            {topic: {"num_partitions": partitions, "replication_factor": 1}},
            timeout_ms=10_000,
            wait_for_metadata=True,
        )
    finally:
        admin.close()
    return topic


def delete_kafka_topic(admin_connection: KafkaConnection, topic: str) -> None:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(**admin_connection.configs(), request_timeout_ms=10_000)
    try:
        admin.delete_topics([topic], timeout_ms=10_000, raise_errors=False)
    finally:
        admin.close()


@pytest.fixture
def kafka_topic(kafka: SecuredBroker) -> Iterator[str]:
    """A fresh topic (6 partitions, replication factor 1) on the test broker, deleted afterwards."""
    topic = create_kafka_topic(kafka.admin)
    yield topic
    delete_kafka_topic(kafka.admin, topic)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """The tests run in random order (pytest-randomly): name the seed even under -q, so that
    a failure's order can be run again."""
    seed = getattr(config.option, "randomly_seed", None)
    if isinstance(seed, int):
        terminalreporter.write_line(f"random order: --randomly-seed={seed} runs it again")
