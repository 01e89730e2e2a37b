"""Recording and reading clinical actions over HTTP, closed to all but the treating team."""

from __future__ import annotations

import re
import uuid
from typing import Any

from domain.audit import ReadRefused
from tests.builders import appended_since
from tests.e2e.conftest import Api

PATIENT = {
    "mrn": "",
    "given_name": "Rowan",
    "family_name": "Synthetic",
    "birth_date": "1988-07-14",
    "sex_at_birth": "male",
    "preferred_language": "es",
    "interpreter_needed": True,
    "telehealth_preference": "telehealth",
}
SERTRALINE = {
    "drug": "sertraline",
    "rxnorm": "36437",
    "dose": {"amount": "25", "unit": "mg"},
    "schedule": {"frequency": "once-daily"},
    "indication": "recurrent major depression",
}

RECONCILIATION: dict[str, Any] = {
    "source": "patient interview",
    "items": [
        {
            "drug": "sertraline",
            "rxnorm": "36437",
            "dose": {"amount": "50", "unit": "mg"},
            "schedule": {"frequency": "once-daily"},
            "prescribed_by": "Dr. Ng, Valley Primary Care",
            "decision": "confirmed",
        },
        {
            "drug": "diphenhydramine",
            "dose": {"amount": "25", "unit": "mg"},
            "schedule": {"frequency": "as-needed"},
            "decision": "discontinued",
            "reason": "anticholinergic; sleep hygiene instead",
        },
    ],
}


def registered(api: Api) -> str:
    """A patient registered by the therapist, with the prescriber added to the team."""
    body = {**PATIENT, "mrn": f"H-{uuid.uuid4().hex[:8]}"}
    answer = api.client.post("/patients", json=body, headers=api.auth("therapist@test"))
    assert answer.status_code == 201, answer.text
    patient = answer.json()["patient_id"]
    member = {"user_id": "prescriber@test", "role": "prescriber", "organisation": "Test Clinic"}
    added = api.client.post(
        f"/patients/{patient}/team-members", json=member, headers=api.auth("therapist@test")
    )
    assert added.status_code == 201, added.text
    return str(patient)


def post(api: Api, who: str, path: str, body: dict[str, Any]) -> Any:
    return api.client.post(path, json=body, headers=api.auth(who))


def test_a_prescriber_records_a_dose_change_and_reads_it_back(api: Api) -> None:
    patient = registered(api)
    started = post(api, "prescriber@test", f"/patients/{patient}/medications", SERTRALINE)
    assert started.status_code == 201, started.text
    medication = started.json()["created_id"]

    changed = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications/{medication}/dose",
        {"dose": {"amount": "50", "unit": "mg"}, "reason": "tolerating 25 mg well"},
    )
    assert changed.status_code == 201, changed.text
    receipt = changed.json()
    assert receipt["position"] == api.position()

    events = api.client.get(
        f"/patients/{patient}/events",
        params={"min_position": receipt["position"]},
        headers=api.auth("therapist@test"),
    ).json()["entries"]
    last = events[0]  # newest first
    assert last["kind"] == "DoseChanged"
    assert last["version"] == receipt["version"]
    assert last["position"] == receipt["position"]
    assert last["payload"]["dose"] == {"amount": "50", "unit": "mg"}
    assert (last["author"], last["author_role"], last["author_org"]) == (
        "prescriber@test",
        "prescriber",
        "Test Clinic",
    )
    assert last["data_class"] == "medication"

    summary = api.client.get(f"/patients/{patient}", headers=api.auth("prescriber@test")).json()
    assert [
        (m["medication_id"], m["drug"], m["dose"], m["status"]) for m in summary["medications"]
    ] == [(medication, "sertraline", {"amount": "50", "unit": "mg"}, "active")]


def test_someone_off_the_team_can_neither_read_nor_write(api: Api) -> None:
    patient = registered(api)
    before = api.position()
    outsider = api.auth("other.therapist@test")
    assert api.client.get(f"/patients/{patient}", headers=outsider).status_code == 403
    assert api.client.get(f"/patients/{patient}/events", headers=outsider).status_code == 403
    assert api.client.get(f"/patients/{patient}/timeline", headers=outsider).status_code == 403
    note = post(api, "other.therapist@test", f"/patients/{patient}/progress-notes", {"text": "x"})
    assert note.status_code == 403
    # Three refused reads, each recorded for compliance; the refused write records nothing.
    assert appended_since(api.services.clinic, before) == [ReadRefused] * 3


def test_primary_care_on_the_team_is_not_treating_and_is_refused(api: Api) -> None:
    patient = registered(api)
    member = {"user_id": "pcp@test", "role": "primary-care", "organisation": "Test Family Practice"}
    assert (
        post(api, "therapist@test", f"/patients/{patient}/team-members", member).status_code == 201
    )
    before = api.position()
    assert api.client.get(f"/patients/{patient}", headers=api.auth("pcp@test")).status_code == 403
    answer = post(
        api,
        "pcp@test",
        f"/patients/{patient}/conditions",
        {"icd10": "F33.1", "description": "major depressive disorder, recurrent"},
    )
    assert answer.status_code == 403
    assert appended_since(api.services.clinic, before) == [ReadRefused]  # the refused read


def test_a_patient_that_does_not_exist_looks_like_one_you_may_not_see(api: Api) -> None:
    patient = registered(api)
    ghost = str(uuid.uuid4())
    outsider = api.auth("other.therapist@test")
    for path in ("", "/events", "/timeline"):
        hidden = api.client.get(f"/patients/{patient}{path}", headers=outsider)
        missing = api.client.get(f"/patients/{ghost}{path}", headers=outsider)
        assert hidden.status_code == missing.status_code == 403
        assert hidden.json() == {
            **missing.json(),
            "message": missing.json()["message"].replace(ghost, patient),
        }
    hidden = post(
        api,
        "other.therapist@test",
        f"/patients/{patient}/lapses",
        {"substance": "alcohol", "occurred_on": "2026-01-01", "circumstances": "x"},
    )
    missing = post(
        api,
        "other.therapist@test",
        f"/patients/{ghost}/lapses",
        {"substance": "alcohol", "occurred_on": "2026-01-01", "circumstances": "x"},
    )
    assert hidden.status_code == missing.status_code == 403
    assert re.sub(r"[0-9a-f-]{36}", "ID", hidden.text) == re.sub(
        r"[0-9a-f-]{36}", "ID", missing.text
    )


def test_bad_input_names_the_field_and_appends_nothing(api: Api) -> None:
    patient = registered(api)
    medication = post(
        api, "prescriber@test", f"/patients/{patient}/medications", SERTRALINE
    ).json()["created_id"]
    cases = [
        (
            f"/medications/{medication}/dose",
            {"dose": {"amount": -5, "unit": "mg"}, "reason": "x"},
            "dose.amount",
        ),
        (
            f"/medications/{medication}/dose",
            {"dose": {"amount": 5, "unit": "cups"}, "reason": "x"},
            "dose.unit",
        ),
        (
            "/questionnaires",
            {"instrument": "phq-9", "answers": {**{str(i): 0 for i in range(1, 9)}, "9": 5}},
            "answers.9",
        ),
        ("/conditions", {"icd10": "not-a-code", "description": "x"}, "icd10"),
        ("/lab-orders", {"loinc": "14334-0", "test_name": "lithium", "reason": "trough"}, "loinc"),
        (
            f"/medications/{medication}/dose",
            {
                "dose": {"amount": 50, "unit": "mg"},
                "reason": "x",
                "clinical_time": "2999-01-01T00:00:00Z",
            },
            "clinical_time",
        ),
        ("/medications", {k: v for k, v in SERTRALINE.items() if k != "indication"}, "indication"),
    ]
    before = api.position()
    for path, body, field in cases:
        answer = post(api, "prescriber@test", f"/patients/{patient}{path}", body)
        assert answer.status_code == 422, (path, answer.text)
        fields = [f["field"] for f in answer.json()["fields"]]
        assert field in fields, (path, fields)
    assert api.position() == before


def test_a_stale_expected_version_is_a_conflict_and_appends_nothing(api: Api) -> None:
    patient = registered(api)
    version = api.client.get(
        f"/patients/{patient}",
        params={"min_position": api.position()},
        headers=api.auth("therapist@test"),
    ).json()["record_version"]
    ok = api.client.post(
        f"/patients/{patient}/progress-notes?expected_version={version}",
        json={"text": "first"},
        headers=api.auth("therapist@test"),
    )
    assert ok.status_code == 201
    before = api.position()
    stale = api.client.post(
        f"/patients/{patient}/progress-notes?expected_version={version}",
        json={"text": "second"},
        headers=api.auth("therapist@test"),
    )
    assert stale.status_code == 409
    assert stale.json()["type"] == "conflict"
    assert api.position() == before


def test_a_rule_of_the_record_refuses_with_409(api: Api) -> None:
    patient = registered(api)
    session = post(
        api,
        "therapist@test",
        f"/patients/{patient}/sessions",
        {
            "starts_at": "2026-01-05T15:00:00Z",
            "duration_minutes": 50,
            "mode": "telehealth",
            "modality": "behavioral-activation",
            "clinical_time": "2026-01-01T10:00:00Z",
        },
    ).json()["created_id"]
    attended = post(api, "therapist@test", f"/patients/{patient}/sessions/{session}/attendance", {})
    assert attended.status_code == 201
    again = post(api, "therapist@test", f"/patients/{patient}/sessions/{session}/missed", {})
    assert again.status_code == 409
    assert again.json()["fields"][0]["field"] == "session_id"
    unknown = post(
        api, "therapist@test", f"/patients/{patient}/sessions/{uuid.uuid4()}/attendance", {}
    )
    assert unknown.status_code == 422
    assert unknown.json()["type"] == "unknown_reference"


def test_only_its_author_reads_a_psychotherapy_note(api: Api) -> None:
    patient = registered(api)
    secret = f"process note {uuid.uuid4()}"
    assert (
        post(
            api, "therapist@test", f"/patients/{patient}/psychotherapy-notes", {"text": secret}
        ).status_code
        == 201
    )
    at = {"min_position": api.position()}
    mine = api.client.get(
        f"/patients/{patient}/events", params=at, headers=api.auth("therapist@test")
    )
    theirs = api.client.get(
        f"/patients/{patient}/events", params=at, headers=api.auth("prescriber@test")
    )
    assert secret in mine.text
    assert secret not in theirs.text
    assert "PsychotherapyNoteWritten" not in theirs.text
    timeline = api.client.get(f"/patients/{patient}/timeline", headers=api.auth("prescriber@test"))
    assert "PsychotherapyNoteWritten" not in timeline.text


def test_registration_puts_the_registering_clinician_on_the_team(api: Api) -> None:
    patient = registered(api)
    team = api.client.get(
        f"/patients/{patient}",
        params={"min_position": api.position()},
        headers=api.auth("therapist@test"),
    ).json()["team"]
    assert {m["user_id"] for m in team} == {"therapist@test", "prescriber@test"}
    pcp = post(api, "pcp@test", "/patients", {**PATIENT, "mrn": "H-PCP-0001"})
    assert pcp.status_code == 403


def test_the_prescriber_reconciles_outside_medications_and_reads_them_back(api: Api) -> None:
    patient = registered(api)

    answer = post(
        api, "prescriber@test", f"/patients/{patient}/medication-reconciliations", RECONCILIATION
    )

    assert answer.status_code == 201, answer.text
    receipt = answer.json()
    assert receipt["position"] == api.position()
    assert receipt["created_id"] is None
    at = {"min_position": receipt["position"]}
    events = api.client.get(
        f"/patients/{patient}/events", params=at, headers=api.auth("prescriber@test")
    ).json()["entries"]
    last = events[0]  # newest first
    assert (last["kind"], last["version"], last["data_class"]) == (
        "MedicationsReconciled",
        receipt["version"],
        "medication",
    )
    assert [(i["drug"], i["decision"]) for i in last["payload"]["items"]] == [
        ("sertraline", "confirmed"),
        ("diphenhydramine", "discontinued"),
    ]
    timeline = api.client.get(
        f"/patients/{patient}/timeline", params=at, headers=api.auth("therapist@test")
    )
    assert timeline.status_code == 200
    assert "sertraline 50 mg once-daily confirmed" in timeline.text
    summary = api.client.get(f"/patients/{patient}", params=at, headers=api.auth("prescriber@test"))
    assert summary.status_code == 200


def test_a_therapist_may_not_reconcile_medications(api: Api) -> None:
    patient = registered(api)
    before = api.position()

    answer = post(
        api, "therapist@test", f"/patients/{patient}/medication-reconciliations", RECONCILIATION
    )

    assert answer.status_code == 403
    assert answer.json()["fields"][0]["field"] == "actor.role"
    assert api.position() == before


def test_a_malformed_reconciliation_names_the_field_and_appends_nothing(api: Api) -> None:
    patient = registered(api)
    confirmed, discontinued = RECONCILIATION["items"]
    changed_without_dose = {**confirmed, "decision": "changed", "reason": "x"}
    cases = [
        ({"items": []}, "items"),
        ({"items": [{**confirmed, "dosage": "50 mg"}]}, "items.0.dosage"),
        ({"items": [{**confirmed, "decision": "paused"}]}, "items.0.decision"),
        ({"items": [changed_without_dose]}, "items.0.new_dose"),
        ({"items": [confirmed, {**confirmed, "drug": "Sertraline"}]}, "items.1.drug"),
        ({"items": [{k: v for k, v in discontinued.items() if k != "reason"}]}, "items.0.reason"),
    ]
    before = api.position()
    for body, field in cases:
        answer = post(
            api, "prescriber@test", f"/patients/{patient}/medication-reconciliations", body
        )
        assert answer.status_code == 422, (body, answer.text)
        assert field in [f["field"] for f in answer.json()["fields"]], (body, answer.text)
    assert api.position() == before
