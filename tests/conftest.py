"""Shared fixtures: real stores (SQLite files, a real PostgreSQL server) per test.

With CI=true a service that cannot be reached fails the test; elsewhere the test is
skipped with a message saying how to get the service.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from adapters.settings import Settings

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

PG = {
    "host": os.environ.get("TANDEM_POSTGRES_HOST", "127.0.0.1"),
    "port": int(os.environ.get("TANDEM_POSTGRES_PORT", "5432")),
    "dbname": os.environ.get("TANDEM_POSTGRES_DBNAME", "tandem"),
    "user": os.environ.get("TANDEM_POSTGRES_USER", "tandem"),
    "password": os.environ.get("TANDEM_POSTGRES_PASSWORD", "tandem"),
}


def service_missing(what: str, how: str) -> None:
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
