"""The timeline and the events come a page at a time, newest first, paged by log position,
and so does the role view's timeline (its size bounded whatever the history's length); the
access record names the page it disclosed and a replay rebuilds that very page."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from domain.audit import AccessRecorded
from tests.builders import appended_since
from tests.e2e.conftest import Api
from tests.e2e.test_api_records import post
from tests.e2e.test_coordination import ago, patient_with_team

NOTES = 120


@pytest.fixture
def long_record(api: Api) -> str:
    patient = patient_with_team(api)
    for n in range(NOTES):
        body = {"text": f"Synthetic session note {n}.", "clinical_time": ago(days=100 - n // 2)}
        answer = post(api, "therapist@test", f"/patients/{patient}/progress-notes", body)
        assert answer.status_code == 201, answer.text
    return patient


def page(api: Api, patient: str, route: str = "timeline", **params: Any) -> Any:
    return api.client.get(
        f"/patients/{patient}/{route}",
        params={"min_position": api.position(), **params},
        headers=api.auth("therapist@test"),
    )


def access_record(api: Api, answer: Any) -> AccessRecorded:
    event = next(iter(api.services.clinic.events.get(UUID(answer.headers["X-Access-Id"]))))
    assert isinstance(event, AccessRecorded)
    return event


@pytest.mark.parametrize("route", ["timeline", "events", "view"])
def test_the_pages_run_newest_first_and_cover_the_record_once(
    api: Api, long_record: str, route: str
) -> None:
    assert api.services.reader.index.wait_for(api.position())  # the index has every note
    rows = api.services.reader.index.view.patient_events(UUID(long_record))
    seen: list[int] = []
    before = None
    sizes = []
    while True:
        answer = page(api, long_record, route, **({"before": before} if before else {}))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        positions = [e["position"] for e in body["entries"]]
        assert positions == sorted(positions, reverse=True)
        assert body["page"]["count"] == len(positions) <= 50
        sizes.append(len(positions))
        seen += positions
        before = body["page"]["next_before"]
        if before is None:
            break
        assert before == positions[-1]
    assert sizes[:2] == [50, 50]  # the default page size
    assert seen == sorted((r.position for r in rows), reverse=True)
    assert ("payload" in body["entries"][0]) == (route == "events")


def test_a_page_is_recorded_with_only_its_classes_and_replays_exactly(
    api: Api, long_record: str
) -> None:
    first = page(api, long_record, limit=5)
    record = access_record(api, first)
    assert (record.page_before, record.page_size, record.view) == (None, 5, "timeline-page")
    # The newest five are notes: the registration and the team, far back, were not disclosed.
    assert {e["kind"] for e in first.json()["entries"]} == {"ProgressNoteWritten"}
    assert [c.value for c in record.classes] == first.json()["classes"]
    assert "demographics" not in first.json()["classes"]
    pages_replay_exactly(api, long_record, "timeline", first)


def test_the_role_views_page_is_recorded_and_replays_exactly(api: Api, long_record: str) -> None:
    """The view's sections (the patient, the team) are there on every page; its timeline
    is the page's alone."""
    first = page(api, long_record, "view", limit=5)
    assert first.status_code == 200, first.text
    body = first.json()
    record = access_record(api, first)
    assert (record.page_before, record.page_size, record.view) == (None, 5, "view-page")
    assert body["patient"]["mrn"] and body["team"]
    assert len(body["entries"]) == 5 and "demographics" in body["classes"]
    pages_replay_exactly(api, long_record, "view", first)


def pages_replay_exactly(api: Api, long_record: str, route: str, first: Any) -> None:
    second = page(api, long_record, route, limit=5, before=first.json()["page"]["next_before"])
    assert access_record(api, second).page_before == first.json()["page"]["next_before"]
    for answer in (first, second):
        replay = api.client.get(
            f"/compliance/access/{answer.headers['X-Access-Id']}/replay",
            headers=api.auth("compliance@test"),
        )
        assert replay.status_code == 200, replay.text
        assert replay.json()["matches"] is True


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"before": 0}, "before"),
        ({"before": 2**63}, "before"),  # past any log position a store can hold
        ({"before": 10**40}, "before"),
        ({"limit": "many"}, "limit"),
    ],
)
@pytest.mark.parametrize("route", ["timeline", "view"])
def test_a_page_out_of_bounds_is_refused_naming_the_field_and_appends_nothing(
    api: Api, params: dict[str, Any], field: str, route: str
) -> None:
    patient = patient_with_team(api)
    before = api.position()
    answer = page(api, patient, route, **params)
    assert answer.status_code == 422, answer.text
    assert field in {f["field"].split(".")[-1] for f in answer.json()["fields"]}
    assert appended_since(api.services.clinic, before) == []
