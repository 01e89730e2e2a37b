"""Consent-scoped views over HTTP: each role sees what the policy allows at that moment,
every read is recorded, and every recorded read replays to the same bytes."""

from __future__ import annotations

import uuid
from typing import Any

from adapters.passwords import hash_password
from domain.events import Actor
from domain.vocabulary import Role
from tests.builders import create_user
from tests.e2e.conftest import PASSWORD, Api, directory_entry
from tests.e2e.test_api_records import SERTRALINE, post, registered


def last_position(api: Api) -> int:
    return api.position()


def get(api: Api, who: str, path: str, **params: Any) -> Any:
    return api.client.get(path, params=params, headers=api.auth(who))


def add_member(api: Api, patient: str, user: str, role: str, org: str) -> None:
    answer = post(
        api,
        "therapist@test",
        f"/patients/{patient}/team-members",
        {"user_id": user, "role": role, "organisation": org},
    )
    assert answer.status_code == 201, answer.text


def grant(api: Api, patient: str, recipient: str, classes: list[str], **extra: Any) -> str:
    answer = post(
        api,
        "therapist@test",
        f"/patients/{patient}/consents",
        {
            "recipient": directory_entry(api, recipient),
            "data_classes": classes,
            "purpose": extra.pop("purpose", "treatment"),
            **extra,
        },
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["created_id"])


def shared_record(api: Api) -> tuple[str, str]:
    """A patient with medication, a diagnosis, a progress note and a functional plan."""
    patient = registered(api)
    med = post(api, "prescriber@test", f"/patients/{patient}/medications", SERTRALINE).json()[
        "created_id"
    ]
    post(
        api,
        "therapist@test",
        f"/patients/{patient}/conditions",
        {"icd10": "F33.1", "description": "major depressive disorder, recurrent, moderate"},
    )
    post(api, "therapist@test", f"/patients/{patient}/progress-notes", {"text": "BA schedule kept"})
    post(
        api,
        "therapist@test",
        f"/patients/{patient}/functional-recommendations",
        {"setting": "school", "recommendation": "reduced course load this term"},
    )
    post(
        api,
        "therapist@test",
        f"/patients/{patient}/questionnaires",
        {"instrument": "gad-7", "answers": {str(i): 1 for i in range(1, 8)}},
    )
    return patient, str(med)


def test_primary_care_with_a_medication_only_consent_sees_medications_and_nothing_else(
    api: Api,
) -> None:
    patient, _ = shared_record(api)
    add_member(api, patient, "pcp@test", "primary-care", "Test Family Practice")
    grant(api, patient, "pcp@test", ["medication"])

    view = get(api, "pcp@test", f"/patients/{patient}/view", min_position=last_position(api))
    assert view.status_code == 200, view.text
    body = view.json()
    assert body["basis"] == "consent"
    assert body["classes"] == ["medication"]
    assert [m["drug"] for m in body["medications"]] == ["sertraline"]
    assert {e["data_class"] for e in body["entries"]} == {"medication"}
    assert "patient" not in body and "team" not in body
    assert "F33.1" not in view.text and "BA schedule" not in view.text


def test_after_revocation_the_next_read_shows_nothing_new(api: Api) -> None:
    patient, med = shared_record(api)
    add_member(api, patient, "pcp@test", "primary-care", "Test Family Practice")
    consent = grant(api, patient, "pcp@test", ["medication"])
    assert get(api, "pcp@test", f"/patients/{patient}/view").status_code == 200

    revoked = post(
        api,
        "therapist@test",
        f"/patients/{patient}/consents/{consent}/revocation",
        {"reason": "patient withdrew authorization in writing"},
    )
    assert revoked.status_code == 200, revoked.text
    after = get(api, "pcp@test", f"/patients/{patient}/view")
    assert after.status_code == 403
    post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications/{med}/dose",
        {"dose": {"amount": "100", "unit": "mg"}, "reason": "partial response"},
    )
    later = get(api, "pcp@test", f"/patients/{patient}/view", min_position=last_position(api))
    assert later.status_code == 403
    assert "100" not in later.text


def test_a_school_counselor_never_sees_a_diagnosis_or_a_note(api: Api) -> None:
    patient, _ = shared_record(api)
    add_member(api, patient, "counselor@test", "school-counselor", "Test College Counseling")
    grant(
        api,
        patient,
        "counselor@test",
        ["functional", "care-plan", "progress-note", "measure"],
        purpose="education-support",
    )
    view = get(
        api,
        "counselor@test",
        f"/patients/{patient}/view",
        purpose="education-support",
        min_position=last_position(api),
    )
    assert view.status_code == 200, view.text
    body = view.json()
    assert set(body["classes"]) <= {"functional", "measure"}
    assert (
        body["functional_recommendations"][0]["recommendation"] == "reduced course load this term"
    )
    assert "F33.1" not in view.text and "BA schedule" not in view.text
    assert not {e["data_class"] for e in body["entries"]} & {
        "care-plan",
        "progress-note",
        "psychotherapy-note",
    }


def test_nobody_but_its_author_sees_a_psychotherapy_note_without_its_own_consent(api: Api) -> None:
    patient, _ = shared_record(api)
    secret = f"process note {uuid.uuid4()}"
    post(api, "therapist@test", f"/patients/{patient}/psychotherapy-notes", {"text": secret})
    add_member(api, patient, "other.therapist@test", "therapist", "Elsewhere Clinic")
    patient_user = f"patient-{uuid.uuid4().hex[:6]}@test"
    create_user(
        api.services.clinic,
        Actor.system("tests"),
        email=patient_user,
        display_name="Rowan",
        role=Role.PATIENT,
        organisation="self",
        password_hash=hash_password(PASSWORD),
        patient_id=uuid.UUID(patient),
    )
    api.tokens[patient_user] = api.services.tokens.issue(patient_user, "patient")
    position = last_position(api)
    for kind in ("view", "timeline", "events"):
        mine = get(api, "therapist@test", f"/patients/{patient}/{kind}", min_position=position)
        assert secret in mine.text or kind != "events"
        for reader in ("prescriber@test", "other.therapist@test", patient_user):
            theirs = get(api, reader, f"/patients/{patient}/{kind}", min_position=position)
            assert theirs.status_code == 200, (reader, theirs.text)
            assert secret not in theirs.text
            assert "psychotherapy-note" not in theirs.json()["classes"]

    grant(api, patient, "prescriber@test", ["psychotherapy-note"])
    now_visible = get(
        api, "prescriber@test", f"/patients/{patient}/events", min_position=last_position(api)
    )
    assert secret in now_visible.text


def test_every_read_leaves_an_access_record_that_replays_to_the_same_bytes(api: Api) -> None:
    patient, _ = shared_record(api)
    reads = [
        get(api, "therapist@test", f"/patients/{patient}/view"),
        get(api, "prescriber@test", f"/patients/{patient}/timeline"),
        get(api, "therapist@test", f"/patients/{patient}/events"),
        get(api, "therapist@test", f"/patients/{patient}"),
    ]
    assert all(r.status_code == 200 for r in reads), [r.text for r in reads]
    api.services.reader.index.wait_for(last_position(api))
    seen = get(api, "compliance@test", "/compliance/access", patient_id=patient).json()
    ids = {r.headers["X-Access-Id"] for r in reads}
    assert ids <= {s["access_id"] for s in seen}
    for read in reads:
        access = read.headers["X-Access-Id"]
        replay = get(api, "compliance@test", f"/compliance/access/{access}/replay").json()
        assert replay["matches"] is True, replay
        import hashlib

        assert replay["original_sha256"] == hashlib.sha256(read.content).hexdigest()


def test_a_read_can_wait_for_its_own_write_and_look_back_in_time(api: Api) -> None:
    patient, _ = shared_record(api)
    before = last_position(api)
    receipt = post(
        api, "therapist@test", f"/patients/{patient}/progress-notes", {"text": "read-your-writes"}
    ).json()
    fresh = get(
        api, "therapist@test", f"/patients/{patient}/timeline", min_position=receipt["position"]
    )
    assert "read-your-writes" in fresh.text
    past = get(api, "therapist@test", f"/patients/{patient}/timeline", as_of=before)
    assert past.status_code == 200
    assert "read-your-writes" not in past.text
    assert past.json()["as_of_position"] == before


def test_break_the_glass_is_recorded_and_reviewed_by_compliance(api: Api) -> None:
    patient, _ = shared_record(api)
    refused = get(api, "pcp@test", f"/patients/{patient}/view")
    assert refused.status_code == 403
    blank = post(api, "pcp@test", f"/patients/{patient}/break-glass", {"reason": "  "})
    assert blank.status_code == 422
    emergency = post(
        api,
        "pcp@test",
        f"/patients/{patient}/break-glass",
        {"reason": "unresponsive in clinic; need current medications"},
    )
    assert emergency.status_code == 200, emergency.text
    assert emergency.json()["basis"] == "break-the-glass"
    api.services.reader.index.wait_for(last_position(api))
    queue = get(api, "compliance@test", "/compliance/break-glass").json()
    entry = next(q for q in queue if q["access_id"] == emergency.headers["X-Access-Id"])
    assert entry["emergency_reason"].startswith("unresponsive")
    reviewed = post(
        api,
        "compliance@test",
        f"/compliance/break-glass/{entry['access_id']}/review",
        {"outcome": "appropriate", "note": "documented emergency"},
    )
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["reviewed_by"] == "compliance@test"
    assert entry["access_id"] not in {
        q["access_id"] for q in get(api, "compliance@test", "/compliance/break-glass").json()
    }


def test_compliance_answers_who_saw_what_and_accounts_for_disclosures(api: Api) -> None:
    patient, _ = shared_record(api)
    add_member(api, patient, "pcp@test", "primary-care", "Test Family Practice")
    grant(api, patient, "pcp@test", ["medication"])
    get(api, "pcp@test", f"/patients/{patient}/view", min_position=last_position(api))
    get(api, "therapist@test", f"/patients/{patient}/view")
    api.services.reader.index.wait_for(last_position(api))

    by_user = get(api, "compliance@test", "/compliance/access", user_id="pcp@test").json()
    assert {r["patient_id"] for r in by_user} == {patient}
    assert by_user[0]["basis"] == "consent" and by_user[0]["consents"]
    as_csv = get(api, "compliance@test", "/compliance/access", patient_id=patient, format="csv")
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "pcp@test" in as_csv.text and "therapist@test" in as_csv.text

    accounting = get(api, "compliance@test", f"/compliance/disclosures/{patient}").json()
    assert [d["recipient"] for d in accounting["disclosures"]] == ["pcp@test"]
    assert accounting["part2_disclosures"] == []
    assert accounting["disclosures"][0]["description"].endswith("medication")


def test_compliance_sees_audit_records_not_clinical_content(api: Api) -> None:
    patient, _ = shared_record(api)
    assert get(api, "compliance@test", f"/patients/{patient}/view").status_code == 403
    assert get(api, "therapist@test", "/compliance/access").status_code == 403


def test_a_psychotherapy_note_consent_cannot_be_combined_and_nothing_is_recorded(api: Api) -> None:
    patient, _ = shared_record(api)
    prescriber = directory_entry(api, "prescriber@test")
    before = last_position(api)
    answer = post(
        api,
        "therapist@test",
        f"/patients/{patient}/consents",
        {
            "recipient": prescriber,
            "data_classes": ["psychotherapy-note", "medication"],
            "purpose": "treatment",
        },
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["fields"][0]["field"] == "data_classes"
    assert last_position(api) == before


def test_a_consent_including_sud_requires_part2_and_carries_the_redisclosure_notice(
    api: Api,
) -> None:
    patient, _ = shared_record(api)
    add_member(api, patient, "pcp@test", "primary-care", "Test Family Practice")
    refused = post(
        api,
        "therapist@test",
        f"/patients/{patient}/consents",
        {
            "recipient": directory_entry(api, "pcp@test"),
            "data_classes": ["sud"],
            "purpose": "treatment",
        },
    )
    assert refused.status_code == 422, refused.text
    grant(api, patient, "pcp@test", ["sud", "medication"], part2=True)
    view = get(api, "pcp@test", f"/patients/{patient}/view", min_position=last_position(api))
    assert view.status_code == 200, view.text
    assert "42 cfr part 2" in (view.json()["notice"] or "").lower()
