"""Looking back in time never gets round a decision of now: whether someone may read is
decided by the consents, the care team and the time in force at the moment of the read;
`as_of` only chooses which version of the data is shown. Only compliance's replay
reproduces a past decision, and it discloses nothing new to anyone else."""

from __future__ import annotations

import threading
from pathlib import Path
from uuid import UUID

from bootstrap import bootstrap_services
from bootstrap.settings import Settings
from domain.audit import AccessRecorded
from tests.e2e.conftest import Api, add_users, api_over
from tests.e2e.test_api_records import post
from tests.e2e.test_consent_views import add_member, get, grant, last_position, shared_record

VIEWS = ("", "/view", "/timeline", "/events", "/medication-timeline", "/consents")


def access_records_since(api: Api, position: int) -> list[AccessRecorded]:
    clinic = api.services.clinic
    return [e for p, e in clinic.all_events(start=position + 1) if isinstance(e, AccessRecorded)]


def test_a_revoked_consent_opens_nothing_as_of_a_position_before_its_revocation(
    api: Api,
) -> None:
    patient, _ = shared_record(api)
    add_member(api, patient, "pcp@test", "primary-care", "Test Family Practice")
    consent = grant(api, patient, "pcp@test", ["medication"])
    allowed = get(api, "pcp@test", f"/patients/{patient}/view", min_position=last_position(api))
    assert allowed.status_code == 200 and allowed.json()["basis"] == "consent"
    before_revocation = last_position(api)
    revoked = post(
        api,
        "therapist@test",
        f"/patients/{patient}/consents/{consent}/revocation",
        {"reason": "patient withdrew authorization in writing"},
    )
    assert revoked.status_code == 200, revoked.text
    start = last_position(api)
    for path in VIEWS:
        looked_back = get(api, "pcp@test", f"/patients/{patient}{path}", as_of=before_revocation)
        assert looked_back.status_code == 403, (path, looked_back.text)
        assert "sertraline" not in looked_back.text
    # Nothing was disclosed, so no read names the revoked consent as its basis.
    assert [r for r in access_records_since(api, start) if r.basis == "consent"] == []


def test_a_clinician_removed_from_the_team_reads_nothing_as_of_their_time_on_it(
    api: Api,
) -> None:
    patient, _ = shared_record(api)
    add_member(api, patient, "other.therapist@test", "therapist", "Elsewhere Clinic")
    on_team = get(
        api,
        "other.therapist@test",
        f"/patients/{patient}/view",
        min_position=last_position(api),  # the index has the new member's row
    )
    assert on_team.status_code == 200, on_team.text
    while_on_it = last_position(api)
    removed = post(
        api,
        "therapist@test",
        f"/patients/{patient}/team-members/other.therapist@test/removal",
        {"reason": "care transferred back"},
    )
    assert removed.status_code == 200, removed.text
    for path in VIEWS:
        looked_back = get(
            api, "other.therapist@test", f"/patients/{patient}{path}", as_of=while_on_it
        )
        assert looked_back.status_code == 403, (path, looked_back.text)


def test_the_treating_team_looks_back_and_compliance_replays_it_exactly(api: Api) -> None:
    patient, med = shared_record(api)
    earlier = last_position(api)
    changed = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications/{med}/dose",
        {"dose": {"amount": "100", "unit": "mg"}, "reason": "partial response"},
    )
    assert changed.status_code == 201, changed.text
    then = get(api, "prescriber@test", f"/patients/{patient}/view", as_of=earlier)
    now = get(api, "prescriber@test", f"/patients/{patient}/view", min_position=last_position(api))
    assert then.status_code == 200 and now.status_code == 200
    assert then.json()["as_of_position"] == earlier
    assert then.json() != now.json()  # the data as it stood then
    replay = get(
        api,
        "compliance@test",
        f"/compliance/access/{then.headers['X-Access-Id']}/replay",
        min_position=then.headers["X-Access-Position"],
    )
    assert replay.status_code == 200 and replay.json()["matches"] is True
    (record,) = [
        r
        for r in access_records_since(api, earlier)
        if str(r.originator_id) == then.headers["X-Access-Id"]
    ]
    assert record.reflected_position == earlier
    assert record.team_position is not None and record.team_position > earlier


def test_a_removal_counts_from_the_very_next_read_however_far_the_index_has_got(
    tmp_path: Path, password_hash: str
) -> None:
    """The index is kept by another process here (index_worker=worker), so it lags every
    write until that worker runs: a clinician removed from the team must not read on the
    team the index still shows. Their next read waits for the index to reach the removal,
    and is then refused; it is never answered from the team as it stood."""
    services = bootstrap_services(Settings(data_dir=tmp_path / "data", index_worker="worker"))
    add_users(services, password_hash)
    index = services.reader.index
    with api_over(services) as api:
        patient, _ = shared_record(api)
        add_member(api, patient, "other.therapist@test", "therapist", "Elsewhere Clinic")
        index.catch_up()  # the worker's turn: the new member is on the team it shows
        on_team = get(api, "other.therapist@test", f"/patients/{patient}/view")
        assert on_team.status_code == 200, on_team.text
        index.catch_up()
        removed = post(
            api,
            "therapist@test",
            f"/patients/{patient}/team-members/other.therapist@test/removal",
            {"reason": "care transferred back"},
        )
        assert removed.status_code == 200, removed.text
        assert index.view.record_version(UUID(patient)) < services.clinic.record_version(
            UUID(patient)
        )
        # The worker comes round a moment later; the read asked for meanwhile waits for it.
        worker = threading.Timer(0.5, index.catch_up)
        worker.start()
        try:
            after = get(api, "other.therapist@test", f"/patients/{patient}/view")
        finally:
            worker.join()
        assert after.status_code == 403, after.text
        assert "sertraline" not in after.text
