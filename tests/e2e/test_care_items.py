"""Care items over HTTP: the rules run on the whole record, each due item and alert names
the data classes it was computed from, and a reader gets only the items whose every input
they may see, so no reader has an item the treating team does not (issue 11, item 4).
All data synthetic."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from application.reading import CARE_ITEMS, ReadRequest, default_purpose, viewer_of
from bootstrap import Services, bootstrap_services
from bootstrap.settings import Settings
from demo import STORIES, demo_emails, load_demo
from demo.common import PCP, THERAPIST
from demo.consents import GRANTS
from domain.access import Decision
from domain.consent import Purpose
from domain.events import now
from domain.registration import patient_id_for
from tests.e2e.conftest import Api
from tests.e2e.test_api_records import PATIENT, SERTRALINE, post
from tests.e2e.test_consent_views import add_member, get, grant

PASSWORD = "demo-password-1"
AVA = patient_id_for("DEMO-1001")  # born 1987, sertraline; Maple may see her medications
BEN = patient_id_for("DEMO-1002")  # lithium: due items and an alert
CARA = patient_id_for("DEMO-1003")  # treated in a Part 2 program: her records are SUD records
LISTS = ("due", "overdue", "upcoming", "alerts")
UNDER_25 = "under 25"


@dataclass
class Demo:
    client: TestClient
    services: Services
    tokens: dict[str, dict[str, str]]

    def care(self, email: str, patient_id: UUID, purpose: str | None = None) -> Any:
        params = {"purpose": purpose} if purpose else {}
        return self.client.get(
            f"/patients/{patient_id}/care", params=params, headers=self.tokens[email]
        )

    def decision(self, email: str, patient_id: UUID, purpose: Purpose) -> Decision:
        user = self.services.clinic.find_user(email)
        assert user is not None
        request = ReadRequest(viewer_of(user), patient_id, CARE_ITEMS, purpose)
        return self.services.reader.prepare(request).decision

    def opened(self, email: str, patient_id: UUID, purpose: Purpose) -> frozenset[str]:
        """The classes the reader's decision opens at this moment (the policy itself), for
        ordinary records and for Part 2 records."""
        made = self.decision(email, patient_id, purpose)
        return frozenset(c.value for c in made.classes | made.part2_classes)

    def opened_part2(self, email: str, patient_id: UUID, purpose: Purpose) -> frozenset[str]:
        """The classes whose Part 2 records the reader's decision opens."""
        return frozenset(c.value for c in self.decision(email, patient_id, purpose).part2_classes)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    data = Path(tmp_path_factory.mktemp("care-items")) / "data"
    services = bootstrap_services(Settings(data_dir=data))
    load_demo(services, PASSWORD)
    with TestClient(create_app(services=services)) as client:
        tokens = {}
        for email in demo_emails():
            answer = client.post("/auth/token", data={"username": email, "password": PASSWORD})
            assert answer.status_code == 200, answer.text
            tokens[email] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        yield Demo(client, services, tokens)


def items(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for name in LISTS for item in body[name]]


def test_primary_care_with_a_medication_only_consent_gets_no_under_25_items_for_ava(
    demo: Demo,
) -> None:
    team = demo.care(THERAPIST.user_id, AVA)
    pcp = demo.care(PCP.user_id, AVA)
    assert team.status_code == pcp.status_code == 200, (team.text, pcp.text)
    assert pcp.json()["basis"] == "consent" and pcp.json()["view"] == CARE_ITEMS
    # Ava was born in 1987: the age rule cannot fire for her, for anyone.
    assert [i["title"] for i in items(team.json()) if UNDER_25 in i["title"]] == []
    assert [i["title"] for i in items(pcp.json()) if UNDER_25 in i["title"]] == []
    for name in LISTS:
        assert all(item in team.json()[name] for item in pcp.json()[name]), name


def purposes(role_default: Purpose) -> list[Purpose]:
    """The reader's own purpose and every purpose a demo consent was given for."""
    return sorted({role_default, *(grant[5] for grant in GRANTS)}, key=lambda p: p.value)


def test_every_demo_readers_items_are_the_treating_therapists_and_open_only_their_classes(
    demo: Demo,
) -> None:
    checked = outside = 0
    for story in STORIES:
        team = demo.care(THERAPIST.user_id, story.patient_id)
        assert team.status_code == 200 and team.json()["basis"] == "treating-team", team.text
        for email in demo_emails():
            user = demo.services.clinic.find_user(email)
            assert user is not None
            for purpose in purposes(default_purpose(user.role)):
                answer = demo.care(email, story.patient_id, purpose.value)
                if answer.status_code != 200:
                    assert answer.status_code == 403, answer.text  # the one refusal
                    continue
                body = answer.json()
                opened = demo.opened(email, story.patient_id, purpose)
                outside += body["basis"] == "consent"
                for name in LISTS:
                    for item in body[name]:
                        assert item in team.json()[name], (email, story.mrn, purpose, item)
                        assert set(item["classes"]) <= opened, (email, story.mrn, item)
                        part2_opened = demo.opened_part2(email, story.patient_id, purpose)
                        assert not item["part2"] or part2_opened, (email, story.mrn, item)
                        assert set(item["classes"]) <= set(body["classes"])
                        checked += 1
    assert checked and outside  # the demo's items, and its consents, were all looked at


def test_every_demo_board_row_holds_only_the_treating_therapists_items(demo: Demo) -> None:
    teams = {
        str(story.patient_id): demo.care(THERAPIST.user_id, story.patient_id).json()
        for story in STORIES
    }
    rows = 0
    for email in demo_emails():
        board = demo.client.get("/board", params={"scope": "team"}, headers=demo.tokens[email])
        if board.status_code != 200:
            continue
        user = demo.services.clinic.find_user(email)
        assert user is not None
        for row in board.json()["patients"]:
            team = teams[row["patient_id"]]
            opened = demo.opened(email, UUID(row["patient_id"]), Purpose.TREATMENT)
            for name in ("due", "overdue", "alerts"):
                for item in row[name]:
                    assert item in team[name], (email, row["patient_id"], item)
                    assert set(item["classes"]) <= opened, (email, item)
            rows += 1
    assert rows


def test_a_part2_programs_items_name_their_part2_inputs(demo: Demo) -> None:
    team = demo.care(THERAPIST.user_id, CARA).json()
    assert items(team)
    for item in items(team):
        assert item["part2"] is True, item
    # Her practice's Part 2 consent names her medications: it gets no item that rests on
    # anything else the program recorded (her visits, drug screens, lapse).
    practice = demo.care(PCP.user_id, CARA)
    assert practice.status_code == 200, practice.text
    for item in items(practice.json()):
        assert item in items(team) and set(item["classes"]) == {"medication"}, item


def test_a_read_of_the_old_care_view_still_replays_to_its_bytes(demo: Demo) -> None:
    user = demo.services.clinic.find_user(THERAPIST.user_id)
    assert user is not None
    old = demo.services.reads.read_now(ReadRequest(viewer_of(user), BEN, "care"), user.actor)
    body = old.json()
    assert body["view"] == "care" and items(body)
    assert all("classes" not in item for item in items(body))  # the old shape, unchanged
    compliance = demo.client.post(
        "/auth/token", data={"username": "compliance@demo", "password": PASSWORD}
    ).json()["access_token"]
    replay = demo.client.get(
        f"/compliance/access/{old.access_id}/replay",
        headers={"Authorization": f"Bearer {compliance}"},
    )
    assert replay.status_code == 200 and replay.json()["matches"] is True, replay.text


# --- synthetic patients on a fresh store ----------------------------------------------------


def ago(days: int) -> str:
    return (now() - timedelta(days=days)).isoformat()


def patient_on_sertraline(api: Api, birth_date: str) -> str:
    """Registered 60 days ago, on sertraline for 40: the under-25 contact and visit are
    overdue by now, wherever the rules take them to apply."""
    body = {
        **PATIENT,
        "mrn": f"CI-{birth_date}",
        "birth_date": birth_date,
        "sex_at_birth": "female",
        "clinical_time": ago(60),
    }
    answer = post(api, "therapist@test", "/patients", body)
    assert answer.status_code == 201, answer.text
    patient = str(answer.json()["patient_id"])
    add_member(api, patient, "prescriber@test", "prescriber", "Test Clinic")
    started = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications",
        {**SERTRALINE, "clinical_time": ago(40)},
    )
    assert started.status_code == 201, started.text
    return patient


def under_25(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in items(body) if UNDER_25 in i["title"]]


def test_an_age_rules_items_reach_a_reader_only_with_the_birth_date(api: Api) -> None:
    patient = patient_on_sertraline(api, "2006-03-01")
    team = get(api, "therapist@test", f"/patients/{patient}/care").json()
    assert under_25(team)
    for item in under_25(team):
        assert {"demographics", "medication"} <= set(item["classes"]) and not item["part2"]

    grant(api, patient, "pcp@test", ["medication", "appointment", "message", "measure"])
    assert under_25(get(api, "pcp@test", f"/patients/{patient}/care").json()) == []

    grant(api, patient, "pcp@test", ["demographics"])
    team = get(api, "therapist@test", f"/patients/{patient}/care").json()
    shared = get(api, "pcp@test", f"/patients/{patient}/care").json()
    assert under_25(shared) == under_25(team)
    assert "demographics" in shared["classes"]


def test_a_board_row_for_a_partial_reader_has_no_items_from_an_unseen_birth_date(
    api: Api,
) -> None:
    patient = patient_on_sertraline(api, "1988-07-14")  # 25 or over: no under-25 items
    add_member(api, patient, "pcp@test", "primary-care", "Test Family Practice")
    grant(api, patient, "pcp@test", ["medication"])
    board = get(api, "pcp@test", "/board", scope="team", patient_id=patient)
    assert board.status_code == 200, board.text
    for row in board.json()["patients"]:
        assert [d["title"] for d in row["due"] + row["overdue"] if UNDER_25 in d["title"]] == []
    assert under_25(get(api, "therapist@test", f"/patients/{patient}/care").json()) == []
