"""One contract for the event store, run against every backend (SQLite file, PostgreSQL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.cipher import AESCipher
from eventsourcing.persistence import StoredEvent
from pydantic import SecretStr

from application.clinic import Clinic
from bootstrap import bootstrap
from bootstrap.settings import Settings
from domain.errors import Conflict, InvalidInput, NotFound
from domain.therapy import SessionScheduled
from domain.vocabulary import DataClass, SessionMode
from tests.builders import (
    PRESCRIBER,
    SYSTEM,
    THERAPIST,
    act,
    ago,
    commit,
    create_user,
    register_patient,
    register_with_team,
    update_user,
)
from tests.conftest import postgres_settings, raw_postgres_states

ROOT = Path(__file__).resolve().parents[2]


def sertraline(medication_id: uuid.UUID, **overrides: Any) -> dict[str, Any]:
    details: dict[str, Any] = {
        "medication_id": medication_id,
        "drug": "sertraline",
        "rxnorm": "36437",
        "dose": {"amount": "25", "unit": "mg"},
        "schedule": {"frequency": "once-daily"},
        "indication": "recurrent major depression",
    }
    details.update(overrides)
    return details


BAD_COMMANDS: list[tuple[str, str, Any]] = [
    (
        "dose that is not positive",
        "dose.amount",
        lambda r, m: r.change_dose(
            PRESCRIBER,
            ago(hours=1),
            medication_id=m,
            dose={"amount": "0", "unit": "mg"},
            reason="test",
        ),
    ),
    (
        "unknown unit",
        "dose.unit",
        lambda r, m: r.change_dose(
            PRESCRIBER,
            ago(hours=1),
            medication_id=m,
            dose={"amount": "50", "unit": "spoonful"},
            reason="test",
        ),
    ),
    (
        "answer out of its item's range",
        "answers.9",
        lambda r, m: r.answer_questionnaire(
            THERAPIST,
            ago(hours=1),
            instrument="phq-9",
            answers={**{str(i): 1 for i in range(1, 9)}, "9": 7},
        ),
    ),
    (
        "malformed RxNorm code",
        "rxnorm",
        lambda r, m: r.start_medication(
            PRESCRIBER, ago(hours=1), **sertraline(uuid.uuid4(), rxnorm="sert-36437")
        ),
    ),
    (
        "malformed ICD-10 code",
        "icd10",
        lambda r, m: r.record_condition(
            THERAPIST, ago(hours=1), icd10="depression", description="major depression"
        ),
    ),
    (
        "LOINC with a wrong check digit",
        "loinc",
        lambda r, m: r.order_lab(
            PRESCRIBER,
            ago(hours=1),
            order_id=uuid.uuid4(),
            loinc="14334-1",
            test_name="lithium",
            reason="trough",
        ),
    ),
    (
        "clinical time in the future",
        "clinical_time",
        lambda r, m: r.change_dose(
            PRESCRIBER,
            ago(days=-2),
            medication_id=m,
            dose={"amount": "50", "unit": "mg"},
            reason="test",
        ),
    ),
    (
        "missing field",
        "indication",
        lambda r, m: r.start_medication(
            PRESCRIBER,
            ago(hours=1),
            **{k: v for k, v in sertraline(uuid.uuid4()).items() if k != "indication"},
        ),
    ),
]


class StoreContract:
    """What every backend must do. Subclasses provide `settings`."""

    @pytest.fixture
    def settings(self) -> Settings:
        raise NotImplementedError  # overridden per backend

    def raw_states(self, settings: Settings) -> list[bytes]:
        raise NotImplementedError  # overridden per backend

    @pytest.fixture
    def clinic(self, settings: Settings) -> Iterator[Clinic]:
        app = bootstrap(settings)
        yield app
        app.close()

    def started(self, clinic: Clinic) -> tuple[uuid.UUID, uuid.UUID]:
        patient = register_with_team(clinic).aggregate_id
        med = uuid.uuid4()
        act(
            clinic,
            patient,
            lambda r: r.start_medication(PRESCRIBER, ago(days=2), **sertraline(med)),
        )
        return patient, med

    def test_a_dose_change_is_stored_and_read_back_exactly(self, clinic: Clinic) -> None:
        patient, med = self.started(clinic)
        receipt = act(
            clinic,
            patient,
            lambda r: r.change_dose(
                PRESCRIBER,
                ago(hours=2),
                medication_id=med,
                dose={"amount": "37.5", "unit": "mg"},
                reason="nausea at 50",
            ),
        )
        assert receipt.position == clinic.position()
        last = clinic.patient_events(patient)[-1]
        assert type(last).__name__ == "DoseChanged"
        assert last.dose.amount == Decimal("37.5")  # type: ignore[attr-defined]
        assert last.actor == PRESCRIBER
        assert last.data_class == DataClass.MEDICATION
        assert clinic.patient(patient).state.medications[med].dose.amount == Decimal("37.5")

    @pytest.mark.parametrize(
        ("case", "field", "command"), BAD_COMMANDS, ids=[c[0] for c in BAD_COMMANDS]
    )
    def test_bad_input_is_refused_with_its_field_and_nothing_is_appended(
        self, clinic: Clinic, case: str, field: str, command: Any
    ) -> None:
        patient, med = self.started(clinic)
        before = clinic.position()
        with pytest.raises(InvalidInput) as refused:
            act(clinic, patient, lambda r: command(r, med))
        assert field in [e.field for e in refused.value.errors], refused.value.errors
        assert all(e.reason for e in refused.value.errors)
        assert clinic.position() == before
        assert clinic.patient(patient).version == len(clinic.patient_events(patient))

    def test_a_concurrent_write_to_the_same_record_is_a_conflict(self, clinic: Clinic) -> None:
        patient, med = self.started(clinic)
        first = clinic.patient(patient)
        second = clinic.patient(patient)
        first.change_dose(
            PRESCRIBER,
            ago(hours=1),
            medication_id=med,
            dose={"amount": "50", "unit": "mg"},
            reason="tolerating",
        )
        second.stop_medication(PRESCRIBER, ago(hours=1), medication_id=med, reason="rash")
        clinic.save(first)
        before = clinic.position()
        with pytest.raises(Conflict):
            commit(clinic, second)
        assert clinic.position() == before

    def test_a_stale_expected_version_is_a_conflict(self, clinic: Clinic) -> None:
        patient, med = self.started(clinic)
        version = clinic.patient(patient).version
        before = clinic.position()
        with pytest.raises(Conflict, match="expected"):
            act(
                clinic,
                patient,
                lambda r: r.stop_medication(
                    PRESCRIBER, ago(hours=1), medication_id=med, reason="x"
                ),
                expected_version=version - 1,
            )
        assert clinic.position() == before

    def test_a_medical_record_number_can_be_registered_once(self, clinic: Clinic) -> None:
        patient = clinic.patient(register_with_team(clinic).aggregate_id)
        before = clinic.position()
        with pytest.raises(Conflict, match=patient.state.mrn):
            register_patient(
                clinic,
                SYSTEM,
                ago(days=1),
                mrn=patient.state.mrn,
                given_name="Other",
                family_name="Synthetic",
                birth_date="1980-01-01",
                sex_at_birth="male",
            )
        assert clinic.position() == before
        assert clinic.find_patient(patient.state.mrn).id == patient.id

    def test_an_unknown_patient_is_not_found(self, clinic: Clinic) -> None:
        with pytest.raises(NotFound):
            clinic.patient(uuid.uuid4())

    def test_a_version_1_session_is_upcast_when_read(self, clinic: Clinic) -> None:
        patient = register_with_team(clinic).aggregate_id
        version = clinic.patient(patient).version + 1
        session_id = uuid.uuid4()
        v1_state = {
            "originator_id": str(patient),
            "originator_version": version,
            "timestamp": ago(days=1).isoformat(),
            "event_id": str(uuid.uuid4()),
            "actor": THERAPIST.model_dump(mode="json"),
            "data_class": "appointment",
            "clinical_time": ago(days=1).isoformat(),
            "session_id": str(session_id),
            "starts_at": ago(days=-1).isoformat(),
            "duration_minutes": 50,
            "telehealth": True,
            "modality": "cbt",
        }
        data = clinic.mapper.transcoder.encode(v1_state)
        if clinic.mapper.cipher:
            data = clinic.mapper.cipher.encrypt(data)
        stored = StoredEvent(patient, version, "domain.therapy:SessionScheduled", data)
        clinic.recorder.insert_events([stored])

        event = clinic.patient_events(patient)[-1]
        assert isinstance(event, SessionScheduled)
        assert event.mode == SessionMode.TELEHEALTH
        assert clinic.patient(patient).state.sessions[session_id] == "scheduled"

    def test_users_are_event_sourced_with_argon2_hashes(self, clinic: Clinic) -> None:
        from adapters.passwords import hash_password, verify_password

        email = f"Someone.{uuid.uuid4().hex[:6]}@Test"
        create_user(
            clinic,
            SYSTEM,
            email=email,
            display_name="Some One",
            role="therapist",
            organisation="Test Clinic",
            password_hash=hash_password("correct horse 1"),
        )
        user = clinic.user(email.lower())
        assert user.password_hash.startswith("$argon2id$")
        assert verify_password("correct horse 1", user.password_hash)
        assert not verify_password("wrong horse 1", user.password_hash)
        update_user(clinic, email, lambda u: u.deactivate(SYSTEM, ago(seconds=1), reason="left"))
        assert not clinic.user(email).active
        with pytest.raises(Conflict):
            create_user(
                clinic,
                SYSTEM,
                email=email.upper(),
                display_name="Again",
                role="therapist",
                organisation="Test Clinic",
                password_hash=user.password_hash,
            )

    def test_a_reopened_store_holds_every_event(self, settings: Settings, clinic: Clinic) -> None:
        patient, _ = self.started(clinic)
        events = [e.model_dump() for e in clinic.patient_events(patient)]
        reopened = bootstrap(settings)
        try:
            assert [e.model_dump() for e in reopened.patient_events(patient)] == events
        finally:
            reopened.close()

    def test_with_a_key_set_the_patient_name_is_not_in_the_stored_bytes(
        self, settings: Settings
    ) -> None:
        keyed = settings.model_copy(update={"cipher_key": SecretStr(AESCipher.create_key(32))})
        name = f"Zebulon{uuid.uuid4().hex[:8]}"
        clinic = bootstrap(keyed)
        try:
            register_with_team(clinic, given_name=name)
            clinic.all_events  # noqa: B018 - the store is readable with the key
            states = self.raw_states(keyed)
            assert states, "no stored data found"
            assert not any(name.encode() in s for s in states)
            assert any(
                e.given_name == name for _, e in clinic.all_events() if hasattr(e, "given_name")
            )
        finally:
            clinic.close()
        plain = bootstrap(settings.model_copy(update={"cipher_key": None}))
        try:
            register_with_team(plain, given_name=name)
            assert any(name.encode() in s for s in self.raw_states(settings))
        finally:
            plain.close()

    def test_acknowledged_writes_survive_kill_minus_nine(self, settings: Settings) -> None:
        env = {
            **os.environ,
            "TANDEM_SETTINGS_JSON": settings.model_dump_json(
                exclude={"cipher_key", "postgres_password"}
            ),
            "TANDEM_POSTGRES_PASSWORD": settings.postgres_password.get_secret_value(),
        }
        writer = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "integration" / "durable_writer.py")],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        assert writer.stdout is not None
        acknowledged: list[tuple[str, int]] = []
        for line in writer.stdout:
            acknowledged.append(tuple(json.loads(line)))  # type: ignore[arg-type]
            if len(acknowledged) >= 40:
                break
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
        assert writer.returncode == -signal.SIGKILL
        assert len(acknowledged) >= 40

        reopened = bootstrap(settings)
        try:
            for patient_id, position in acknowledged:
                stored = reopened.recorder.select_notifications(start=position, limit=1)
                assert stored and stored[0].id == position
                assert str(stored[0].originator_id) == patient_id
        finally:
            reopened.close()


class TestSQLiteStore(StoreContract):
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return Settings(data_dir=tmp_path / "data")

    def raw_states(self, settings: Settings) -> list[bytes]:
        return [p.read_bytes() for p in settings.data_dir.iterdir() if p.is_file()]


@pytest.mark.postgres
class TestPostgresStore(StoreContract):
    @pytest.fixture
    def settings(self, postgres_schema: str) -> Settings:
        return postgres_settings(postgres_schema)

    def raw_states(self, settings: Settings) -> list[bytes]:
        return raw_postgres_states(settings.postgres_schema)


def test_the_api_refuses_to_start_on_postgres_without_a_signing_key() -> None:
    from bootstrap import MissingSecret, jwt_secret

    with pytest.raises(MissingSecret, match="TANDEM_JWT_SECRET"):
        jwt_secret(Settings(store="postgres"))


def test_the_embedded_store_keeps_a_generated_signing_key(tmp_path: Path) -> None:
    from bootstrap import jwt_secret

    settings = Settings(data_dir=tmp_path)
    first = jwt_secret(settings)
    assert len(first) >= 40
    assert jwt_secret(settings) == first
    assert (tmp_path / "jwt-secret").stat().st_mode & 0o077 == 0
