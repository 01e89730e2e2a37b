"""42 CFR Part 2 as a label beside the data class, over HTTP on the demo.

Cara (DEMO-1003) is treated in a Part 2 program, so every record her program makes is a
Part 2 record of its own class: a buprenorphine dose change is `medication` and Part 2. A
Part 2 consent says how much and what kind (42 CFR 2.31(a)(3)): hers to her primary-care
practice names her medications, and discloses those alone, with the 2.32 notice. Her care
team is hers and her program's to see, and an emergency reader's (2.51); an outside reader
without a Part 2 consent learns nothing of the program.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from bootstrap import Services, bootstrap_services
from bootstrap.settings import Settings
from demo import load_demo
from demo.common import patient_actor
from domain.consent import REDISCLOSURE_NOTICE, ConsentGranted, Purpose
from domain.directory import entry_id_for
from domain.events import now
from domain.labs import LabResulted
from domain.medication import DoseChanged, MedicationStarted
from domain.record import kinds
from domain.registration import patient_id_for
from domain.safety import LapseReported
from domain.therapy import ProgressNoteWritten
from domain.vocabulary import DataClass
from tests.builders import appended_since, commit

PASSWORD = "demo-password-1"
CARA = patient_id_for("DEMO-1003")
PROGRAM_STAFF = {"therapist@demo", "prescriber@demo"}


@dataclass
class Demo:
    client: TestClient
    services: Services

    def bearer(self, email: str) -> dict[str, str]:
        answer = self.client.post("/auth/token", data={"username": email, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def read(self, email: str, path: str = "/view", **params: str) -> dict[str, Any]:
        answer = self.client.get(
            f"/patients/{CARA}{path}", headers=self.bearer(email), params=params
        )
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    services = bootstrap_services(Settings(data_dir=tmp_path / "data"))
    load_demo(services, PASSWORD)
    with TestClient(create_app(services=services)) as client:
        yield Demo(client, services)


def team_of(view: dict[str, Any]) -> set[str]:
    return {member["user_id"] for member in view.get("team", [])}


# --- a Part 2 consent discloses the kinds it names ------------------------------------------


def test_a_part2_consent_for_medications_gives_the_practice_her_medications_only(
    demo: Demo,
) -> None:
    events = demo.read("pcp@demo", "/events")

    kinds_shown = {e["kind"] for e in events["entries"]}
    assert kinds(MedicationStarted, DoseChanged) <= kinds_shown  # the buprenorphine doses
    assert {e["data_class"] for e in events["entries"]} == {"medication"}
    assert all(e["part2"] for e in events["entries"])
    assert events["part2"] is True
    assert events["notice"] == REDISCLOSURE_NOTICE  # 42 CFR 2.32
    view = demo.read("pcp@demo")
    assert [m["drug"] for m in view["medications"]] == ["buprenorphine"]
    # Nothing else the program recorded: no counseling note, drug screen, lapse or team.
    assert "team" not in view
    assert not kinds_shown & kinds(LabResulted, LapseReported, ProgressNoteWritten)


def test_the_access_record_accounts_the_part2_disclosure_by_kind(demo: Demo) -> None:
    demo.read("pcp@demo", "/events")
    assert demo.services.reader.index.wait_for(demo.services.clinic.position())

    [access] = [
        a
        for a in demo.services.reader.index.view.accesses(patient_id=CARA)
        if a.user_id == "pcp@demo"
    ]

    assert set(access.classes) == {"medication", "sud"}  # its class, and that it is Part 2
    assert access.part2


# --- the care team of a Part 2 program's patient --------------------------------------------


@pytest.mark.parametrize("email", ["cara@demo", "therapist@demo", "prescriber@demo"])
def test_the_patient_and_the_program_staff_see_the_whole_care_team(demo: Demo, email: str) -> None:
    view = demo.read(email)

    assert team_of(view) >= PROGRAM_STAFF


def test_an_emergency_reader_sees_whom_to_call(demo: Demo) -> None:
    answer = demo.client.post(
        f"/patients/{CARA}/break-glass",
        headers=demo.bearer("pcp@demo"),
        json={"reason": "found unresponsive at the clinic; suspected overdose"},
    )

    assert answer.status_code == 200, answer.text
    assert team_of(answer.json()) >= PROGRAM_STAFF


def test_an_outside_reader_without_a_part2_consent_sees_nothing_of_the_program(
    demo: Demo,
) -> None:
    granted = demo.client.post(
        f"/patients/{CARA}/consents",
        headers=demo.bearer("cara@demo"),
        json={
            "recipient": str(entry_id_for("user", "pcp@demo")),
            "data_classes": ["care-team", "demographics", "lab", "safety", "progress-note"],
            "purpose": "care-coordination",
        },
    )
    assert granted.status_code == 201, granted.text
    assert demo.services.reader.index.wait_for(granted.json()["position"])

    view = demo.read("pcp@demo", purpose="care-coordination")
    events = demo.read("pcp@demo", "/events", purpose="care-coordination")

    assert view["basis"] == "consent" and view["notice"] is None
    assert not team_of(view) & PROGRAM_STAFF
    assert not any(e["part2"] for e in events["entries"])
    assert events["part2"] is False
    text = str(events).lower()
    for revealing in ("recovery", "buprenorphine", "opioid", "lapse", "19295-5"):
        assert revealing not in text


def test_an_employer_gets_no_part2_record_under_any_consent(demo: Demo) -> None:
    """A return-to-work recommendation from the program is a Part 2 record: the employer,
    even under a Part 2 consent naming functional recommendations, does not receive it
    (a role whose cap leaves Part 2 out), while the patient does."""
    made = demo.client.post(
        f"/patients/{CARA}/functional-recommendations",
        headers=demo.bearer("therapist@demo"),
        json={"setting": "work", "recommendation": "no early shifts for two weeks"},
    )
    assert made.status_code == 201, made.text
    before = demo.services.clinic.position()
    granted = demo.client.post(
        f"/patients/{CARA}/consents",
        headers=demo.bearer("cara@demo"),
        json={
            "recipient": str(entry_id_for("user", "employer@demo")),
            "data_classes": ["functional"],
            "purpose": "return-to-work",
            "part2": True,
        },
    )
    assert granted.status_code == 201, granted.text
    assert len(appended_since(demo.services.clinic, before)) == 1
    position = str(granted.json()["position"])

    own = demo.read("cara@demo", "/events", min_position=position)
    answer = demo.client.get(
        f"/patients/{CARA}/events",
        headers=demo.bearer("employer@demo"),
        params={"purpose": "return-to-work", "min_position": position},
    )

    assert [e for e in own["entries"] if e["kind"] == "FunctionalRecommendationMade"][-1]["part2"]
    assert answer.status_code == 200, answer.text
    assert (answer.json()["entries"], answer.json()["notice"]) == ([], None)


# --- the policy's own defences, against stored terms the aggregate would refuse --------------


def store_unchecked_grant(demo: Demo, **terms: Any) -> int:
    """A ConsentGranted the consents aggregate would refuse, stored as an older or altered
    event would be: past the aggregate's guards, straight onto the patient's consents."""
    clinic = demo.services.clinic
    consents = clinic.consents(CARA)
    assert consents is not None
    consents.trigger_event(
        ConsentGranted,
        actor=patient_actor("cara@demo"),
        data_class=DataClass.CONSENT,
        clinical_time=now(),
        patient_id=CARA,
        consent_id=uuid4(),
        recipient_kind="user",
        recipient="pcp@demo",
        valid_from=now() - timedelta(days=1),
        **terms,
    )
    receipt = commit(clinic, consents)
    assert demo.services.reader.index.wait_for(receipt.position)
    return receipt.position


def test_stored_sud_terms_without_part2_open_no_part2_record(demo: Demo) -> None:
    """42 CFR 2.31: whatever was stored, Part 2 records need a Part 2 consent."""
    store_unchecked_grant(
        demo,
        data_classes=[DataClass.SUD, DataClass.MEDICATION, DataClass.LAB],
        purpose=Purpose.CARE_COORDINATION,
        part2=False,
    )

    events = demo.read("pcp@demo", "/events", purpose="care-coordination")

    assert events["basis"] == "consent"
    assert not any(e["part2"] for e in events["entries"])
    assert events["notice"] is None


def test_stored_terms_mixing_psychotherapy_notes_with_other_classes_open_nothing(
    demo: Demo,
) -> None:
    """45 CFR 164.508(b)(3)(ii): a psychotherapy-note authorization combined with any other
    is not valid, so the policy relies on no part of it."""
    store_unchecked_grant(
        demo,
        data_classes=[DataClass.PSYCHOTHERAPY_NOTE, DataClass.MEDICATION, DataClass.SAFETY],
        purpose=Purpose.PAYMENT,
        part2=True,
        notice=REDISCLOSURE_NOTICE,
    )
    before = demo.services.clinic.position()

    answer = demo.client.get(
        f"/patients/{CARA}/events", headers=demo.bearer("pcp@demo"), params={"purpose": "payment"}
    )

    assert answer.status_code == 403, answer.text
    assert [t.__name__ for t in appended_since(demo.services.clinic, before)] == ["ReadRefused"]
