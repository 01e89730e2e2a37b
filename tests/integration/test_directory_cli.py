"""`tandem directory add / credential / remove` and `tandem demo` against the real secured
broker (issue 12, item 10): a recipient's broker password is printed once and stored in no
file of the data directory; a new credential ends the old one; removal revokes it; the demo
loader, given the broker's admin credential, issues each of its recipients their access."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError
from typer.testing import CliRunner

from adapters.kafka_connection import KafkaConnection
from adapters.receiver import Receiver, ReceiverStore
from adapters.relay import Checkpoint, Relay, topic_for
from api.cli import app
from bootstrap import bootstrap
from bootstrap.settings import Settings
from tests.builders import appended_since
from tests.conftest import SecuredBroker

runner = CliRunner()
CREDENTIAL = re.compile(
    r"TANDEM_KAFKA_USERNAME=(?P<username>\S+)\n\s*TANDEM_KAFKA_PASSWORD=(?P<password>\S+)"
)


@pytest.fixture
def data_dir(tmp_path: Path, kafka: SecuredBroker, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI's settings: a fresh store and the broker's admin credential; topics under a
    prefix of this run's own (the demo's recipients have the same names every run)."""
    data = tmp_path / "data"
    for name, value in {
        "TANDEM_DATA_DIR": str(data),
        "TANDEM_KAFKA_BOOTSTRAP": kafka.bootstrap,
        "TANDEM_KAFKA_CA_FILE": str(kafka.admin.ca_file or ""),
        "TANDEM_KAFKA_ADMIN_USERNAME": kafka.admin.username,
        "TANDEM_KAFKA_ADMIN_PASSWORD": kafka.admin.password,
        "TANDEM_KAFKA_RELAY_USERNAME": kafka.relay.username,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TANDEM_DEMO_PASSWORD", raising=False)
    monkeypatch.setattr(f"{Relay.__module__}.TOPIC_PREFIX", f"tandem-test-{uuid.uuid4().hex[:12]}.")
    return data


def stored_bytes(data: Path) -> list[bytes]:
    """Every file of the data directory (the event store, its WAL, the index, ...)."""
    return [f.read_bytes() for f in data.rglob("*") if f.is_file()]


def authenticates(connection: KafkaConnection) -> bool:
    try:
        admin = KafkaAdminClient(
            **connection.configs(), request_timeout_ms=5_000, bootstrap_timeout_ms=5_000
        )
    except KafkaError:
        return False
    admin.close()
    return True


def read_own_topic(connection: KafkaConnection, topic: str, group: str) -> list[Any]:
    reader = KafkaConsumer(
        topic,
        **connection.configs(),
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        request_timeout_ms=10_000,
    )
    try:
        got: list[Any] = []
        for _ in range(40):
            for records in reader.poll(timeout_ms=500).values():
                got.extend(records)
            if got:
                break
        return got
    finally:
        reader.close()


def test_directory_add_credential_and_remove_through_the_cli(
    data_dir: Path, kafka: SecuredBroker
) -> None:
    name = f"Practice {uuid.uuid4().hex[:8]}"
    added = runner.invoke(app, ["directory", "add", "organisation", name, "--role", "primary-care"])
    assert added.exit_code == 0, added.output
    entry_id = re.search(r"Registered organisation [^:]+:\s+(\S+)", added.output)
    found = CREDENTIAL.search(added.output)
    assert entry_id is not None and found is not None, added.output
    first = kafka.admin.as_user(found["username"], found["password"])
    assert found["username"] == f"share-{entry_id[1]}"
    # Printed once; in no stored byte (the events hold no secret).
    assert not any(found["password"].encode() in b for b in stored_bytes(data_dir))
    topic = topic_for(name)
    assert f"reads topic {topic}" in added.output
    producer = KafkaProducer(**kafka.relay.configs(), acks="all", max_block_ms=10_000)
    try:
        producer.send(topic, key=b"patient", value=b"{}").get(timeout=20)
    finally:
        producer.close(timeout=5)
    assert len(read_own_topic(first, topic, f"tandem-receiver-{topic}")) == 1

    # A new credential: printed once too, and the old one stops working.
    again = runner.invoke(app, ["directory", "credential", entry_id[1]])
    assert again.exit_code == 0, again.output
    renewed = CREDENTIAL.search(again.output)
    assert renewed is not None and renewed["password"] != found["password"], again.output
    second = kafka.admin.as_user(renewed["username"], renewed["password"])
    assert not any(renewed["password"].encode() in b for b in stored_bytes(data_dir))
    assert not authenticates(first)
    assert authenticates(second)

    # Removing an entry no one registered, or without a reason, is refused; nothing appended.
    clinic = bootstrap(Settings())
    before = clinic.position()
    clinic.close()
    for args in (
        ["directory", "remove", str(uuid.uuid4()), "--reason", "closed"],
        ["directory", "remove", entry_id[1], "--reason", " "],
    ):
        refused = runner.invoke(app, args)
        assert refused.exit_code == 1, (args, refused.output)
    clinic = bootstrap(Settings())
    assert appended_since(clinic, before) == []
    clinic.close()
    assert authenticates(second)

    removed = runner.invoke(app, ["directory", "remove", entry_id[1], "--reason", "closed"])
    assert removed.exit_code == 0, removed.output
    assert not authenticates(second)
    listed = runner.invoke(app, ["directory", "list"])
    assert entry_id[1] not in listed.output


def test_the_demo_loader_issues_each_recipient_its_broker_access(
    data_dir: Path, kafka: SecuredBroker
) -> None:
    from demo.common import MAPLE
    from demo.consents import RECIPIENTS

    loaded = runner.invoke(app, ["demo", "--password", "demo-password-1"])
    assert loaded.exit_code == 0, loaded.output
    printed = {
        m["name"]: kafka.admin.as_user(m["username"], m["password"])
        for m in re.finditer(
            r"^(?P<name>[^\n]+):\nBroker credential[^\n]*\n\s*" + CREDENTIAL.pattern,
            loaded.output,
            re.MULTILINE,
        )
    }
    assert set(printed) == {name for _kind, name, _role, _email in RECIPIENTS}, loaded.output
    stored = stored_bytes(data_dir)
    assert not any(c.password.encode() in b for c in printed.values() for b in stored)
    clinic = bootstrap(Settings())
    relay = Relay(clinic, kafka.relay, Checkpoint(data_dir / "relay.sqlite"))
    receiver = Receiver(printed[MAPLE], MAPLE, ReceiverStore(data_dir / "maple.sqlite"))
    try:
        # Every recipient has its topic: nothing is held, and Maple reads what it was given.
        assert relay.run_once() > 0
        assert relay.held() == {}
        # Ava's consent to Maple covers her demographics (so the practice can tell whom the
        # record is about) and her medication, nothing else.
        consented = {"demographics", "medication"}
        for _ in range(40):
            receiver.poll_once(timeout_ms=500)
            if {e["data_class"] for e in receiver.store.events()} >= consented:
                break
        assert {e["data_class"] for e in receiver.store.events()} == consented
    finally:
        relay.close()
        receiver.close()
        access = kafka.access()
        for entry in clinic.directory().entries.values():
            access.revoke(entry)
        clinic.close()
