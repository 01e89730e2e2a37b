"""Read-your-writes on every index-backed answer: a write's receipt position, or a read's
X-Access-Position, given as `min_position` to the board or any compliance route, makes the
answer reflect it (no sleeping in the test, no waiting on the index by hand)."""

from __future__ import annotations

from tests.e2e.conftest import Api
from tests.e2e.test_api_records import post, registered
from tests.e2e.test_consent_views import get, shared_record


def test_a_break_the_glass_record_is_on_the_queue_at_its_own_position_every_time(
    api: Api,
) -> None:
    patient, _ = shared_record(api)
    for n in range(12):
        emergency = post(
            api,
            "pcp@test",
            f"/patients/{patient}/break-glass",
            {"reason": f"unresponsive in clinic, attempt {n}"},
        )
        assert emergency.status_code == 200, emergency.text
        access_id = emergency.headers["X-Access-Id"]
        at = emergency.headers["X-Access-Position"]
        queue = get(api, "compliance@test", "/compliance/break-glass", min_position=at)
        assert access_id in {q["access_id"] for q in queue.json()}, n
        log = get(api, "compliance@test", "/compliance/access", patient_id=patient, min_position=at)
        assert access_id in {r["access_id"] for r in log.json()}
        accounting = get(
            api, "compliance@test", f"/compliance/disclosures/{patient}", min_position=at
        )
        assert access_id in {d["access_id"] for d in accounting.json()["disclosures"]}
        replay = get(
            api, "compliance@test", f"/compliance/access/{access_id}/replay", min_position=at
        )
        assert replay.status_code == 200 and replay.json()["matches"] is True


def test_the_board_reflects_a_write_at_its_receipt_position(api: Api) -> None:
    patient = registered(api)
    alert = post(
        api,
        "therapist@test",
        f"/patients/{patient}/questionnaires",
        {"instrument": "phq-9", "answers": {str(i): (3 if i == 9 else 1) for i in range(1, 10)}},
    )
    assert alert.status_code == 201, alert.text
    at = alert.json()["position"]
    board = get(api, "therapist@test", "/board", min_position=at, patient_id=patient)
    assert board.status_code == 200
    (row,) = board.json()["patients"]
    assert row["alerts"], "the item-9 alert is on the board at the write's own position"


def test_a_position_beyond_the_log_is_refused_naming_the_field(api: Api) -> None:
    beyond = api.position() + 1000
    for path in ("/board", "/compliance/break-glass", "/compliance/access"):
        who = "compliance@test" if path.startswith("/compliance") else "therapist@test"
        answer = get(api, who, path, min_position=beyond)
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["fields"][0]["field"] == "min_position"


def test_only_a_reviewer_learns_anything_from_a_compliance_route(api: Api) -> None:
    answer = get(api, "therapist@test", "/compliance/break-glass", min_position=10**9)
    assert answer.status_code == 403  # refused before the position is even looked at
