"""A correction reaches the outside recipient that received the original, through the real
Kafka broker, even after its consent was revoked, as a marker without content; the
recipient's medication list and FHIR resources then stand as the clinic's do (issue 13,
item 3). The entries are recorded and corrected through the HTTP API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.passwords import hash_password
from adapters.receiver import ReceiverStore
from adapters.relay import Checkpoint, Relay
from api.app import create_app
from bootstrap import Services, bootstrap_services
from bootstrap.settings import Settings
from domain.consent import consents_id_for
from domain.corrections import EntryMarkedInError
from domain.events import now
from tests.builders import PRESCRIBER, SYSTEM, THERAPIST, ago, commit, create_user
from tests.conftest import SecuredBroker
from tests.integration.test_sharing import drain, receiver_of, shared_patient

PASSWORD = "synthetic-password-1"


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    found = bootstrap_services(Settings(data_dir=tmp_path / "data"))
    for actor in (PRESCRIBER, THERAPIST):
        create_user(
            found.clinic,
            SYSTEM,
            email=actor.user_id,
            display_name=actor.user_id.split("@")[0],
            role=actor.role,
            organisation=actor.organisation,
            password_hash=hash_password(PASSWORD),
        )
    yield found


def signed_in(client: TestClient, email: str) -> dict[str, str]:
    answer = client.post("/auth/token", data={"username": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def posted(client: TestClient, auth: dict[str, str], path: str, body: dict[str, Any]) -> Any:
    answer = client.post(path, json=body, headers=auth)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def test_the_recipient_of_an_errored_dose_gets_a_content_free_marker_after_revocation(
    services: Services, tmp_path: Path, kafka: SecuredBroker
) -> None:
    clinic = services.clinic
    organisation = f"Practice {uuid.uuid4().hex[:8]}"
    patient, consent_id = shared_patient(clinic, organisation)
    relay = Relay(clinic, kafka.relay, Checkpoint(tmp_path / "relay.sqlite"))
    receiver = receiver_of(kafka, clinic, organisation, ReceiverStore(tmp_path / "rx.sqlite"))
    reason = "charted on the wrong patient, Synthetic Sibling"
    try:
        with TestClient(create_app(services=services)) as client:
            prescriber = signed_in(client, PRESCRIBER.user_id)
            therapist = signed_in(client, THERAPIST.user_id)
            base = f"/patients/{patient}"
            med = posted(
                client,
                prescriber,
                f"{base}/medications",
                {
                    "drug": "sertraline",
                    "rxnorm": "36437",
                    "dose": {"amount": "25", "unit": "mg"},
                    "schedule": {"frequency": "once-daily"},
                    "indication": "major depression",
                    "clinical_time": ago(days=10).isoformat(),
                },
            )["created_id"]
            dose = posted(
                client,
                prescriber,
                f"{base}/medications/{med}/dose",
                {"dose": {"amount": "100", "unit": "mg"}, "reason": "step up"},
            )["version"]
            note = posted(client, therapist, f"{base}/progress-notes", {"text": "Not shared."})
            assert relay.run_once() == 2  # the start and the dose: medication only
            drain(receiver)
            listed = receiver.store.medication_list()[str(patient)]
            assert [m["dosage"] for m in listed] == [["100 mg, once-daily"]]

            consents: Any = clinic.repository.get(consents_id_for(patient))
            consents.revoke(THERAPIST, now(), consent_id=consent_id, reason="withdrawn")
            commit(clinic, consents)
            posted(
                client,
                prescriber,
                f"{base}/entered-in-error",
                {"entry_version": dose, "reason": reason},
            )
            # The note never went out: its correction does not either.
            posted(
                client,
                therapist,
                f"{base}/entered-in-error",
                {"entry_version": note["version"], "reason": reason},
            )
            sent = relay.run_once()
            assert sent == 2  # the revocation and one marker (none for the note)
            drain(receiver)

            markers = receiver.store.corrections()
            assert [(m["patient_id"], m["status"]) for m in markers] == [
                (str(patient), "entered-in-error")
            ]
            events = receiver.store.events()
            errored = next(e for e in events if e["kind"] == "DoseChanged")
            assert errored["correction"] == "entered-in-error"
            assert errored["resource"]["status"] == "entered-in-error"
            assert errored["resource"]["resourceType"] == "MedicationStatement"
            # The list stands at the dose before the error.
            listed = receiver.store.medication_list()[str(patient)]
            assert [m["dosage"] for m in listed] == [["25 mg, once-daily"]]

            # The marker itself: which entry and what happened to it, nothing else.
            correction = next(
                (position, e)
                for position, e in clinic.all_events()
                if isinstance(e, EntryMarkedInError) and e.entry_version == dose
            )
            (envelope,) = relay.envelopes_for(*correction)
            assert set(envelope.value) == {
                "type",
                "envelope_id",
                "position",
                "patient_id",
                "recipient",
                "entry_event_id",
                "entry_version",
                "entry_resource_id",
                "status",
            }
            assert reason not in str(envelope.value)
            assert envelope.value["entry_resource_id"] == errored["resource"]["id"]
    finally:
        relay.close()
        receiver.close()
