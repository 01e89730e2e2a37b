"""Consent recipients come from the directory of recipients (issue 11, item 6), over HTTP.

A grant names a directory entry: a typo or an empty recipient is refused on field
`recipient` and appends nothing. A grant stored before the directory (written here in its
old stored shape, without an entry id) works when its text names an entry exactly; one that
names none opens nothing, is listed for the treating team to resolve, and opens access once
resolved. The patient's JSON consent list carries each consent's id; reads made on either
side of a resolution replay to the bytes they answered.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

from eventsourcing.persistence import StoredEvent
from fastapi.testclient import TestClient

from domain.audit import AccessRecorded
from domain.consent import PatientConsents, consents_id_for
from domain.directory import RecipientRegistered
from domain.events import Actor, now
from domain.vocabulary import Role
from tests.builders import appended_since, create_user, post_login
from tests.e2e.conftest import PASSWORD, Api, directory_entry
from tests.e2e.test_api_records import post
from tests.e2e.test_consent_views import get, last_position, shared_record

PRACTICE = "Test Family Practice"  # pcp@test's organisation (tests/e2e/conftest.py)
THERAPIST = Actor(user_id="therapist@test", role=Role.THERAPIST, organisation="Test Clinic")


def grant_body(recipient: str, classes: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "recipient": recipient,
        "data_classes": classes or ["medication"],
        "purpose": "treatment",
        **extra,
    }


def store_legacy_grant(
    api: Api, patient: str, kind: str, recipient: str, classes: list[str]
) -> uuid.UUID:
    """A consent granted before the directory: a version-1 ConsentGranted, as the store
    holds those, naming its recipient in free text and no directory entry."""
    clinic = api.services.clinic
    patient_id = uuid.UUID(patient)
    aggregate_id = consents_id_for(patient_id)
    at = now() - timedelta(days=30)
    stored = []
    consents = clinic.consents(patient_id)
    version = consents.version if consents is not None else 0
    if consents is None:
        opened = PatientConsents.open(THERAPIST, at, patient_id)
        stored += [clinic.mapper.to_stored_event(e) for e in opened.collect_events()]
        version = 1
    consent_id = uuid.uuid4()
    v1_state = {
        "originator_id": str(aggregate_id),
        "originator_version": version + 1,
        "timestamp": at.isoformat(),
        "event_id": str(uuid.uuid4()),
        "actor": THERAPIST.model_dump(mode="json"),
        "data_class": "consent",
        "clinical_time": at.isoformat(),
        "patient_id": patient,
        "consent_id": str(consent_id),
        "recipient_kind": kind,
        "recipient": recipient,
        "data_classes": classes,
        "purpose": "treatment",
        "valid_from": at.isoformat(),
        "valid_until": None,
        "until_end_of_treatment": False,
        "part2": False,
        "notice": None,
    }
    assert "recipient_id" not in v1_state  # the shape stored before the directory
    data = clinic.mapper.transcoder.encode(v1_state)
    if clinic.mapper.cipher:
        data = clinic.mapper.cipher.encrypt(data)
    stored.append(StoredEvent(aggregate_id, version + 1, "domain.consent:ConsentGranted", data))
    clinic.recorder.insert_events(stored)
    return consent_id


def view_of(api: Api, who: str, patient: str) -> Any:
    return get(api, who, f"/patients/{patient}/view", min_position=last_position(api))


def unresolved(api: Api) -> list[dict[str, Any]]:
    answer = get(api, "therapist@test", "/directory/unresolved-consents")
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def replays(api: Api, read: Any) -> bool:
    access = read.headers["X-Access-Id"]
    replay = get(api, "compliance@test", f"/compliance/access/{access}/replay")
    assert replay.status_code == 200, replay.text
    return bool(replay.json()["matches"])


# --- new grants name an entry ------------------------------------------------------------


def test_a_grant_to_a_misspelt_organisation_is_refused_on_recipient_and_appends_nothing(
    api: Api,
) -> None:
    patient, _ = shared_record(api)
    directory_entry(api, "Maple Family Practice", kind="organisation")
    before = last_position(api)

    for typo in ("Mapel Family Pratice", str(uuid.uuid4())):
        answer = post(api, "therapist@test", f"/patients/{patient}/consents", grant_body(typo))
        assert answer.status_code == 422, answer.text
        assert [f["field"] for f in answer.json()["fields"]] == ["recipient"]
        assert "not an entry of the directory" in answer.json()["fields"][0]["reason"]
    assert appended_since(api.services.clinic, before) == []


def test_a_grant_with_an_empty_recipient_is_refused_on_recipient_and_appends_nothing(
    api: Api,
) -> None:
    patient, _ = shared_record(api)
    before = last_position(api)

    for empty in ("", "   "):
        answer = post(api, "therapist@test", f"/patients/{patient}/consents", grant_body(empty))
        assert answer.status_code == 422, answer.text
        assert answer.json()["fields"] == [
            {"field": "recipient", "reason": "names no directory entry (it is empty)"}
        ]
    assert appended_since(api.services.clinic, before) == []


def test_a_grant_to_a_directory_entry_opens_access_for_that_recipient_only(api: Api) -> None:
    patient, _ = shared_record(api)
    practice = directory_entry(api, PRACTICE, kind="organisation", role="primary-care")
    assert view_of(api, "pcp@test", patient).status_code == 403

    granted = post(api, "therapist@test", f"/patients/{patient}/consents", grant_body(practice))

    assert granted.status_code == 201, granted.text
    view = view_of(api, "pcp@test", patient)
    assert view.status_code == 200, view.text
    assert view.json()["basis"] == "consent"
    assert view.json()["consents"] == [granted.json()["created_id"]]
    assert view.json()["classes"] == ["medication"]
    # The counselor's organisation is another entry: nothing is open to it.
    assert view_of(api, "counselor@test", patient).status_code == 403


def test_a_grant_naming_the_wrong_kind_for_its_entry_is_refused_and_appends_nothing(
    api: Api,
) -> None:
    patient, _ = shared_record(api)
    pcp = directory_entry(api, "pcp@test")
    before = last_position(api)

    answer = post(
        api,
        "therapist@test",
        f"/patients/{patient}/consents",
        grant_body(pcp, recipient_kind="organisation"),
    )

    assert answer.status_code == 422, answer.text
    assert [f["field"] for f in answer.json()["fields"]] == ["recipient_kind"]
    assert appended_since(api.services.clinic, before) == []


# --- the directory itself --------------------------------------------------------------------


def test_the_clinic_registers_and_lists_entries_and_bad_entries_name_their_field(
    api: Api,
) -> None:
    clinic = api.services.clinic
    before = last_position(api)
    good = {"kind": "organisation", "name": "Lakeside School", "role": "school-counselor"}
    registered = post(api, "therapist@test", "/directory", good)
    assert registered.status_code == 201, registered.text
    assert appended_since(clinic, before)[-1] is RecipientRegistered
    listed = get(api, "pcp@test", "/directory").json()
    assert [e for e in listed if e["entry_id"] == registered.json()["entry_id"]] == [
        {**good, "entry_id": registered.json()["entry_id"], "email": None}
    ]

    before = last_position(api)
    refused = [
        ({"kind": "user", "name": "Dr Who", "role": "primary-care"}, "email"),
        ({**good, "name": "Other", "email": "x@test"}, "email"),
        ({"kind": "user", "name": "Dr Who", "role": "primary-care", "email": "nope"}, "email"),
        ({**good, "name": "   "}, "name"),
        ({**good, "name": "Self", "role": "patient"}, "role"),
        ({**good, "name": "Auditors", "role": "compliance"}, "role"),
        (good, "name"),  # already registered
        ({"kind": "group", "name": "x", "role": "primary-care"}, "kind"),
    ]
    for body, field in refused:
        answer = post(api, "therapist@test", "/directory", body)
        assert answer.status_code == 422, (body, answer.text)
        assert [f["field"] for f in answer.json()["fields"]] == [field], (body, answer.text)
    # An outside reader may list the directory, not add to it.
    outside = post(api, "pcp@test", "/directory", {**good, "name": "Sneaky"})
    assert outside.status_code == 403, outside.text
    assert appended_since(clinic, before) == []


# --- grants stored before the directory -----------------------------------------------------


def test_a_stored_free_text_grant_that_names_an_entry_exactly_keeps_working(api: Api) -> None:
    patient, _ = shared_record(api)
    practice = directory_entry(api, PRACTICE, kind="organisation", role="primary-care")
    consent = store_legacy_grant(api, patient, "organisation", PRACTICE, ["medication"])

    view = view_of(api, "pcp@test", patient)

    assert view.status_code == 200, view.text
    assert view.json()["consents"] == [str(consent)]
    listed = get(api, "therapist@test", f"/patients/{patient}/consents").json()["given"]
    assert [(c["consent_id"], c["resolved"], c["recipient_id"], c["in_force"]) for c in listed] == [
        (str(consent), True, practice, True)
    ]
    assert unresolved(api) == []
    # The directory grows; the read replays with the directory it was decided with.
    directory_entry(api, "Another Practice", kind="organisation")
    assert replays(api, view)


def test_a_stored_grant_naming_no_entry_opens_nothing_until_resolved(api: Api) -> None:
    patient, _ = shared_record(api)
    practice = directory_entry(api, PRACTICE, kind="organisation", role="primary-care")
    typo = store_legacy_grant(api, patient, "organisation", "Test Family Pratice", ["medication"])

    # It opens nothing, and it is not listed as in force.
    assert view_of(api, "pcp@test", patient).status_code == 403
    listed = get(api, "therapist@test", f"/patients/{patient}/consents").json()["given"]
    assert [(c["consent_id"], c["resolved"], c["in_force"]) for c in listed] == [
        (str(typo), False, False)
    ]
    # The treating team is asked to resolve it; outside readers are not.
    waiting = unresolved(api)
    assert [(w["patient_id"], w["consent_id"], w["recipient"]) for w in waiting] == [
        (patient, str(typo), "Test Family Pratice")
    ]
    assert get(api, "pcp@test", "/directory/unresolved-consents").status_code == 403
    before_resolution = get(api, "therapist@test", f"/patients/{patient}/consents")

    # Resolving it to a name that is no entry is refused, and appends nothing.
    path = f"/patients/{patient}/consents/{typo}/recipient"
    before = last_position(api)
    bad = post(api, "therapist@test", path, {"recipient": "Test Family Pratice"})
    assert bad.status_code == 422, bad.text
    assert [f["field"] for f in bad.json()["fields"]] == ["recipient"]
    assert appended_since(api.services.clinic, before) == []

    resolved = post(api, "therapist@test", path, {"recipient": practice})

    assert resolved.status_code == 200, resolved.text
    view = view_of(api, "pcp@test", patient)
    assert view.status_code == 200, view.text
    assert view.json()["consents"] == [str(typo)]
    assert unresolved(api) == []
    # Resolved once: a second resolution is refused, and appends nothing.
    before = last_position(api)
    again = post(api, "therapist@test", path, {"recipient": practice})
    assert again.status_code == 409, again.text
    assert appended_since(api.services.clinic, before) == []
    # Reads on both sides of the resolution replay to the bytes they answered.
    assert replays(api, before_resolution) and replays(api, view)


def test_a_stored_grant_to_a_user_entry_matches_by_email_without_regard_to_case(
    api: Api,
) -> None:
    patient, _ = shared_record(api)
    directory_entry(api, "pcp@test")
    consent = store_legacy_grant(api, patient, "user", "PCP@Test", ["medication"])

    view = view_of(api, "pcp@test", patient)

    assert view.status_code == 200, view.text
    assert view.json()["consents"] == [str(consent)]


# --- the patient's JSON consent list ---------------------------------------------------------


def patient_account(api: Api, patient: str, email: str = "patient.list@test") -> None:
    """An account for the patient, signed in to the API."""
    create_user(
        api.services.clinic,
        Actor.system("tests"),
        email=email,
        display_name="Pat",
        role=Role.PATIENT,
        organisation="self",
        password_hash=api.services.passwords.hash(PASSWORD),
        patient_id=uuid.UUID(patient),
    )
    token = api.client.post("/auth/token", data={"username": email, "password": PASSWORD})
    api.tokens[email] = token.json()["access_token"]


def test_the_patients_json_consent_list_carries_each_consents_id(api: Api) -> None:
    patient, _ = shared_record(api)
    patient_account(api, patient)
    practice = directory_entry(api, PRACTICE, kind="organisation", role="primary-care")
    first = post(api, "patient.list@test", f"/patients/{patient}/consents", grant_body(practice))
    second = post(
        api,
        "patient.list@test",
        f"/patients/{patient}/consents",
        grant_body(directory_entry(api, "counselor@test"), ["functional"]),
    )
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    revoked = post(
        api,
        "patient.list@test",
        f"/patients/{patient}/consents/{second.json()['created_id']}/revocation",
        {"reason": "No longer at that school"},
    )
    assert revoked.status_code == 200, revoked.text

    answer = get(api, "patient.list@test", f"/patients/{patient}/consents")

    assert answer.status_code == 200, answer.text
    given = answer.json()["given"]
    assert [(c["consent_id"], c["in_force"], c["ended"]) for c in given] == [
        (first.json()["created_id"], True, None),
        (second.json()["created_id"], False, "revoked"),
    ]
    assert given[0]["recipient_id"] == practice and given[0]["recipient_name"] == PRACTICE
    assert answer.json()["view"] == "consent-list"
    assert replays(api, answer)


# --- the treating team's page ---------------------------------------------------------------


def test_the_treating_team_resolves_a_waiting_consent_on_its_page(api: Api) -> None:
    patient, _ = shared_record(api)
    practice = directory_entry(api, PRACTICE, kind="organisation", role="primary-care")
    typo = store_legacy_grant(api, patient, "organisation", "Test Family Pratice", ["medication"])
    browser = TestClient(api.client.app)
    signed_in = post_login(browser, "therapist@test", PASSWORD, follow_redirects=False)
    assert signed_in.status_code == 303, signed_in.text

    listed = browser.get("/consents/unresolved")

    assert listed.status_code == 200, listed.text
    assert "Test Family Pratice" in listed.text
    action = f'action="/consents/unresolved/{patient}/{typo}"'
    assert action in listed.text
    assert f'<option value="{practice}">{PRACTICE}, primary care</option>' in listed.text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', listed.text)
    assert csrf
    path = f"/consents/unresolved/{patient}/{typo}"
    before = last_position(api)
    refused = browser.post(path, data={"csrf": csrf.group(1), "recipient": ""})
    assert refused.status_code == 422, refused.text
    assert "recipient: names no directory entry" in refused.text
    # Nothing but the records of the page's own reads (it lists the consents again).
    assert set(appended_since(api.services.clinic, before)) == {AccessRecorded}

    resolved = browser.post(
        path, data={"csrf": csrf.group(1), "recipient": practice}, follow_redirects=False
    )

    assert resolved.status_code == 303, resolved.text
    after = browser.get(resolved.headers["location"])
    assert "The consent now names its recipient." in after.text
    assert "No consent is waiting for a recipient." in after.text
    assert view_of(api, "pcp@test", patient).status_code == 200


def test_a_read_replays_with_the_directory_it_was_decided_with(api: Api) -> None:
    patient, _ = shared_record(api)
    waiting = store_legacy_grant(api, patient, "organisation", "Harbour Clinic", ["medication"])
    before = get(api, "therapist@test", f"/patients/{patient}/consents")
    assert [c["resolved"] for c in before.json()["given"]] == [False]

    # Registering an entry its text names exactly: from now on the consent names it...
    directory_entry(api, "Harbour Clinic", kind="organisation")
    after = get(api, "therapist@test", f"/patients/{patient}/consents")
    assert [(c["consent_id"], c["resolved"]) for c in after.json()["given"]] == [
        (str(waiting), True)
    ]
    # ...and each read still replays to what it answered then.
    assert replays(api, before) and replays(api, after)


def test_the_patient_sees_a_waiting_consent_apart_from_those_in_force_and_may_revoke_it(
    api: Api,
) -> None:
    patient, _ = shared_record(api)
    patient_account(api, patient, "patient.page@test")
    # Stored before this process wrote the patient's consents, as old grants are.
    typo = store_legacy_grant(api, patient, "organisation", "Mapel Family Pratice", ["lab"])
    practice = directory_entry(api, PRACTICE, kind="organisation", role="primary-care")
    granted = post(api, "therapist@test", f"/patients/{patient}/consents", grant_body(practice))
    assert granted.status_code == 201, granted.text
    browser = TestClient(api.client.app)
    signed_in = post_login(browser, "patient.page@test", PASSWORD, follow_redirects=False)
    assert signed_in.status_code == 303, signed_in.text

    page = browser.get("/me", headers={"accept": "text/html"})

    assert page.status_code == 200, page.text
    in_force, waiting = page.text.split("Waiting for your clinic")
    assert f'action="/me/consents/{granted.json()["created_id"]}/revoke"' in in_force
    assert "Mapel Family Pratice" not in in_force
    assert "Mapel Family Pratice" in waiting
    assert f'action="/me/consents/{typo}/revoke"' in waiting
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert csrf
    revoked = browser.post(
        f"/me/consents/{typo}/revoke", data={"csrf": csrf.group(1)}, follow_redirects=False
    )
    assert revoked.status_code == 303, revoked.text
    assert "Waiting for your clinic" not in browser.get("/me").text
