"""The board over HTTP, read from the stored board: pages of patients most urgent first
(alerts, then overdue, then due, then the rest), a cursor, a default page size and a
maximum; each patient on a page is one `board-items` access record, and a compliance
replay of it rebuilds its bytes even after the stored board has changed."""

from __future__ import annotations

from typing import Any

from tests.builders import appended_since
from tests.e2e.conftest import Api
from tests.e2e.test_api_records import post
from tests.e2e.test_coordination import PHQ9_SEVERE, ago, board, patient_with_team


def accesses_since(api: Api, position: int) -> list[Any]:
    """The access records after `position`, once the index has them: a board's access
    records are in the store before it answers; the index follows."""
    assert api.services.reader.index.wait_for(api.position())
    return [a for a in api.services.reader.index.view.accesses() if a.position > position]


def alert(api: Api, patient: str) -> None:
    post(
        api,
        "therapist@test",
        f"/patients/{patient}/questionnaires",
        {"instrument": "phq-9", "answers": {**PHQ9_SEVERE, "9": 1}, "clinical_time": ago(hours=2)},
    )


def message(api: Api, patient: str) -> None:
    post(
        api,
        "prescriber@test",
        f"/patients/{patient}/messages",
        {"to": ["therapist@test"], "subject": "Synthetic handoff", "body": "Please call."},
    )


def test_the_board_pages_most_urgent_first_with_a_cursor(api: Api) -> None:
    waiting = [patient_with_team(api) for _ in range(3)]
    alerting = [patient_with_team(api) for _ in range(2)]
    quiet = patient_with_team(api)  # nothing for anyone: on no page
    for p in waiting:
        message(api, p)
    for p in alerting:
        alert(api, p)
    first = board(api, "therapist@test", limit=2)
    assert [p["patient_id"] for p in first["patients"]] == sorted(alerting)
    assert all(p["alerts"] for p in first["patients"])
    assert first["next_cursor"]
    seen = [p["patient_id"] for p in first["patients"]]
    cursor = first["next_cursor"]
    while cursor:
        page = board(api, "therapist@test", limit=2, cursor=cursor)
        assert len(page["patients"]) <= 2
        seen += [p["patient_id"] for p in page["patients"]]
        cursor = page["next_cursor"]
    assert seen == sorted(alerting) + sorted(waiting)
    assert quiet not in seen
    whole = board(api, "therapist@test")  # the default page holds them all
    assert [p["patient_id"] for p in whole["patients"]] == seen
    assert whole["next_cursor"] is None


def test_each_patient_on_a_page_is_one_board_items_read_and_nothing_else(api: Api) -> None:
    patients = [patient_with_team(api) for _ in range(3)]
    for p in patients:
        message(api, p)
    before = api.position()
    page = board(api, "therapist@test", limit=2)
    new = accesses_since(api, before)
    assert sorted(str(a.patient_id) for a in new) == sorted(
        p["patient_id"] for p in page["patients"]
    )
    assert {a.view for a in new} == {"board-items"}
    assert len(new) == 2


def test_a_bad_cursor_or_page_size_is_refused_by_name_and_appends_nothing(api: Api) -> None:
    patient_with_team(api)
    for params, field in (
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
    ):
        before = api.position()
        answer = api.client.get("/board", params=params, headers=api.auth("therapist@test"))
        assert answer.status_code == 422, answer.text
        assert field in answer.text
        assert appended_since(api.services.clinic, before) == []


def replay(api: Api, access_id: str) -> dict[str, Any]:
    answer = api.client.get(
        f"/compliance/access/{access_id}/replay", headers=api.auth("compliance@test")
    )
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_a_board_read_replays_to_its_bytes_after_the_stored_board_changes(api: Api) -> None:
    patient = patient_with_team(api)
    alert(api, patient)
    before = api.position()
    shown = board(api, "therapist@test")
    assert [p["patient_id"] for p in shown["patients"]] == [patient]
    (record,) = accesses_since(api, before)
    # The stored board changes: the alert is answered, a message waits.
    post(
        api,
        "therapist@test",
        f"/patients/{patient}/risk-assessments",
        {"level": "moderate", "method": "c-ssrs", "plan": "safety plan reviewed"},
    )
    message(api, patient)
    after = board(api, "therapist@test")
    assert after["patients"][0]["alerts"] == []
    replayed = replay(api, str(record.access_id))
    assert replayed["matches"] is True, replayed
