"""What the tests of signed heads, keys and recovery share: an API served with its lifespan
over the settings the environment names (a data directory, a signing key and a head log
outside it), and the CLI."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app as cli
from bootstrap import bootstrap_services
from bootstrap.settings import Settings
from tests.e2e.conftest import Api, add_users, api_over

runner = CliRunner()


@dataclass(frozen=True)
class Paths:
    data: Path
    key: Path
    heads: Path

    @property
    def db(self) -> Path:
        return self.data / "events.sqlite"


def anchored_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Paths:
    """Settings in the environment, as a deployment sets them (the CLI reads them too)."""
    found = Paths(tmp_path / "data", tmp_path / "keys" / "signing.json", tmp_path / "anchor.jsonl")
    monkeypatch.setenv("TANDEM_DATA_DIR", str(found.data))
    monkeypatch.setenv("TANDEM_SIGNING_KEY_FILE", str(found.key))
    monkeypatch.setenv("TANDEM_HEAD_LOG", str(found.heads))
    # Only the writer's own wake-up links the chain while the API runs (no timer).
    monkeypatch.setenv("TANDEM_CHAIN_SECONDS", "3600")
    return found


@contextmanager
def serving(password_hash: str, first: bool = True) -> Iterator[Api]:
    """The API with its lifespan, over the settings the environment names; leaving the
    block stops it cleanly."""
    services = bootstrap_services(Settings())
    if first:
        add_users(services, password_hash)
    with api_over(services, ("therapist@test", "prescriber@test", "compliance@test")) as api:
        yield api


def register(api: Api) -> str:
    body = {
        "mrn": f"H-{uuid.uuid4().hex[:8]}",
        "given_name": "Rowan",
        "family_name": "Synthetic",
        "birth_date": "1988-07-14",
        "sex_at_birth": "male",
    }
    answer = api.client.post("/patients", json=body, headers=api.auth("therapist@test"))
    assert answer.status_code == 201, answer.text
    return str(answer.json()["patient_id"])


def heads(paths: Paths) -> list[dict[str, object]]:
    return [json.loads(line) for line in paths.heads.read_text().splitlines() if line]


def tandem(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args), input="synthetic-password-1\nsynthetic-password-1\n")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def verify() -> tuple[int, str]:
    return tandem("verify")


def last_position(paths: Paths) -> int:
    with sqlite3.connect(paths.db) as conn:
        return int(conn.execute("SELECT max(rowid) FROM stored_events").fetchone()[0])
