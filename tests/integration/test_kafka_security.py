"""The broker outside organisations connect to (issue 12, item 10), against the real secured
broker scripts/kafka.sh starts (SASL_SSL, SCRAM-SHA-512, the StandardAuthorizer):

- a client without a credential, or speaking PLAINTEXT, or with a wrong password, is refused;
- adding a recipient through POST /directory answers its broker credential once (kept in no
  event), which reads its own topic and group and nothing else, and writes nowhere; only the
  relay's credential writes to the recipient's topic;
- removing the recipient (POST /directory/{entry_id}/removal) revokes it: the consumer that
  was reading is refused at its next poll, and the credential no longer authenticates.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import (
    GroupAuthorizationFailedError,
    KafkaError,
    TopicAuthorizationFailedError,
)
from pydantic import SecretStr

from adapters.kafka_connection import KafkaConnection
from adapters.passwords import Argon2Passwords
from api.app import create_app
from bootstrap import bootstrap_services
from bootstrap.settings import Settings
from domain.events import Actor
from domain.vocabulary import Role
from tests.builders import appended_since, create_user
from tests.conftest import SecuredBroker

PASSWORD = "synthetic-password-1"
STAFF = "therapist@test"


@dataclass
class Clinic:
    client: TestClient
    services: Any
    headers: dict[str, str]

    def add(self, name: str) -> dict[str, Any]:
        answer = self.client.post(
            "/directory",
            json={"kind": "organisation", "name": name, "role": "primary-care"},
            headers=self.headers,
        )
        assert answer.status_code == 201, answer.text
        return dict(answer.json())


@pytest.fixture
def clinic(tmp_path: Path, kafka: SecuredBroker) -> Iterator[Clinic]:
    """The API with the broker's admin credential: the directory provisions the broker."""
    settings = Settings(
        data_dir=tmp_path / "data",
        kafka_bootstrap=kafka.bootstrap,
        kafka_ca_file=kafka.admin.ca_file,
        kafka_admin_username=kafka.admin.username,
        kafka_admin_password=SecretStr(kafka.admin.password),
        kafka_relay_username=kafka.relay.username,
    )
    services = bootstrap_services(settings)
    create_user(
        services.clinic,
        Actor.system("tests"),
        email=STAFF,
        display_name="therapist",
        role=Role.THERAPIST,
        organisation="Test Clinic",
        password_hash=Argon2Passwords().hash(PASSWORD),
    )
    with TestClient(create_app(services=services)) as client:
        answer = client.post("/auth/token", data={"username": STAFF, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        yield Clinic(client, services, {"Authorization": f"Bearer {answer.json()['access_token']}"})


def as_recipient(kafka: SecuredBroker, answer: dict[str, Any]) -> KafkaConnection:
    credential = answer["broker_credential"]
    return kafka.admin.as_user(credential["username"], credential["password"])


def consumer(connection: KafkaConnection, topic: str, group: str) -> KafkaConsumer:
    return KafkaConsumer(
        topic,
        **connection.configs(),
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        request_timeout_ms=10_000,
    )


def read(reader: KafkaConsumer, wanted: int, seconds: float = 30.0) -> list[Any]:
    got: list[Any] = []
    deadline = time.monotonic() + seconds
    while len(got) < wanted and time.monotonic() < deadline:
        for records in reader.poll(timeout_ms=500).values():
            got.extend(records)
    reader.commit()
    return got


def refused(attempt: Callable[[], object], seconds: float = 20.0) -> KafkaError:
    """The error `attempt` raises, trying again (a poll may first answer nothing) until then."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            attempt()
        except KafkaError as exc:
            return exc
    raise AssertionError(f"not refused within {seconds} s")


def produce(connection: KafkaConnection, topic: str, value: dict[str, Any]) -> None:
    producer = KafkaProducer(
        **connection.configs(), acks="all", max_block_ms=10_000, request_timeout_ms=10_000
    )
    try:
        producer.send(topic, key=b"patient", value=json.dumps(value).encode()).get(timeout=20)
    finally:
        producer.close(timeout=5)


def test_a_client_without_a_valid_credential_over_tls_is_refused(kafka: SecuredBroker) -> None:
    attempts: dict[str, dict[str, Any]] = {
        "plaintext, no credential": {"security_protocol": "PLAINTEXT"},
        "tls, no credential": {
            "security_protocol": "SSL",
            "ssl_cafile": str(kafka.admin.ca_file),
        },
        "sasl without tls": {
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": kafka.relay.username,
            "sasl_plain_password": kafka.relay.password,
        },
        "a wrong password": {
            **kafka.relay.configs(),
            "sasl_plain_password": "not-the-password",
        },
    }
    for name, configs in attempts.items():
        with pytest.raises(KafkaError):
            admin = KafkaAdminClient(
                **{"bootstrap_servers": kafka.bootstrap, **configs},
                request_timeout_ms=5_000,
                bootstrap_timeout_ms=5_000,
            )
            try:
                admin.list_topics()
            finally:
                admin.close()
            pytest.fail(f"{name}: the broker answered")
    # The right credential, as a control: the same call answers.
    admin = KafkaAdminClient(**kafka.relay.configs(), request_timeout_ms=5_000)
    try:
        assert isinstance(admin.list_topics(), list)
    finally:
        admin.close()


@pytest.fixture
def two(clinic: Clinic, kafka: SecuredBroker) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Two recipients added through POST /directory, with one envelope each on its topic
    written by the relay's credential; removed afterwards."""
    before = clinic.services.clinic.position()
    first = clinic.add(f"Practice {uuid.uuid4().hex[:8]}")
    second = clinic.add(f"Practice {uuid.uuid4().hex[:8]}")
    mine, theirs = first["broker_credential"], second["broker_credential"]
    assert mine["mechanism"] == "SCRAM-SHA-512"
    assert mine["topic"] != theirs["topic"] and mine["group"] != theirs["group"]
    # The password is in the answer and in no stored event.
    stored = clinic.services.clinic.recorder.select_notifications(start=before + 1, limit=100)
    assert len(stored) == 3  # the directory opened, two entries registered
    for password in (mine["password"], theirs["password"]):
        assert all(password.encode() not in n.state for n in stored)
    try:
        produce(kafka.relay, mine["topic"], {"n": 1})
        produce(kafka.relay, theirs["topic"], {"n": 2})
        yield first, second
    finally:
        for answer in (first, second):
            clinic.client.post(
                f"/directory/{answer['entry_id']}/removal",
                json={"reason": "test over"},
                headers=clinic.headers,
            )


def test_a_recipient_reads_its_own_topic_and_group_only(
    kafka: SecuredBroker, two: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    first, second = two
    mine, theirs = first["broker_credential"], second["broker_credential"]
    recipient = as_recipient(kafka, first)
    own = consumer(recipient, mine["topic"], mine["group"])
    try:
        assert [json.loads(r.value) for r in read(own, 1)] == [{"n": 1}]
    finally:
        own.close()

    # Subscribed to the other's topic, it is shown none of its partitions and reads nothing;
    # asking for the topic's offsets directly is refused.
    subscribed = consumer(recipient, theirs["topic"], mine["group"])
    try:
        assert read(subscribed, 1, seconds=5) == []
        assert not subscribed.partitions_for_topic(theirs["topic"])
        with pytest.raises(TopicAuthorizationFailedError):
            subscribed.end_offsets([TopicPartition(theirs["topic"], p) for p in range(6)])
        assert subscribed.end_offsets([TopicPartition(mine["topic"], 0)])  # its own: allowed
    finally:
        subscribed.close()

    other_group = consumer(recipient, mine["topic"], theirs["group"])
    try:
        error = refused(lambda: other_group.poll(timeout_ms=500))
        assert isinstance(error, GroupAuthorizationFailedError), repr(error)
    finally:
        other_group.close()


def test_a_recipient_writes_nowhere_and_only_the_relay_writes(
    kafka: SecuredBroker, two: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    first, second = two
    mine, theirs = first["broker_credential"], second["broker_credential"]
    recipient = as_recipient(kafka, first)
    for topic in (mine["topic"], theirs["topic"], f"tandem.share.{uuid.uuid4().hex}"):
        with pytest.raises(KafkaError):
            produce(recipient, topic, {"forged": True})
    with pytest.raises(KafkaError):  # the relay writes to directory entries' topics alone
        produce(kafka.relay, f"tandem.share.{uuid.uuid4().hex}", {"stray": True})
    # Nothing forged arrived: the second recipient sees the relay's envelope alone.
    reader = consumer(as_recipient(kafka, second), theirs["topic"], theirs["group"])
    try:
        assert [json.loads(r.value) for r in read(reader, 2, seconds=5)] == [{"n": 2}]
    finally:
        reader.close()


def test_removing_a_recipient_revokes_its_credential_and_acls(
    clinic: Clinic, kafka: SecuredBroker
) -> None:
    added = clinic.add(f"Practice {uuid.uuid4().hex[:8]}")
    credential = added["broker_credential"]
    recipient = as_recipient(kafka, added)
    produce(kafka.relay, credential["topic"], {"n": 1})
    reading = consumer(recipient, credential["topic"], credential["group"])
    try:
        assert len(read(reading, 1)) == 1

        before = clinic.services.clinic.position()
        unknown = clinic.client.post(
            f"/directory/{uuid.uuid4()}/removal", json={"reason": "x"}, headers=clinic.headers
        )
        assert unknown.status_code == 422, unknown.text
        assert unknown.json()["fields"][0]["field"] == "entry_id"
        no_reason = clinic.client.post(
            f"/directory/{added['entry_id']}/removal", json={}, headers=clinic.headers
        )
        assert no_reason.status_code == 422, no_reason.text
        assert appended_since(clinic.services.clinic, before) == []

        removed = clinic.client.post(
            f"/directory/{added['entry_id']}/removal",
            json={"reason": "the practice closed"},
            headers=clinic.headers,
        )
        assert removed.status_code == 200, removed.text
        listed = clinic.client.get("/directory", headers=clinic.headers).json()
        assert added["entry_id"] not in {e["entry_id"] for e in listed}

        # The consumer that was reading is refused at its next poll ...
        error = refused(lambda: reading.poll(timeout_ms=500))
        assert isinstance(error, KafkaError), repr(error)
    finally:
        reading.close()
    # ... and the credential no longer opens a connection.
    with pytest.raises(KafkaError):
        fresh = consumer(recipient, credential["topic"], credential["group"])
        try:
            read(fresh, 1, seconds=5)
        finally:
            fresh.close()
    # The relay's right to that topic went with it.
    error = refused(lambda: produce(kafka.relay, credential["topic"], {"n": 2}))
    assert isinstance(error, KafkaError), repr(error)


def test_a_new_credential_replaces_the_old_one(clinic: Clinic, kafka: SecuredBroker) -> None:
    added = clinic.add(f"Practice {uuid.uuid4().hex[:8]}")
    try:
        again = clinic.client.post(
            f"/directory/{added['entry_id']}/credential", headers=clinic.headers
        )
        assert again.status_code == 200, again.text
        new = again.json()
        assert new["username"] == added["broker_credential"]["username"]
        assert new["password"] != added["broker_credential"]["password"]
        with pytest.raises(KafkaError):
            admin = KafkaAdminClient(
                **as_recipient(kafka, added).configs(),
                request_timeout_ms=5_000,
                bootstrap_timeout_ms=5_000,
            )
            admin.close()
        fresh = consumer(
            kafka.admin.as_user(new["username"], new["password"]), new["topic"], new["group"]
        )
        try:
            assert read(fresh, 0, seconds=1) == []
        finally:
            fresh.close()
    finally:
        clinic.client.post(
            f"/directory/{added['entry_id']}/removal",
            json={"reason": "test over"},
            headers=clinic.headers,
        )
