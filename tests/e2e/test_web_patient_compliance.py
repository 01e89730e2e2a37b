"""The patient's page, the progress report PDF and the compliance pages, over HTTP on the
demo: the same policy and the same access records as the JSON API, consents through the
same rules, and the compliance reviewer's tools (access log, accounting of disclosures,
break-the-glass review, replay, verification of the hash chain)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from api.app import create_app
from api.deps import viewer_of
from application.reading import ReadRequest
from bootstrap import Services, bootstrap_services
from bootstrap.settings import Settings
from demo import load_demo
from demo.common import THERAPIST
from domain.consent import Purpose
from domain.directory import entry_id_for
from domain.events import now
from domain.registration import patient_id_for
from domain.vocabulary import DataClass
from tests.builders import act, post_login

PASSWORD = "demo-password-1"
AVA = patient_id_for("DEMO-1001")
BEN = patient_id_for("DEMO-1002")
SECRET_NOTE = "Synthetic secret: dreams about the lighthouse keeper"


@dataclass
class Demo:
    app: Any
    client: TestClient  # holds the app's lifespan
    services: Services
    settings: Settings

    def browser(self, email: str) -> TestClient:
        """A browser signed in as `email` (its own cookie jar)."""
        browser = TestClient(self.app)
        answer = post_login(browser, email, PASSWORD, follow_redirects=False)
        assert answer.status_code == 303, answer.text
        return browser

    def bearer(self, email: str) -> dict[str, str]:
        answer = self.client.post("/auth/token", data={"username": email, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def caught_up(self) -> None:
        assert self.services.reader.index.wait_for(self.services.clinic.position())

    def accesses(self, **filters: Any) -> list[Any]:
        self.caught_up()
        return list(self.services.reader.index.view.accesses(**filters))

    def classes_for(self, email: str, patient_id: UUID) -> frozenset[DataClass]:
        user = self.services.clinic.find_user(email)
        assert user is not None
        request = ReadRequest(viewer_of(user), patient_id, "view", Purpose.TREATMENT)
        return self.services.reader.prepare(request).decision.classes

    def consents_in_force(self, patient_id: UUID) -> list[Any]:
        consents = self.services.reader.consents(patient_id)
        return consents.in_force(now()) if consents is not None else []


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    settings = Settings(data_dir=tmp_path / "data")
    services = bootstrap_services(settings)
    load_demo(services, PASSWORD)
    app = create_app(services=services)
    with TestClient(app) as client:
        yield Demo(app, client, services, settings)


def csrf_of(page: Response) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert found, "no CSRF token on the page"
    return found.group(1)


# The demo registers pcp@demo in the directory of recipients; an entry's id follows from
# the email it names.
PCP_ENTRY = str(entry_id_for("user", "pcp@demo"))


def grant_form(**fields: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "recipient": PCP_ENTRY,
        "data_classes": ["measure", "demographics"],
        "purpose": "treatment",
        "valid_until": "",
    }
    form.update(fields)
    return form


# --- the patient's page --------------------------------------------------------------


def test_ava_sees_her_progress_plan_medications_and_consents_but_no_psychotherapy_note(
    demo: Demo,
) -> None:
    act(
        demo.services.clinic,
        AVA,
        lambda r: r.write_psychotherapy_note(THERAPIST, now(), text=SECRET_NOTE),
    )
    demo.caught_up()
    before = len(demo.accesses(user_id="ava@demo"))
    ava = demo.browser("ava@demo")

    page = ava.get("/me")

    assert page.status_code == 200
    html = page.text
    assert "Ava Moreno" in html
    assert "<svg" in html and "band" in html  # the PHQ-9 trend over its severity bands
    assert "Patient Health Questionnaire-9" in html
    assert "Remission: the score is below 5." in html
    assert "Response: the score has fallen by half or more" in html
    assert "Return to her full dispatcher rota" in html  # a goal of her plan
    assert "Phase of care:" in html
    assert "Graded return to work" in html  # the functional recommendation
    assert "sertraline" in html and "100 mg" in html
    assert "Maple Family Practice" in html  # a consent in force, with its Revoke button
    assert html.count(">Revoke</button>") == 2
    assert f'href="/patients/{AVA}/report.pdf"' in html
    assert "Download my progress report (PDF)" in html
    # Psychotherapy notes: neither the one just written nor the demo's, nor their entry.
    assert SECRET_NOTE not in html
    assert "letting the team down" not in html
    assert "kept apart" not in html
    # Every section came from one audited read, recorded like the API's: one page view,
    # one access record, naming its sections (the events: the appointments ahead, and
    # whether an entry just made needs help now; the access log: who has seen her record);
    # its replay rebuilds the whole page.
    after = demo.accesses(user_id="ava@demo")
    (record,) = after[before:]
    assert record.view == "own-portal"
    assert record.sections == (
        "view",
        "outcomes",
        "medications",
        "consents",
        "events",
        "access-log",
    )
    assert demo.services.reader.replay(record.access_id).matches
    assert all(r.basis == "own-record" for r in after)
    assert all(DataClass.PSYCHOTHERAPY_NOTE.value not in r.classes for r in after)


def test_the_patient_page_is_for_patients_and_needs_a_session(demo: Demo) -> None:
    anonymous = TestClient(demo.app)
    answer = anonymous.get("/me", headers={"Accept": "text/html"}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login")
    therapist = demo.browser("therapist@demo")
    assert therapist.get("/me").status_code == 403


def test_me_still_answers_the_json_api_who_am_i_to_a_bearer_token(demo: Demo) -> None:
    answer = demo.client.get("/me", headers=demo.bearer("ava@demo"))
    assert answer.status_code == 200
    assert answer.json()["email"] == "ava@demo"
    assert answer.json()["patient_id"] == str(AVA)
    refused = TestClient(demo.app).get("/me")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == "Bearer"


def test_ava_grants_a_consent_and_revokes_it_and_pcp_access_follows(demo: Demo) -> None:
    # Maple Family Practice (not Dr. Chen himself) has her demographics and medications.
    assert demo.classes_for("pcp@demo", AVA) == {DataClass.MEDICATION, DataClass.DEMOGRAPHICS}
    ava = demo.browser("ava@demo")
    csrf = csrf_of(ava.get("/me"))

    granted = ava.post("/me/consents", data={**grant_form(), "csrf": csrf}, follow_redirects=False)

    assert granted.status_code == 303, granted.text
    assert granted.headers["location"] == "/me?done=granted"
    new = [t for t in demo.consents_in_force(AVA) if t.recipient == "pcp@demo"]
    assert len(new) == 1
    assert new[0].data_classes == {DataClass.MEASURE, DataClass.DEMOGRAPHICS}
    assert demo.classes_for("pcp@demo", AVA) == {
        DataClass.MEDICATION,
        DataClass.MEASURE,
        DataClass.DEMOGRAPHICS,
    }
    # The JSON API answers pcp@demo accordingly, and names the consent relied on.
    view = demo.client.get(f"/patients/{AVA}/view", headers=demo.bearer("pcp@demo")).json()
    assert view["patient"]["name"] == "Ava Moreno"
    assert str(new[0].consent_id) in view["consents"]
    page = ava.get("/me?done=granted")
    assert "Your consent is recorded" in page.text
    assert "pcp@demo" in page.text
    assert f'action="/me/consents/{new[0].consent_id}/revoke"' in page.text

    revoked = ava.post(
        f"/me/consents/{new[0].consent_id}/revoke",
        data={"csrf": csrf, "reason": "Changed my mind"},
        follow_redirects=False,
    )

    assert revoked.status_code == 303, revoked.text
    assert not [t for t in demo.consents_in_force(AVA) if t.recipient == "pcp@demo"]
    assert demo.classes_for("pcp@demo", AVA) == {DataClass.MEDICATION, DataClass.DEMOGRAPHICS}
    view = demo.client.get(f"/patients/{AVA}/view", headers=demo.bearer("pcp@demo")).json()
    assert "measure" not in view["classes"]
    assert str(new[0].consent_id) not in view["consents"]
    history = ava.get("/me?done=revoked").text
    assert "Your consent is revoked" in history
    assert "consent revoked in writing: Changed my mind" in history
    version = demo.services.reader.consents(AVA).version  # type: ignore[union-attr]
    again = ava.post(f"/me/consents/{new[0].consent_id}/revoke", data={"csrf": csrf})
    assert again.status_code == 409  # the record's state refuses it, as the API says
    assert 'id="revoke-summary"' in again.text
    assert f"consent {new[0].consent_id} was revoked" in again.text
    assert demo.services.reader.consents(AVA).version == version  # type: ignore[union-attr]


def test_a_psychotherapy_note_consent_combined_with_medications_is_refused_on_the_field(
    demo: Demo,
) -> None:
    ava = demo.browser("ava@demo")
    csrf = csrf_of(ava.get("/me"))
    consents_before = demo.services.reader.consents(AVA)
    assert consents_before is not None

    answer = ava.post(
        "/me/consents",
        data={
            **grant_form(data_classes=["psychotherapy-note", "medication"]),
            "csrf": csrf,
        },
    )

    assert answer.status_code == 422
    assert 'id="err-data_classes"' in answer.text
    assert 'role="alert"' in answer.text
    assert "psychotherapy-note consent covers psychotherapy notes only" in answer.text
    assert 'aria-describedby="err-data_classes"' in answer.text
    # The form keeps what was entered.
    assert re.search(r'id="dc-psychotherapy-note"[^>]*checked', answer.text)
    assert f'value="{PCP_ENTRY}" selected' in answer.text
    # Nothing recorded: the consents aggregate did not move.
    consents_after = demo.services.reader.consents(AVA)
    assert consents_after is not None and consents_after.version == consents_before.version


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"data_classes": ["sud"]}, "part2", "42 CFR Part 2 consent"),
        ({"recipient": "Mapel Family Pratice"}, "recipient", "is not an entry of the directory"),
        ({"recipient": ""}, "recipient", "names no directory entry"),
        ({"data_classes": []}, "data_classes", "choose at least one"),
        ({"valid_until": "2001-01-01"}, "valid_until", "is not after valid_from"),
        ({"valid_until": "soon"}, "valid_until", "is not a date"),
    ],
)
def test_other_refused_grants_show_their_field_and_record_nothing(
    demo: Demo, fields: dict[str, Any], field: str, words: str
) -> None:
    ava = demo.browser("ava@demo")
    csrf = csrf_of(ava.get("/me"))
    version = demo.services.reader.consents(AVA).version  # type: ignore[union-attr]

    answer = ava.post("/me/consents", data={**grant_form(**fields), "csrf": csrf})

    assert answer.status_code == 422
    assert f'id="err-{field}"' in answer.text
    assert words in answer.text
    assert demo.services.reader.consents(AVA).version == version  # type: ignore[union-attr]


def test_consent_forms_need_the_csrf_token(demo: Demo) -> None:
    ava = demo.browser("ava@demo")
    consent = demo.consents_in_force(AVA)[0].consent_id
    assert ava.post("/me/consents", data=grant_form()).status_code == 403
    assert ava.post(f"/me/consents/{consent}/revoke", data={"csrf": "x"}).status_code == 403
    assert len(demo.consents_in_force(AVA)) == 2


# --- the progress report -------------------------------------------------------------


def test_the_progress_report_pdf_downloads_with_charts_plan_and_medications(demo: Demo) -> None:
    act(
        demo.services.clinic,
        AVA,
        lambda r: r.write_psychotherapy_note(THERAPIST, now(), text=SECRET_NOTE),
    )
    before = len(demo.accesses(user_id="ava@demo"))
    ava = demo.browser("ava@demo")

    answer = ava.get(f"/patients/{AVA}/report.pdf")

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert "DEMO-1001" in answer.headers["content-disposition"]
    pdf = answer.content
    assert pdf.startswith(b"%PDF")
    assert re.search(rb"/Type /Page\b", pdf)
    assert b"(Ava Moreno)" in pdf or b"Ava Moreno" in pdf
    assert b"Synthetic data" in pdf
    assert b"Return to her full dispatcher rota" in pdf
    assert b"sertraline" in pdf
    assert b" re f" in pdf.replace(b"\n", b" ") or b" re\nf" in pdf  # band rectangles
    assert SECRET_NOTE.encode() not in pdf
    assert b"letting the team down" not in pdf
    reads = demo.accesses(user_id="ava@demo")[before:]
    assert sorted(r.view for r in reads) == ["scored-outcomes", "view"]
    assert all(r.patient_id == AVA and r.basis == "own-record" for r in reads)


def test_the_report_is_for_the_patient_and_the_treating_team_only(demo: Demo) -> None:
    therapist = demo.browser("therapist@demo").get(f"/patients/{AVA}/report.pdf")
    assert therapist.status_code == 200
    assert therapist.content.startswith(b"%PDF")
    assert SECRET_NOTE.encode() not in therapist.content
    assert b"letting the team down" not in therapist.content  # the therapist's own note
    prescriber = demo.browser("prescriber@demo").get(f"/patients/{AVA}/report.pdf")
    assert prescriber.status_code == 200

    before = len(demo.accesses(user_id="pcp@demo"))
    # pcp@demo reads Ava's medications under a consent, but the report is not theirs.
    assert demo.browser("pcp@demo").get(f"/patients/{AVA}/report.pdf").status_code == 403
    assert len(demo.accesses(user_id="pcp@demo")) == before  # nothing disclosed, none recorded
    # Ava's own account opens no one else's report.
    assert demo.browser("ava@demo").get(f"/patients/{BEN}/report.pdf").status_code == 403


# --- compliance ----------------------------------------------------------------------


def test_compliance_sees_the_access_log_and_the_accounting_of_disclosures(demo: Demo) -> None:
    read = demo.client.get(f"/patients/{AVA}/view", headers=demo.bearer("pcp@demo"))
    assert read.status_code == 200
    access_id = read.headers["X-Access-Id"]
    demo.caught_up()
    compliance = demo.browser("compliance@demo")

    log = compliance.get("/compliance/access-log", params={"patient": "DEMO-1001"})

    assert log.status_code == 200
    assert "pcp@demo" in log.text
    assert f'action="/compliance/replay/{access_id}"' in log.text
    assert "format=csv" in log.text
    by_user = compliance.get("/compliance/access-log", params={"who": "PCP@demo"})
    assert str(AVA) in by_user.text
    assert "access-log?who=PCP%40demo&amp;format=csv" in by_user.text
    csv = compliance.get("/compliance/access-log", params={"patient": "DEMO-1001", "format": "csv"})
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    assert "pcp@demo" in csv.text and access_id in csv.text
    bad = compliance.get("/compliance/access-log", params={"since": "yesterday"})
    assert bad.status_code == 422
    assert 'id="err-since"' in bad.text and 'aria-describedby="err-since"' in bad.text

    lookup = compliance.get(
        "/compliance/disclosure-report", params={"patient": "DEMO-1001"}, follow_redirects=False
    )
    assert lookup.headers["location"] == f"/compliance/disclosure-report/{AVA}"
    accounting = compliance.get(f"/compliance/disclosure-report/{AVA}")

    assert accounting.status_code == 200
    general, part2 = accounting.text.split("42 CFR Part 2 disclosures")
    assert "pcp@demo" in general and "Maple Family Practice" in general
    assert "view (one page) of the record: demographics, medication" in general
    assert "pcp@demo" not in part2
    disclosures_csv = compliance.get(
        f"/compliance/disclosure-report/{AVA}", params={"format": "csv"}
    )
    assert disclosures_csv.headers["content-type"].startswith("text/csv")
    assert access_id in disclosures_csv.text

    replay = compliance.get(f"/compliance/replay/{access_id}")
    assert replay.status_code == 200
    assert "Matches." in replay.text
    assert read.headers["X-Access-Id"] in replay.text


def test_compliance_reviews_a_break_the_glass_read_and_the_queue_empties(demo: Demo) -> None:
    # pcp@demo has no consent from Ben: an emergency read, queued for review.
    emergency = demo.client.post(
        f"/patients/{BEN}/break-glass",
        json={"reason": "Unresponsive in clinic; need current medications"},
        headers=demo.bearer("pcp@demo"),
    )
    assert emergency.status_code == 200, emergency.text
    access_id = emergency.headers["X-Access-Id"]
    demo.caught_up()
    compliance = demo.browser("compliance@demo")

    queue = compliance.get("/compliance/review")
    assert queue.status_code == 200
    assert "Unresponsive in clinic" in queue.text
    assert f'action="/compliance/review/{access_id}"' in queue.text
    assert "(1 waiting)" in compliance.get("/compliance").text
    csrf = csrf_of(queue)

    blank = compliance.post(
        f"/compliance/review/{access_id}", data={"csrf": csrf, "outcome": "appropriate"}
    )
    assert blank.status_code == 422
    assert f'id="err-note-{access_id}"' in blank.text
    assert "No emergency reads are waiting" not in blank.text

    reviewed = compliance.post(
        f"/compliance/review/{access_id}",
        data={"csrf": csrf, "outcome": "appropriate", "note": "Confirmed with the ED record"},
        follow_redirects=False,
    )

    assert reviewed.status_code == 303, reviewed.text
    after = compliance.get(reviewed.headers["location"])
    assert "Review recorded" in after.text
    assert "No emergency reads are waiting" in after.text
    row = demo.services.reader.index.view.access(UUID(access_id))
    assert row is not None and row.review_outcome == "appropriate"
    assert row.reviewed_by == "compliance@demo"
    again = compliance.post(
        f"/compliance/review/{access_id}",
        data={"csrf": csrf, "outcome": "appropriate", "note": "twice"},
    )
    assert again.status_code == 422
    assert "needs no (further) review" in again.text
    assert "Matches." in compliance.get(f"/compliance/replay/{access_id}").text
    accounting = compliance.get(f"/compliance/disclosure-report/{BEN}").text
    assert "break-the-glass" in accounting


def test_verification_shows_intact_then_the_first_broken_position(demo: Demo) -> None:
    compliance = demo.browser("compliance@demo")
    intact = compliance.get("/compliance")
    assert intact.status_code == 200
    assert "Intact." in intact.text
    assert demo.services.chain is not None
    head = demo.services.chain.extend()
    target = 7
    assert head > target

    with sqlite3.connect(demo.settings.sqlite_path) as db:
        (state,) = db.execute(
            "SELECT state FROM stored_events WHERE rowid = ?", (target,)
        ).fetchone()
        altered = bytearray(state)
        altered[len(altered) // 2] ^= 0x01
        db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (bytes(altered), target))

    broken = compliance.get("/compliance")

    assert broken.status_code == 200
    assert f"Broken at position {target}." in broken.text
    assert "Intact." not in broken.text


@pytest.mark.parametrize("email", ["therapist@demo", "ava@demo", "pcp@demo"])
def test_compliance_pages_are_for_compliance_only(demo: Demo, email: str) -> None:
    read = demo.client.get(f"/patients/{AVA}/view", headers=demo.bearer("therapist@demo"))
    access_id = read.headers["X-Access-Id"]
    browser = demo.browser(email)
    for path in (
        "/compliance",
        "/compliance/access-log",
        f"/compliance/access-log?patient={AVA}&format=csv",
        "/compliance/disclosure-report?patient=DEMO-1001",
        f"/compliance/disclosure-report/{AVA}",
        "/compliance/review",
        f"/compliance/replay/{access_id}",
    ):
        answer = browser.get(path, follow_redirects=False)
        assert answer.status_code == 403, path
        assert access_id not in answer.text
    csrf = csrf_of(browser.get("/compliance"))
    posted = browser.post(
        f"/compliance/review/{access_id}",
        data={"csrf": csrf, "outcome": "appropriate", "note": "not mine to review"},
    )
    assert posted.status_code == 403


def test_the_html_pages_leave_the_json_compliance_routes_alone(demo: Demo) -> None:
    headers = demo.bearer("compliance@demo")
    verify = demo.client.get("/compliance/verify", headers=headers)
    assert verify.status_code == 200 and verify.json()["intact"] is True
    assert demo.client.get("/compliance/break-glass", headers=headers).json() == []
    access = demo.client.get("/compliance/access", headers=headers)
    assert access.headers["content-type"].startswith("application/json")
