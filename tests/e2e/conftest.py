"""An API on a fresh SQLite store, with synthetic users signed in through the token route."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.passwords import hash_password
from api.app import create_app
from bootstrap import Services, bootstrap_services
from bootstrap.settings import Settings
from domain.events import Actor
from domain.vocabulary import Role
from tests.builders import create_user

PASSWORD = "synthetic-password-1"
USERS = {
    "therapist@test": (Role.THERAPIST, "Test Clinic"),
    "prescriber@test": (Role.PRESCRIBER, "Test Clinic"),
    "other.therapist@test": (Role.THERAPIST, "Elsewhere Clinic"),
    "pcp@test": (Role.PRIMARY_CARE, "Test Family Practice"),
    "counselor@test": (Role.SCHOOL_COUNSELOR, "Test College Counseling"),
    "compliance@test": (Role.COMPLIANCE, "Test Clinic"),
}


@dataclass
class Api:
    client: TestClient
    services: Services
    tokens: dict[str, str]

    def auth(self, email: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[email]}"}

    def position(self) -> int:
        return self.services.clinic.position()


@pytest.fixture(scope="module")
def password_hash() -> str:
    return hash_password(PASSWORD)


def add_users(services: Services, password_hash: str) -> None:
    """Every account of USERS, created as an operator would before the API starts."""
    for email, (role, org) in USERS.items():
        create_user(
            services.clinic,
            Actor.system("tests"),
            email=email,
            display_name=email.split("@")[0],
            role=role,
            organisation=org,
            password_hash=password_hash,
        )


@contextmanager
def api_over(services: Services, signed_in: Iterable[str] = tuple(USERS)) -> Iterator[Api]:
    """The API over `services` with its lifespan, a bearer token for each of `signed_in`;
    leaving the block stops it cleanly."""
    with TestClient(create_app(services=services)) as client:
        tokens = {}
        for email in signed_in:
            answer = client.post("/auth/token", data={"username": email, "password": PASSWORD})
            assert answer.status_code == 200, answer.text
            tokens[email] = answer.json()["access_token"]
        yield Api(client, services, tokens)


@pytest.fixture
def api(tmp_path: Path, password_hash: str) -> Iterator[Api]:
    services = bootstrap_services(Settings(data_dir=tmp_path / "data"))
    add_users(services, password_hash)
    with api_over(services) as found:
        yield found


def directory_entry(
    api: Api,
    names: str,
    kind: str = "user",
    role: str | None = None,
    by: str = "therapist@test",
) -> str:
    """The id of the directory entry a consent names `names` by (a user's email, or an
    organisation's name), registered through the API if it is not there yet; a user of
    USERS is registered in their account's role, anyone else as primary care."""
    listed = api.client.get("/directory", headers=api.auth(by))
    assert listed.status_code == 200, listed.text
    for entry in listed.json():
        if entry["kind"] == kind and (entry["email"] if kind == "user" else entry["name"]) == names:
            return str(entry["entry_id"])
    if role is None:
        role = USERS[names][0].value if names in USERS else Role.PRIMARY_CARE.value
    body = {
        "kind": kind,
        "name": names if kind == "organisation" else names.split("@", maxsplit=1)[0],
        "role": role,
        "email": names if kind == "user" else None,
    }
    answer = api.client.post("/directory", json=body, headers=api.auth(by))
    assert answer.status_code == 201, answer.text
    return str(answer.json()["entry_id"])
