"""The patient's access report and right of access, over HTTP against the demo: on /me, who
has seen her record (when, who, what, why, on what grounds), from the access records the
one audited read leaves, and the API's `GET /me/access-log`; the download of her whole
record (45 CFR 164.524), every class she has and never a psychotherapy note. Each is one
audited read, recorded and replayed like any other, and the patient's alone. All data
synthetic."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import viewer_of
from api.web import local_time
from application.reading import OWN_ACCESS_LOG, OWN_PORTAL, RECORD_EXPORT, ReadRequest
from bootstrap import bootstrap_services
from bootstrap.settings import Settings
from demo import load_demo
from domain.audit import ReadRefused
from domain.consent import Purpose
from domain.errors import AccessDenied, InvalidInput
from domain.events import now
from tests.builders import appended_since
from tests.e2e.test_web_clinician import (
    ACCESS_TOPIC,
    AVA,
    PASSWORD,
    Web,
    element,
    served_demo,
    text_of,
)

AVA_EMAIL = "ava@demo"
NOTE_WORDS = "letting the team down"  # demo/depression.py: the therapist's psychotherapy note


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    yield from served_demo(tmp_path_factory, "web-patient-access")


def reads_section(page: str) -> str:
    found = re.search(r'<section aria-labelledby="reads-h" id="reads">.*?</section>', page, re.S)
    assert found, "no section of who has seen the record"
    return found.group(0)


def row_of(page: str, position: int) -> str:
    return text_of(element(reads_section(page), f"read-{position}"))


def access_position(web: Web, access_id: str) -> Any:
    """An access record's row in the index, once the index has caught up with the log."""
    assert web.services.reader.index.wait_for(web.position())
    row = web.services.reader.index.view.access(UUID(access_id))
    assert row is not None
    return row


def user(web: Web, email: str) -> Any:
    found = web.services.clinic.find_user(email)
    assert found is not None
    return found


# --- who has seen the record ----------------------------------------------------------------


def test_ava_sees_who_read_her_record_when_what_why_and_the_consent_relied_on(web: Web) -> None:
    pcp = web.client.get(f"/patients/{AVA}/view", headers=web.token("pcp@demo"))
    assert pcp.status_code == 200
    glass = web.client.post(
        f"/patients/{AVA}/break-glass",
        json={"reason": "Synthetic: found unresponsive at the clinic door"},
        headers=web.token("outsider@test"),
    )
    assert glass.status_code == 200, glass.text
    shared, emergency = (
        access_position(web, pcp.headers["X-Access-Id"]),
        access_position(web, glass.headers["X-Access-Id"]),
    )

    web.sign_in(AVA_EMAIL)
    start = web.position()
    page = web.page("/me")

    # When (in the clinic's zone, with its label), who, what, why, on what grounds.
    row = row_of(page, shared.position)
    assert local_time(shared.at, web.services.reader.zone) in row and " UTC" in row
    assert "Dr. Paul Chen, MD (pcp@demo)" in row
    assert "primary care, Maple Family Practice" in row
    assert "your record, as their role sees it (one page)" in row
    assert "Demographics (name, birth date, language), Medications" in row
    assert "Treatment" in row and "Under your consent" in row
    assert "your consent to Maple Family Practice" in row
    row = row_of(page, emergency.position)
    assert "Olive Outsider (outsider@test)" in row and "therapist, Elsewhere Clinic" in row
    assert "In an emergency, without your consent" in row
    assert "Reason given: Synthetic: found unresponsive at the clinic door" in row
    # Newest first; her own visits are not listed.
    listed = [int(p) for p in re.findall(r'<tr id="read-(\d+)"', reads_section(page))]
    assert listed == sorted(listed, reverse=True)
    assert listed.index(emergency.position) < listed.index(shared.position)
    assert AVA_EMAIL not in reads_section(page)
    # The page is one audited read: one access record, own-portal, naming its sections
    # (the access log among them), that replays to its bytes.
    (record,) = [r for r in web.accesses(user_id=AVA_EMAIL) if r.position > start]
    assert record.view == OWN_PORTAL and record.basis == "own-record"
    assert record.sections[-1] == "access-log"
    assert "audit" in record.classes
    assert web.services.reader.replay(record.access_id).matches


def test_the_access_log_api_pages_newest_first_and_each_page_replays(web: Web) -> None:
    for _ in range(3):  # three reads by the treating team, at least
        assert web.client.get(f"/patients/{AVA}", headers=web.token("therapist@demo")).is_success
    headers = web.token(AVA_EMAIL)
    first = web.client.get("/me/access-log", params={"limit": 2}, headers=headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["view"] == OWN_ACCESS_LOG and body["basis"] == "own-record"
    assert body["page"]["count"] == 2 and body["page"]["next_before"] is not None
    positions = [r["position"] for r in body["reads"]]
    assert positions == sorted(positions, reverse=True)
    assert all(r["user_id"] != AVA_EMAIL for r in body["reads"])
    newest = body["reads"][0]
    assert newest["user_id"] == "therapist@demo" and newest["name"] == "Dr. Tess Alvarez, PsyD"
    assert newest["view"] == "summary" and newest["basis"] == "treating-team"

    next_before = body["page"]["next_before"]
    older = web.client.get(
        "/me/access-log", params={"limit": 2, "before": next_before}, headers=headers
    )
    assert older.json()["page"]["before"] == next_before
    assert all(r["position"] < positions[-1] for r in older.json()["reads"])
    # Each page is one access record that keeps its page and replays to the bytes answered.
    for answer, before in ((first, None), (older, next_before)):
        access_id = UUID(answer.headers["X-Access-Id"])
        event = next(iter(web.services.clinic.events.get(access_id)))
        assert (event.view, event.page_before, event.page_size) == (OWN_ACCESS_LOG, before, 2)
        replay = web.services.reader.replay(access_id)
        assert replay.matches and replay.body == answer.content


def test_a_psychotherapy_note_a_read_showed_is_not_named_in_her_access_log(web: Web) -> None:
    answer = web.client.get(
        f"/patients/{AVA}/events", params={"limit": 500}, headers=web.token("therapist@demo")
    )
    row = access_position(web, answer.headers["X-Access-Id"])
    assert "psychotherapy-note" in row.classes  # the author reads her own note
    log = web.client.get("/me/access-log", headers=web.token(AVA_EMAIL)).json()
    (read,) = [r for r in log["reads"] if r["access_id"] == str(row.access_id)]
    assert read["view"] == "events-page" and "psychotherapy-note" not in read["classes"]
    assert "progress-note" in read["classes"]
    web.sign_in(AVA_EMAIL)
    shown = row_of(web.page("/me"), row.position)
    assert "Psychotherapy" not in shown and "Progress notes" in shown


def test_only_the_patient_reads_her_access_log_or_downloads_her_record(web: Web) -> None:
    headers = web.token("therapist@demo")
    web.sign_in("therapist@demo")  # (her caseload, on signing in, is read and recorded)
    start = web.position()
    for path in ("/me/access-log", "/me/record"):
        refused = web.client.get(path, headers=headers)
        assert refused.status_code == 403, refused.text
    assert web.client.get("/me/record").status_code == 403  # the page, for her session
    assert web.recorded_since(start) == []  # no patient was named: nothing read or recorded
    # Through the one audited read itself, naming Ava: her therapist, another patient and
    # a consent's recipient are each refused, and each refusal is recorded.
    for email, kind, purpose in (
        ("therapist@demo", OWN_ACCESS_LOG, Purpose.TREATMENT),
        ("ben@demo", OWN_ACCESS_LOG, Purpose.TREATMENT),
        ("pcp@demo", OWN_ACCESS_LOG, Purpose.TREATMENT),
        ("therapist@demo", RECORD_EXPORT, Purpose.RIGHT_OF_ACCESS),
        ("ben@demo", RECORD_EXPORT, Purpose.RIGHT_OF_ACCESS),
        ("therapist@demo", OWN_PORTAL, Purpose.TREATMENT),
    ):
        before = web.position()
        reader = user(web, email)
        request = ReadRequest(viewer_of(reader), AVA, kind, purpose)
        with pytest.raises(AccessDenied):
            web.services.reads.read_now(request, reader.actor)
        assert appended_since(web.services.clinic, before) == [ReadRefused], (email, kind)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"before": "0"}, "before"),
        ({"before": "-3"}, "before"),
        ({"before": "soon"}, "before"),
        ({"before": "9" * 40}, "before"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
    ],
)
def test_a_bad_page_of_the_access_log_is_refused_naming_its_field_and_appends_nothing(
    web: Web, query: dict[str, str], field: str
) -> None:
    headers = web.token(AVA_EMAIL)
    start = web.position()
    answer = web.client.get("/me/access-log", params=query, headers=headers)
    assert answer.status_code == 422
    assert [f["field"] for f in answer.json()["fields"]] == [field]
    assert web.recorded_since(start) == []
    if field == "before":  # the page asks for its page of the log the same way
        web.sign_in(AVA_EMAIL)
        start = web.position()
        page = web.page(f"/me?before={query['before']}", status=422)
        assert "No such page" in page and "before: must be a log position" in page
        assert web.recorded_since(start) == []


def test_right_of_access_is_the_purpose_of_the_download_and_of_no_other_read(web: Web) -> None:
    start = web.position()
    answer = web.client.get(
        f"/patients/{AVA}/view",
        params={"purpose": "right-of-access"},
        headers=web.token("therapist@demo"),
    )
    assert answer.status_code == 422
    assert [f["field"] for f in answer.json()["fields"]] == ["purpose"]
    ava = user(web, AVA_EMAIL)
    for kind, purpose in ((RECORD_EXPORT, Purpose.TREATMENT), ("view", Purpose.RIGHT_OF_ACCESS)):
        with pytest.raises(InvalidInput) as refusal:
            web.services.reads.read_now(ReadRequest(viewer_of(ava), AVA, kind, purpose), ava.actor)
        assert [e.field for e in refusal.value.errors] == ["purpose"]
    assert web.recorded_since(start) == []


def test_the_reads_are_shown_in_the_clinics_time_zone_with_its_label(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    data = Path(tmp_path_factory.mktemp("web-patient-access-zoned")) / "data"
    services = bootstrap_services(Settings(data_dir=data, clinic_timezone="Pacific/Honolulu"))
    load_demo(services, PASSWORD)
    with TestClient(create_app(services=services)) as client:
        zoned = Web(client, services)
        read = client.get(f"/patients/{AVA}/view", headers=zoned.token("pcp@demo"))
        row = access_position(zoned, read.headers["X-Access-Id"])
        zoned.sign_in(AVA_EMAIL)
        shown = row_of(zoned.page("/me"), row.position)
    assert local_time(row.at, ZoneInfo("Pacific/Honolulu")) in shown and " HST" in shown


# --- the right of access --------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_a_download_is_named_for_the_day_on_the_clinics_clock(
    tmp_path_factory: pytest.TempPathFactory, zone: str
) -> None:
    """UTC+14 and UTC-11: at any hour one of the two is on another day than UTC."""
    data = Path(tmp_path_factory.mktemp("web-patient-access-day")) / "data"
    services = bootstrap_services(Settings(data_dir=data, clinic_timezone=zone))
    load_demo(services, PASSWORD)
    with TestClient(create_app(services=services)) as client:
        zoned = Web(client, services)
        token = zoned.token(AVA_EMAIL)
        before = now().astimezone(ZoneInfo(zone)).date()
        answers = [client.get("/me/record", headers=token)]
        zoned.sign_in(AVA_EMAIL)
        answers += [client.get("/me/record"), client.get("/me/record.pdf")]
        after = now().astimezone(ZoneInfo(zone)).date()
    for answer, suffix in zip(answers, ("json", "json", "pdf"), strict=True):
        assert answer.status_code == 200, answer.text[:500]
        named = answer.headers["content-disposition"]
        assert named in {
            f'attachment; filename="tandem-record-DEMO-1001-{day.isoformat()}.{suffix}"'
            for day in (before, after)
        }


def test_ava_downloads_her_whole_record_every_class_and_never_a_psychotherapy_note(
    web: Web,
) -> None:
    rows = web.events(AVA)
    notes = [r for r in rows if r.kind == "PsychotherapyNoteWritten"]
    assert any(NOTE_WORDS in json.dumps(r.payload) for r in notes)  # the demo has one
    web.sign_in(AVA_EMAIL)
    assert 'href="/me/record"' in web.page("/me")
    start = web.position()

    answer = web.client.get("/me/record")

    assert answer.status_code == 200, answer.text[:2000]
    today = now().date().isoformat()
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="tandem-record-DEMO-1001-{today}.json"'
    )
    assert answer.headers["content-type"] == "application/json"
    record = answer.json()
    # Exactly one access record: the disclosure to her, for right-of-access, that replays
    # to the very bytes she downloaded.
    assert web.recorded_since(start) == [ACCESS_TOPIC]
    (access,) = [a for a in web.accesses(patient_id=AVA) if a.position > start]
    assert access.access_id == UUID(answer.headers["X-Access-Id"])
    assert (access.view, access.purpose, access.basis, access.user_id) == (
        RECORD_EXPORT,
        "right-of-access",
        "own-record",
        AVA_EMAIL,
    )
    replay = web.services.reader.replay(access.access_id)
    assert replay.matches and replay.body == answer.content
    # Every entry of every class she has, with its payload; no psychotherapy note at all.
    kept = [r for r in rows if r.position <= record["as_of_position"] and r not in notes]
    assert [e["position"] for e in record["entries"]] == [r.position for r in kept]
    has = {r.data_class for r in rows} - {"psychotherapy-note"}
    assert {e["data_class"] for e in record["entries"]} == has
    assert set(record["classes"]) == has | {"consent"}
    assert set(access.classes) == has | {"consent"}
    assert all("payload" in e for e in record["entries"])
    assert record["patient"]["name"] == "Ava Moreno" and record["consents_given"]
    assert record["consent_events"] and record["excluded"] == ["psychotherapy-note"]
    assert NOTE_WORDS not in answer.text and "PsychotherapyNoteWritten" not in answer.text
    assert "psychotherapy-note" not in {e["data_class"] for e in record["entries"]}


def test_the_api_download_is_the_same_read_for_a_patients_token(web: Web) -> None:
    start = web.position()
    answer = web.client.get("/me/record", headers=web.token(AVA_EMAIL))
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].startswith(
        'attachment; filename="tandem-record-DEMO-1001-'
    )
    assert answer.json()["view"] == RECORD_EXPORT
    assert web.recorded_since(start) == [ACCESS_TOPIC]
    assert web.services.reader.replay(UUID(answer.headers["X-Access-Id"])).matches


def test_the_pdf_is_the_same_read_drawn_on_paper_without_a_psychotherapy_note(web: Web) -> None:
    web.sign_in(AVA_EMAIL)
    start = web.position()
    answer = web.client.get("/me/record.pdf")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"].endswith(f'-{now().date().isoformat()}.pdf"')
    assert answer.content.startswith(b"%PDF")
    assert web.recorded_since(start) == [ACCESS_TOPIC]
    replay = web.services.reader.replay(UUID(answer.headers["X-Access-Id"]))
    assert replay.matches and json.loads(replay.body)["view"] == RECORD_EXPORT
    assert b"My health record" in answer.content and b"Ava Moreno" in answer.content
    assert b"Maple Family Practice" in answer.content  # a consent she has given
    assert NOTE_WORDS.encode() not in answer.content
