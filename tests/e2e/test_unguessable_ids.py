"""Patient ids cannot be computed from an MRN, the MRN stays unique, and a refusal says and
records the same whether or not the patient exists."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from application.recording import register_now
from bootstrap import bootstrap_services
from bootstrap.settings import Settings
from domain.audit import ReadRefused
from domain.events import Actor, now
from domain.patient import PatientRecord
from domain.registration import _PATIENTS as PATIENTS_NAMESPACE
from domain.registration import MrnClaimed, PatientRegistered, mrn_claim_id, patient_id_for
from tests.builders import appended_since
from tests.e2e.conftest import Api
from tests.e2e.test_api_records import PATIENT, registered


def register(api: Api, mrn: str) -> Any:
    return api.client.post(
        "/patients", json={**PATIENT, "mrn": mrn}, headers=api.auth("therapist@test")
    )


def test_a_new_patient_gets_a_random_id_not_one_computed_from_the_mrn(api: Api) -> None:
    ids = []
    for _ in range(3):
        mrn = f"R-{uuid.uuid4().hex[:8]}"
        answer = register(api, mrn)
        assert answer.status_code == 201, answer.text
        patient = uuid.UUID(answer.json()["patient_id"])
        for guess in (mrn, mrn.lower(), mrn.upper(), f" {mrn} "):
            assert patient != uuid.uuid5(PATIENTS_NAMESPACE, guess)
            assert patient != uuid.uuid5(uuid.NAMESPACE_URL, guess)
        assert patient != patient_id_for(mrn)
        assert patient.version == 4
        ids.append(patient)
        # The MRN still finds the record (search is an audited read of each one shown),
        # once the index has the registration.
        assert api.services.reader.index.wait_for(api.position())
        found = api.client.get("/patients", params={"q": mrn}, headers=api.auth("therapist@test"))
        assert found.status_code == 200, found.text
        assert str(patient) in found.text
    assert len(set(ids)) == 3


def test_a_second_registration_of_an_mrn_is_refused_and_stores_nothing(api: Api) -> None:
    mrn = f"D-{uuid.uuid4().hex[:8]}"
    before = api.position()
    first = register(api, mrn)
    assert first.status_code == 201, first.text
    assert appended_since(api.services.clinic, before)[:1] == [PatientRegistered]
    assert MrnClaimed in appended_since(api.services.clinic, before)
    for spelling in (mrn, mrn.lower(), f"  {mrn.upper()} "):
        before = api.position()
        again = register(api, spelling.strip())
        assert again.status_code == 409, again.text
        assert "already registered" in again.text
        assert appended_since(api.services.clinic, before) == []


def test_an_mrn_held_by_a_patient_registered_before_random_ids_is_refused_too(
    api: Api,
) -> None:
    """A record stored under the old uuid5 id, without a claim (as an older store holds it),
    keeps its MRN: the id is still valid and a new registration of the MRN is refused."""
    mrn = f"OLD-{uuid.uuid4().hex[:6]}"
    fields = {k: v for k, v in PATIENT.items() if k != "mrn"}
    old = PatientRecord.register(
        Actor.system("tests"), now(), patient_id=patient_id_for(mrn), mrn=mrn, **fields
    )
    api.services.clinic.save(old)  # the record alone, no claim: the older layout
    assert api.services.clinic.find_patient(mrn).id == patient_id_for(mrn)
    before = api.position()
    again = register(api, mrn)
    assert again.status_code == 409, again.text
    assert appended_since(api.services.clinic, before) == []


def test_a_made_up_id_and_an_existing_one_get_the_same_refusal_and_both_are_recorded(
    api: Api,
) -> None:
    patient = registered(api)
    made_up = str(uuid.uuid4())
    before = api.position()
    bodies = {}
    for asked in (patient, made_up):
        for kind in ("view", "timeline"):
            answer = api.client.get(f"/patients/{asked}/{kind}", headers=api.auth("pcp@test"))
            assert answer.status_code == 403, answer.text
            bodies[(asked, kind)] = answer.content
    assert len(set(bodies.values())) == 1, bodies
    assert patient.encode() not in next(iter(bodies.values()))
    recorded = appended_since(api.services.clinic, before)
    assert recorded == [ReadRefused] * 4, recorded
    index = api.services.reader.index
    assert index.wait_for(api.position())
    refused = api.client.get(
        "/compliance/refused", params={"user_id": "pcp@test"}, headers=api.auth("compliance@test")
    ).json()
    asked_for = [r["patient_id"] for r in refused[-4:]]
    assert asked_for == [patient, patient, made_up, made_up]
    assert {r["role"] for r in refused[-4:]} == {"primary-care"}


def test_the_claim_of_an_mrn_is_keyed_on_the_configured_key(tmp_path: Path) -> None:
    key = "synthetic-mrn-key-for-tests"
    services = bootstrap_services(Settings(data_dir=tmp_path / "data", mrn_key=SecretStr(key)))
    mrn = "KEY-00042"
    fields = {k: v for k, v in PATIENT.items() if k != "mrn"}
    receipt = register_now(services.writer, Actor.system("tests"), mrn=mrn, **fields)
    stored = {
        n.originator_id for n in services.clinic.recorder.select_notifications(start=1, limit=100)
    }
    assert mrn_claim_id(mrn, key.encode()) in stored
    assert mrn_claim_id(mrn, b"") not in stored
    assert patient_id_for(mrn) not in stored
    assert services.clinic.find_patient(mrn.lower()).id == receipt.aggregate_id
    services.close()
