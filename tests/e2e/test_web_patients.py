"""The patients list, patient search and registration on the pages, over HTTP against the
demo: every patient listed is an audited read of their identity; registration runs the
API's schema and use case, keeps every refusal beside its field and records nothing then.
All data synthetic."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.e2e.test_web_clinician import (
    AVA,
    Web,
    csrf_of,
    element,
    field_error,
    served_demo,
    text_of,
)


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    yield from served_demo(tmp_path_factory, "web-patients")


def listed_ids(page: str) -> list[str]:
    table = page.split('id="patients"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'href="/patients/([0-9a-f-]{36})"', table)


def test_my_patients_are_listed_each_an_audited_identity_read(web: Web) -> None:
    web.sign_in("therapist@demo")
    before = web.position()
    page = web.page("/patients")
    shown = listed_ids(page)
    assert str(AVA) in shown and "Ava Moreno" in text_of(page) and "DEMO-1001" in page
    new = [a for a in web.accesses(user_id="therapist@demo") if a.position > before]
    assert sorted(str(a.patient_id) for a in new) == sorted(shown)
    assert {a.view for a in new} == {"identity"}
    assert web.clinical_since(before) == []


def test_a_search_finds_by_name_mrn_or_birth_date_and_refuses_nonsense_by_name(web: Web) -> None:
    web.sign_in("therapist@demo")
    for q in ("ava moreno", "DEMO-1001", "1987-05-12"):
        assert listed_ids(web.page(f"/patients?q={q}")) == [str(AVA)], q
    assert "No patient you may see matches." in web.page("/patients?q=nobody")
    before = web.position()
    refused = web.page("/patients?q=---", status=422)
    assert "has no letters" in element(refused, "q-error")
    assert web.recorded_since(before) == []
    # An outside reader finds only whom they may see, and has no list of their own.
    web.sign_in("employer@demo")
    assert "Register a patient" not in web.page("/patients")


def registration(**changes: Any) -> dict[str, str]:
    form = {
        "mrn": f"T-{uuid4().hex[:10]}",
        "given_name": "Nia",
        "family_name": "Synthetic",
        "birth_date": "1999-01-01",
        "sex_at_birth": "female",
        "interpreter_needed": "false",
        "telehealth_preference": "either",
        "preferred_language": "en",
        "emergency_contact.name": "Ola Synthetic",
        "emergency_contact.relationship": "sister",
        "emergency_contact.phone": "+1 555 0100",
    }
    return {**form, **changes}


def test_registration_opens_the_record_with_its_emergency_contact_in_one_write(web: Web) -> None:
    web.sign_in("therapist@demo")
    form = web.page("/register")
    done = web.client.post(
        "/register", data={"csrf": csrf_of(form), **registration()}, follow_redirects=False
    )
    assert done.status_code == 303, done.text[:2000]
    patient = UUID(done.headers["location"].split("/patients/")[1].split("?")[0])
    kinds = [r.kind for r in web.events(patient)]
    assert kinds == ["PatientRegistered", "CareTeamMemberAdded", "EmergencyContactSet"]
    assert len({r.position for r in web.events(patient)}) == 3
    page = web.page(done.headers["location"])
    assert re.search(r"<h1>Nia Synthetic", page)
    assert re.search(r'role="status">Patient registered; you are on the care team.<', page)
    assert " ".join(element(page, "emergency-contact").split()) == (
        "Ola Synthetic (sister), +1 555 0100"
    )
    assert str(patient) in listed_ids(web.page("/patients"))


def test_a_bad_registration_is_refused_beside_its_fields_and_records_nothing(web: Web) -> None:
    web.sign_in("therapist@demo")
    form = web.page("/register")
    before = web.position()
    refused = web.client.post(
        "/register",
        data={
            "csrf": csrf_of(form),
            **registration(
                mrn="x",
                given_name="",
                birth_date="1999-02-30",
                **{"emergency_contact.phone": "call her"},
            ),
        },
    )
    assert refused.status_code == 422
    shown = refused.text
    assert field_error(shown, "register-mrn") == "is not in the expected form"
    assert field_error(shown, "register-given-name") == "is required"
    assert field_error(shown, "register-birth-date") == "is not a date: write it as 2026-03-02"
    assert field_error(shown, "register-emergency-contact-phone") == "is not in the expected form"
    assert 'value="Synthetic"' in shown  # what was typed is kept
    assert web.recorded_since(before) == []

    # An MRN already registered: refused by the record, nothing written.
    taken = web.client.post(
        "/register", data={"csrf": csrf_of(form), **registration(mrn="DEMO-1001")}
    )
    assert taken.status_code == 409, taken.text[:2000]
    assert "DEMO-1001" in text_of(taken.text)
    assert web.recorded_since(before) == []


def test_only_a_treating_clinician_registers(web: Web) -> None:
    web.sign_in("pcp@demo")
    form = web.page("/register")
    before = web.position()
    refused = web.client.post("/register", data={"csrf": csrf_of(form), **registration()})
    assert refused.status_code == 403
    assert "may not register patients" in text_of(refused.text)
    assert web.recorded_since(before) == []
