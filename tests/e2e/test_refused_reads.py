"""A refused read is an attempted access, logged as a security incident (45 CFR 164.304,
164.308(a)(6), 164.312(b)): who, role, the patient id asked for, when and why, for
compliance; the caller is told no more than before, whether or not the patient exists."""

from __future__ import annotations

import uuid
from typing import Any

from tests.e2e.conftest import Api
from tests.e2e.test_api_records import registered
from tests.e2e.test_consent_views import get, last_position


def refused(api: Api, **query: Any) -> list[dict[str, Any]]:
    answer = get(
        api, "compliance@test", "/compliance/refused", min_position=last_position(api), **query
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def test_a_refused_read_is_recorded_and_the_caller_sees_the_same_refusal_either_way(
    api: Api,
) -> None:
    patient = registered(api)
    made_up = str(uuid.uuid4())
    before = refused(api, user_id="pcp@test")
    existing = get(api, "pcp@test", f"/patients/{patient}/view")
    missing = get(api, "pcp@test", f"/patients/{made_up}/view")
    assert existing.status_code == missing.status_code == 403
    # Indistinguishable: the same kind of answer, naming only the id asked for.
    assert existing.json()["type"] == missing.json()["type"] == "access_denied"
    assert existing.json()["message"].replace(patient, "X") == missing.json()["message"].replace(
        made_up, "X"
    )
    after = refused(api, user_id="pcp@test")[len(before) :]
    assert [(r["patient_id"], r["view"], r["role"]) for r in after] == [
        (patient, "view-page", "primary-care"),
        (made_up, "view-page", "primary-care"),
    ]
    assert all(r["why"] and r["at"] for r in after)
    assert "no consent in force" in after[0]["why"]
    assert "no such patient" in after[1]["why"]


def test_repeated_refusals_in_a_short_window_flag_the_user_for_compliance(api: Api) -> None:
    for _ in range(5):
        assert get(api, "counselor@test", f"/patients/{uuid.uuid4()}/view").status_code == 403
    api.services.reader.index.wait_for(last_position(api))
    flagged = get(api, "compliance@test", "/compliance/refused/flagged").json()
    (entry,) = [f for f in flagged if f["user_id"] == "counselor@test"]
    assert entry["refusals"] >= 5 and entry["role"] == "school-counselor"
    assert "pcp@test" not in {f["user_id"] for f in flagged}


def test_only_compliance_sees_refused_reads(api: Api) -> None:
    assert get(api, "therapist@test", "/compliance/refused").status_code == 403
    assert get(api, "therapist@test", "/compliance/refused/flagged").status_code == 403


def test_the_board_does_not_count_its_own_listing_as_refusals(api: Api) -> None:
    registered(api)
    before = len(refused(api))
    assert get(api, "prescriber@test", "/board", scope="team").status_code == 200
    assert len(refused(api)) == before
