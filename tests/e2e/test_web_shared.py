"""Outside providers and supporters find the patients who share with them, and see only
what was shared."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from bootstrap import bootstrap_services
from bootstrap.settings import Settings
from demo import load_demo
from domain.registration import patient_id_for
from tests.builders import post_login

PASSWORD = "demo-password-1"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    services = bootstrap_services(Settings(data_dir=Path(tmp_path_factory.mktemp("shared"))))
    load_demo(services, PASSWORD)
    with TestClient(create_app(services=services)) as test_client:
        services.reader.index.catch_up()
        yield test_client


def sign_in(client: TestClient, email: str) -> str:
    client.cookies.clear()
    answer = post_login(client, email, PASSWORD, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


@pytest.mark.parametrize(
    ("email", "mrns"),
    [
        ("counselor@demo", ("DEMO-1004",)),
        ("employer@demo", ("DEMO-1001",)),
        ("pcp@demo", ("DEMO-1001", "DEMO-1003")),  # Cara's under a Part 2 consent
        ("supporter@demo", ("DEMO-1002",)),
    ],
)
def test_each_outside_reader_lands_on_the_patients_sharing_with_them(
    client: TestClient, email: str, mrns: tuple[str, ...]
) -> None:
    assert sign_in(client, email) == "/shared"
    page = client.get("/shared")
    assert page.status_code == 200
    patients = {str(patient_id_for(mrn)) for mrn in mrns}
    for patient in patients:
        assert f'href="/patients/{patient}"' in page.text
    others = {
        str(patient_id_for(m)) for m in ("DEMO-1001", "DEMO-1002", "DEMO-1003", "DEMO-1004")
    } - patients
    assert not any(o in page.text for o in others)
    # Only Ava's consent (to Maple Family Practice) names her demographics: the listing
    # names her and no one else.
    listing = page.text.split("<tbody>")[1].split("</tbody>")[0]
    named = {n for n in ("Moreno", "Okafor", "Doyle", "Shah") if n in listing}
    assert named == ({"Moreno"} if email == "pcp@demo" else set())
    for patient in patients:
        assert client.get(f"/patients/{patient}").status_code == 200


def test_a_school_counselor_sees_functional_recommendations_and_no_diagnosis(
    client: TestClient,
) -> None:
    sign_in(client, "counselor@demo")
    page = client.get(f"/patients/{patient_id_for('DEMO-1004')}")
    assert page.status_code == 200
    assert "F41.1" not in page.text
    assert "Generalized anxiety" not in page.text
