"""With a cipher key set, no patient text is left in any byte Tandem writes (issue 11, item 2).

The demo is loaded into a keyed store, served (API reads of every view, the pages, the
progress report PDF, a break-the-glass read, compliance's pages, patient search), shared
through the real Kafka broker by the relay, received by Maple's receiver (with a key of its
own) and reminded. Then every file of the data directory and of the receiver's is searched,
raw and decoded (zlib/gzip streams inflated wherever one starts, base64 runs decoded), for
every name, MRN, birth date, e-mail, drug name and free-text sentence the demo recorded,
taken from the store itself through the application. None may appear; and patient search
still finds each demo patient by name, MRN and birth date.
"""

from __future__ import annotations

import base64
import binascii
import re
import sqlite3
import time
import uuid
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.cipher import AESCipher
from fastapi.testclient import TestClient
from pydantic import SecretStr

from adapters.receiver import Receiver, ReceiverKeyMismatch, ReceiverStore
from adapters.relay import Relay
from adapters.sealing import Sealer
from adapters.views import SQLiteIndexView
from api.app import create_app
from bootstrap import (
    Settings,
    bootstrap_services,
    receiver_for,
    receiver_store_for,
    relay_for,
    reminders_for,
)
from demo import STORIES, load_demo
from demo.common import MAPLE
from domain.events import Actor
from domain.record import RecordEvent
from domain.vocabulary import Role
from projections.record_index import BASE_FIELDS
from tests.builders import (
    THERAPIST,
    appended_since,
    create_user,
    demo_services,
    post_login,
    register_with_team,
)
from tests.conftest import SecuredBroker

PASSWORD = "demo-password-123"
OUTSIDER = "outside.therapist@test"
EMERGENCY = "Unconscious in the emergency department after an overdose of unknown pills"
REVIEW_NOTE = "Confirmed with the emergency department that the patient was unconscious"


def keyed(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        cipher_key=SecretStr(AESCipher.create_key(32)),
        receiver_cipher_key=SecretStr(AESCipher.create_key(32)),
    )


# --- what must not be found, taken from the store through the application ------------------


def _strings(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)
    elif isinstance(value, str):
        yield key, value


def secrets_of(services: Any) -> set[str]:
    """Every name, MRN, birth date, e-mail, phone, drug name and sentence of free text in
    the demo's record events, and their summaries."""
    found: set[str] = set()
    clear: set[str] = set()  # organisation names and roles: kept in the clear on purpose
    for _, event in services.clinic.all_events():
        clear.add(event.actor.organisation)
        if not isinstance(event, RecordEvent):
            continue
        payload = event.model_dump(mode="json", exclude=BASE_FIELDS)
        if "given_name" in payload:
            found |= {
                payload["given_name"],
                payload["family_name"],
                f"{payload['given_name']} {payload['family_name']}",
                payload["birth_date"],
            }
        for key, text in _strings(payload):
            if key == "organisation":
                clear.add(text)
            elif key in {"mrn", "email", "phone"} or "drug" in key or "name" in key:
                found.add(text)
            elif " " in text.strip() and len(text) >= 12:
                found.add(text)  # a note, a reason, an answer in words
        found.add(event.summary())
    # A word shorter than six letters ("Ava") would turn up by chance in megabytes of
    # ciphertext; each is searched for within the longer texts holding it (the full name,
    # the e-mail address, the summaries).
    return {s for s in found - clear if len(s) >= 6}


# --- searching every byte, decoded -----------------------------------------------------------

ZLIB_START = re.compile(rb"\x78[\x01\x5e\x9c\xda]|\x1f\x8b\x08")
BASE64_RUN = re.compile(rb"[A-Za-z0-9+/_-]{16,}={0,2}")


def _inflated(data: bytes) -> Iterator[bytes]:
    for m in ZLIB_START.finditer(data):
        try:
            out = zlib.decompressobj(zlib.MAX_WBITS | 32).decompress(data[m.start() :], 1 << 24)
        except zlib.error:
            continue
        if out:
            yield out


def _base64(data: bytes) -> Iterator[bytes]:
    for m in BASE64_RUN.finditer(data):
        run = m.group().rstrip(b"=")
        if len(run) % 4 == 1:
            run = run[:-1]  # not base64 to its last character: the run before it may be
        for alt in (b"+/", b"-_"):
            try:
                yield base64.b64decode(run + b"=" * (-len(run) % 4), altchars=alt)
            except (binascii.Error, ValueError):
                continue


def layers(data: bytes) -> Iterator[bytes]:
    """The bytes, every zlib/gzip stream in them inflated, every base64 run decoded (and
    those decoded once more)."""
    yield data
    for inflated in _inflated(data):
        yield inflated
        yield from _base64(inflated)
    for decoded in _base64(data):
        yield decoded
        yield from _inflated(decoded)


def found_in(folder: Path, secrets: set[str]) -> dict[str, set[str]]:
    """Each file under `folder` in which a secret appears, with the secrets found."""
    needles = [(s, s.encode(), len(s) >= 8) for s in secrets]
    hits: dict[str, set[str]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        for layer in layers(path.read_bytes()):
            lowered = layer.lower()
            for text, raw, fold in needles:
                if (raw.lower() in lowered) if fold else (raw in layer):
                    hits.setdefault(str(path.relative_to(folder)), set()).add(text)
    return hits


def test_the_search_finds_what_is_hidden_compressed_or_encoded(tmp_path: Path) -> None:
    """The search itself: a sentence in the clear, deflated, gzipped or base64'd is found."""
    secret = "Started sertraline after a difficult week at work"
    (tmp_path / "plain").write_bytes(b"x" * 100 + secret.upper().encode() + b"y")
    (tmp_path / "zlib").write_bytes(b"\x00" * 7 + zlib.compress(secret.encode()) + b"\x01")
    gz = zlib.compressobj(wbits=zlib.MAX_WBITS | 16)
    (tmp_path / "gzip").write_bytes(gz.compress(secret.encode()) + gz.flush())
    (tmp_path / "b64").write_bytes(b'{"v":"' + base64.b64encode(secret.encode()) + b'"}')
    packed = base64.urlsafe_b64encode(zlib.compress(secret.encode()))
    (tmp_path / "b64zlib").write_bytes(packed)
    (tmp_path / "clean").write_bytes(AESCipher.random_bytes(4096))
    assert set(found_in(tmp_path, {secret})) == {"plain", "zlib", "gzip", "b64", "b64zlib"}


# --- the journey -----------------------------------------------------------------------------


def drain(receiver: Receiver, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    quiet = 0
    while time.monotonic() < deadline and quiet < 2:
        got = receiver.poll_once(timeout_ms=1000)
        quiet = quiet + 1 if not (got.new or got.duplicates or got.refused) else 0


def token(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    answer = client.post("/auth/token", data={"username": email, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def browser(app: Any, email: str) -> TestClient:
    client = TestClient(app)
    answer = post_login(client, email, PASSWORD, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return client


def serve_and_read(app: Any, client: TestClient) -> None:
    """The clinic's day: every API view of every demo patient, the pages, the PDF, an
    emergency read and compliance's review of it."""
    therapist = token(client, "therapist@demo")
    for story in STORIES:
        pid = story.patient_id
        for path in ("", "/view", "/timeline", "/events", "/consents", "/care"):
            answer = client.get(f"/patients/{pid}{path}", headers=therapist)
            assert answer.status_code == 200, (path, answer.text)
        for path in ("/outcomes", "/medication-timeline"):
            assert client.get(f"/patients/{pid}{path}", headers=therapist).status_code == 200
    assert client.get("/board", headers=therapist).status_code == 200
    pcp = token(client, "pcp@demo")
    ava = STORIES[0].patient_id
    assert client.get(f"/patients/{ava}/view", headers=pcp).status_code == 200

    outsider = token(client, OUTSIDER)
    glass = client.post(
        f"/patients/{ava}/break-glass", json={"reason": EMERGENCY}, headers=outsider
    )
    assert glass.status_code == 200, glass.text
    reviewer = token(client, "compliance@demo")
    reviewed = client.post(
        f"/compliance/break-glass/{glass.headers['X-Access-Id']}/review",
        json={"outcome": "appropriate", "note": REVIEW_NOTE},
        headers=reviewer,
    )
    assert reviewed.status_code == 200, reviewed.text
    replay = client.get(
        f"/compliance/access/{glass.headers['X-Access-Id']}/replay", headers=reviewer
    )
    assert replay.status_code == 200 and replay.json()["matches"], replay.text

    pages = browser(app, "therapist@demo")
    assert pages.get("/caseload").status_code == 200
    assert pages.get(f"/patients/{ava}").status_code == 200
    own = browser(app, STORIES[0].email)
    assert own.get("/me").status_code == 200
    report = own.get(f"/patients/{ava}/report.pdf")
    assert report.status_code == 200 and report.content.startswith(b"%PDF")
    compliance = browser(app, "compliance@demo")
    for page in (
        "/compliance",
        "/compliance/access-log",
        "/compliance/review",
        f"/compliance/disclosure-report/{ava}",
    ):
        assert compliance.get(page).status_code == 200, page


def search(client: TestClient, auth: dict[str, str], q: str) -> list[str]:
    answer = client.get("/patients", params={"q": q}, headers=auth)
    assert answer.status_code == 200, answer.text
    return [p["patient_id"] for p in answer.json()["patients"]]


def assert_search_finds_the_demo_patients(client: TestClient) -> None:
    therapist = token(client, "therapist@demo")
    for story in STORIES:
        names = story.demographics()
        pid = str(story.patient_id)
        full = f"{names['given_name']} {names['family_name']}"
        for q in (
            full,
            full.upper(),
            names["family_name"],
            names["given_name"].lower(),
            story.mrn,
            story.mrn.lower(),
            names["birth_date"].isoformat(),
        ):
            assert pid in search(client, therapist, q), q
        found = client.get("/patients", params={"q": story.mrn}, headers=therapist).json()
        assert found["patients"][0]["name"] == full
        assert found["patients"][0]["birth_date"] == names["birth_date"].isoformat()


def test_with_a_key_no_file_holds_patient_text_and_search_still_works(
    tmp_path: Path, kafka: SecuredBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir, receiver_dir = tmp_path / "data", tmp_path / "maple"
    settings = keyed(data_dir).model_copy(
        update={
            "kafka_bootstrap": kafka.bootstrap,
            "kafka_username": kafka.relay.username,
            "kafka_password": SecretStr(kafka.relay.password),
            "kafka_ca_file": kafka.relay.ca_file,
        }
    )
    services = bootstrap_services(settings)
    load_demo(demo_services(services.clinic), PASSWORD)
    create_user(
        services.clinic,
        Actor.system("tests"),
        email=OUTSIDER,
        display_name="Outside Therapist",
        role=Role.THERAPIST,
        organisation="Elsewhere Clinic",
        password_hash=services.passwords.hash(PASSWORD),
    )
    app = create_app(services=services)
    with TestClient(app) as client:
        serve_and_read(app, client)
        assert_search_finds_the_demo_patients(client)

        # This run's own topics (the demo's recipients name the topics, the same every run).
        prefix = f"crypt-{uuid.uuid4().hex[:12]}."
        monkeypatch.setattr(f"{Relay.__module__}.TOPIC_PREFIX", prefix)
        relay = relay_for(settings)
        store = receiver_store_for(settings, MAPLE, receiver_dir)
        # The demo was loaded with no broker configured: each entry's credential is issued
        # now (`tandem directory credential`), which also gives the relay its topic.
        access, entries = kafka.access(), services.clinic.directory().entries.values()
        credential = next(access.issue(e) for e in entries if e.name == MAPLE)
        for entry in entries:
            if entry.name != MAPLE:
                access.issue(entry)
        as_maple = settings.model_copy(
            update={
                "kafka_username": credential.username,
                "kafka_password": SecretStr(credential.password),
            }
        )
        receiver = receiver_for(as_maple, MAPLE, store)
        try:
            assert relay.run_once() > 0
            drain(receiver)
            meds = receiver.store.medication_list()
            assert [m["drug"] for m in meds[str(STORIES[0].patient_id)]] == ["sertraline"]
        finally:
            relay.close()
            receiver.close()
            for entry in entries:
                access.revoke(entry)
        reminders_for(settings).run_once(datetime.now(UTC))
        services.reader.index.catch_up()

        secrets = secrets_of(services) | {EMERGENCY, REVIEW_NOTE}
        assert {"Ava Moreno", "DEMO-1001", "sertraline"} <= secrets
        assert len(secrets) > 100, len(secrets)
        assert (data_dir / "views.sqlite-wal").exists()  # searched while open, WAL and all
        written = {p.name for p in data_dir.rglob("*") if p.is_file()}
        assert {"events.sqlite", "views.sqlite", "relay.sqlite"} <= written
        assert list(receiver_dir.glob("*.sqlite")), "the receiver stored nothing"
        assert found_in(data_dir, secrets) == {}
        assert found_in(receiver_dir, secrets) == {}
    assert found_in(data_dir, secrets) == {}
    assert found_in(receiver_dir, secrets) == {}


# --- an index or receiver store written without the key ----------------------------------------


def test_a_plaintext_index_is_rebuilt_sealed_when_a_key_is_set(tmp_path: Path) -> None:
    """An index written in the clear (by the code before sealing, or without the key) beside
    a keyed store is dropped and rebuilt sealed; search works over the rebuilt one."""
    settings = keyed(tmp_path)
    services = bootstrap_services(settings)
    name = f"Quillon{uuid.uuid4().hex[:6]}"
    patient = register_with_team(services.clinic, given_name=name)
    create_user(
        services.clinic,
        Actor.system("tests"),
        email=THERAPIST.user_id,
        display_name="Therapist",
        role=Role.THERAPIST,
        organisation=THERAPIST.organisation,
        password_hash=services.passwords.hash(PASSWORD),
    )
    services.close()
    # The index as a keyless process writes it, and with no layout named (the old code).
    plain = SQLiteIndexView(tmp_path / "views.sqlite", Sealer.plain())
    services = bootstrap_services(settings)
    from application.index_runner import IndexRunner

    IndexRunner(services.clinic, plain).catch_up()
    plain._writer.execute("DROP TABLE meta")
    plain._writer.close()
    assert (
        name.encode()
        in (tmp_path / "views.sqlite").read_bytes() + (tmp_path / "views.sqlite-wal").read_bytes()
    )
    services.close()

    services = bootstrap_services(settings)
    with TestClient(create_app(services=services)) as client:
        auth = token(client, THERAPIST.user_id)
        assert search(client, auth, f"{name} Synthetic") == [str(patient.aggregate_id)]
    assert found_in(tmp_path, {name}) == {}
    services.close()
    assert found_in(tmp_path, {name}) == {}


def test_a_receiver_store_is_sealed_in_place_and_refused_under_another_key(
    tmp_path: Path,
) -> None:
    envelope = {
        "type": "event",
        "envelope_id": str(uuid.uuid4()),
        "patient_id": str(uuid.uuid4()),
        "position": 1,
        "kind": "MedicationStarted",
        "data_class": "medication",
        "consent_ids": [str(uuid.uuid4())],
        "clinical_time": "2026-01-01T00:00:00+00:00",
        "summary": "started lamotrigine 25 mg daily for bipolar depression",
    }
    path = tmp_path / "rx.sqlite"
    ReceiverStore(path).store([envelope])
    assert b"lamotrigine" in path.read_bytes() + (tmp_path / "rx.sqlite-wal").read_bytes()
    key = AESCipher.create_key(32)
    sealed = ReceiverStore(path, Sealer.keyed(key, "receiver"))
    assert sealed.events() == [envelope]
    assert found_in(tmp_path, {"lamotrigine"}) == {}
    with pytest.raises(ReceiverKeyMismatch, match="under another key"):
        ReceiverStore(path, Sealer.keyed(AESCipher.create_key(32), "receiver"))
    with pytest.raises(ReceiverKeyMismatch, match="without"):
        ReceiverStore(path)
    assert sqlite3.connect(path).execute("SELECT count(*) FROM shared").fetchone() == (1,)


def test_a_search_without_a_usable_query_names_the_field_and_appends_nothing(
    tmp_path: Path,
) -> None:
    services = bootstrap_services(keyed(tmp_path))
    create_user(
        services.clinic,
        Actor.system("tests"),
        email="therapist@test",
        display_name="Therapist",
        role=Role.THERAPIST,
        organisation="Test Clinic",
        password_hash=services.passwords.hash(PASSWORD),
    )
    with TestClient(create_app(services=services)) as client:
        auth = token(client, "therapist@test")
        for q, reason in (("  ", "is empty"), ("--- !!", "has no letters"), ("x" * 201, "longer")):
            before = services.clinic.position()
            answer = client.get("/patients", params={"q": q}, headers=auth)
            assert answer.status_code == 422, answer.text
            assert answer.json()["fields"][0]["field"] == "q"
            assert reason in answer.json()["fields"][0]["reason"]
            assert appended_since(services.clinic, before) == []
    services.close()
