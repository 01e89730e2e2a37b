"""A clinician's day on the patient page, over HTTP against the demo: a session documented
in one step, a session scheduled, a risk assessment that closes the alerts it answers, a
psychotherapy note kept private, a medication started and stopped and its lab ordered.
Every form goes through the one write path; bad input is refused beside its field, in
plain words, and records nothing. All data synthetic."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from demo.common import PRESCRIBER, THERAPIST
from domain.events import now
from domain.registration import patient_id_for
from tests.builders import act, register_patient
from tests.e2e.test_web_clinician import (
    AVA,
    Web,
    csrf_of,
    element,
    field_error,
    options,
    served_demo,
    tag_of,
    text_of,
)


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    yield from served_demo(tmp_path_factory, "web-clinician-day")


def new_patient(web: Web, **changes: Any) -> UUID:
    """A synthetic patient with the demo's therapist and prescriber on the team."""
    patient: UUID = register_patient(
        web.services.clinic,
        THERAPIST,
        now() - timedelta(days=30),
        join_team=True,
        mrn=f"T-{uuid4().hex[:10]}",
        given_name="Rowan",
        family_name="Synthetic",
        birth_date=date(1988, 2, 3),
        sex_at_birth="unknown",
    ).aggregate_id
    act(
        web.services.clinic,
        patient,
        lambda r: r.add_team_member(
            THERAPIST,
            now() - timedelta(days=30),
            user_id=PRESCRIBER.user_id,
            role=PRESCRIBER.role,
            organisation=PRESCRIBER.organisation,
        ),
    )
    return patient


def open_page(web: Web, patient: UUID) -> str:
    return web.page(f"/patients/{patient}?min_position={web.position()}")


def post_form(web: Web, patient: UUID, form: str, page: str, **data: Any) -> Any:
    return web.client.post(
        f"/patients/{patient}/forms/{form}",
        data={"csrf": csrf_of(page), **data},
        follow_redirects=False,
    )


def kinds_since(web: Web, patient: UUID, version: int) -> list[str]:
    return [r.kind for r in web.events(patient) if r.version > version]


def test_document_now_schedules_holds_and_notes_one_session_in_one_write(web: Web) -> None:
    patient = new_patient(web)
    web.sign_in("therapist@demo")
    page = open_page(web, patient)
    version = web.services.clinic.patient(patient).version
    note = f"Behavioural activation plan reviewed ({uuid4().hex[:8]})"
    done = post_form(
        web,
        patient,
        "document",
        page,
        mode="telehealth",
        kind="standard",
        modality="behavioral-activation",
        duration_minutes="50",
        text=note,
    )
    assert done.status_code == 303, done.text[:2000]
    rows = [r for r in web.events(patient) if r.version > version]
    assert [r.kind for r in rows] == ["SessionScheduled", "SessionAttended", "ProgressNoteWritten"]
    session = rows[0].payload["session_id"]
    assert rows[2].payload["session_id"] == session
    assert rows[0].payload["mode"] == "telehealth" and rows[0].payload["duration_minutes"] == 50
    assert len({r.position for r in rows}) == 3 and web.services.clinic.patient(
        patient
    ).version == (version + 3)
    shown = web.page(done.headers["location"])
    assert "Session recorded as held, with its progress note." in shown
    assert f"progress note: {note}" in text_of(shown)
    # Held, so no longer open for the attendance form.
    assert (
        session not in dict(options(shown, "attended-session-id"))
        if ('id="attended-session-id"' in shown)
        else True
    )


def test_document_now_refuses_every_bad_field_at_once_and_records_nothing(web: Web) -> None:
    patient = new_patient(web)
    web.sign_in("therapist@demo")
    page = open_page(web, patient)
    before = web.position()
    refused = post_form(
        web,
        patient,
        "document",
        page,
        mode="by-post",
        kind="standard",
        modality="cbt",
        duration_minutes="fifty",
        text="",
        clinical_time="yesterday",
    )
    assert refused.status_code == 422
    shown = refused.text
    assert field_error(shown, "document-mode") == "must be one of 'in-person' or 'telehealth'"
    assert field_error(shown, "document-duration-minutes") == "is not a whole number"
    assert field_error(shown, "document-text") == "is required"
    assert field_error(shown, "document-clinical-time") == (
        "is not a date and time: write it as 2026-03-02T10:50-05:00"
    )
    assert 'value="fifty"' in tag_of(shown, "document-duration-minutes")
    assert web.clinical_since(before) == []


def test_a_scheduled_session_is_then_offered_to_the_attendance_form(web: Web) -> None:
    patient = new_patient(web)
    web.sign_in("therapist@demo")
    page = open_page(web, patient)
    starts = (now() + timedelta(days=7)).replace(microsecond=0).isoformat()
    done = post_form(
        web,
        patient,
        "schedule",
        page,
        starts_at=starts,
        duration_minutes="50",
        mode="in-person",
        kind="skills",
        modality="dbt",
    )
    assert done.status_code == 303, done.text[:2000]
    scheduled = web.events(patient)[-1]
    assert scheduled.kind == "SessionScheduled" and scheduled.payload["kind"] == "skills"
    shown = web.page(done.headers["location"])
    assert scheduled.payload["session_id"] in dict(options(shown, "attended-session-id"))

    before = web.position()
    refused = post_form(
        web, patient, "schedule", shown, starts_at="2026-03-09T10:00", duration_minutes="500"
    )
    assert refused.status_code == 422
    assert field_error(refused.text, "schedule-starts-at") == (
        "needs its UTC offset, e.g. 2026-03-02T10:50-05:00"
    )
    assert field_error(refused.text, "schedule-duration-minutes") == "must be 240 or less"
    assert field_error(refused.text, "schedule-mode") == "is required"
    assert web.clinical_since(before) == []


def test_a_risk_assessment_closes_the_alert_it_answers(web: Web) -> None:
    patient = new_patient(web)
    item9 = {str(n): 1 for n in range(1, 9)} | {"9": 2}
    act(
        web.services.clinic,
        patient,
        lambda r: r.answer_questionnaire(
            THERAPIST, now() - timedelta(hours=2), instrument="phq-9", answers=item9
        ),
    )
    web.sign_in("therapist@demo")
    page = open_page(web, patient)
    assert "Alert (high) same-day suicide-risk assessment due" in element(page, "risk-answers")

    assert [a["title"] for a in board_entry(web, patient)["alerts"]] == [
        "same-day suicide-risk assessment due"
    ]
    before = web.position()
    refused = post_form(web, patient, "risk", page, method="c-ssrs", plan="")
    assert refused.status_code == 422
    assert field_error(refused.text, "risk-level") == "is required"
    assert field_error(refused.text, "risk-plan") == "is required"
    assert web.clinical_since(before) == []

    done = post_form(
        web,
        patient,
        "risk",
        page,
        level="moderate",
        method="c-ssrs",
        factors="recent loss, engaged in treatment",
        plan="Safety plan reviewed; means restriction discussed; call in 24 h",
    )
    assert done.status_code == 303, done.text[:2000]
    assessed = web.events(patient)[-1]
    assert assessed.kind == "RiskAssessed"
    assert assessed.payload["factors"] == ["recent loss", "engaged in treatment"]
    shown = web.page(done.headers["location"])
    assert 'id="risk-answers"' not in shown
    assert "No open alert waits for an assessment." in shown
    assert board_entry(web, patient).get("alerts", []) == []


def board_entry(web: Web, patient: UUID) -> dict[str, Any]:
    """The patient's entry on the therapist's board (at the log's head); {} if none."""
    board = web.client.get(
        "/board",
        params={"min_position": web.position(), "patient_id": str(patient)},
        headers=web.token("therapist@demo"),
    ).json()
    return next((p for p in board["patients"] if p["patient_id"] == str(patient)), {})


def test_a_psychotherapy_note_is_labelled_private_and_stays_with_its_author(web: Web) -> None:
    patient = new_patient(web)
    web.sign_in("therapist@demo")
    page = open_page(web, patient)
    assert "Private to you." in element(page, "form-psychotherapy")
    secret = f"Process note only for me ({uuid4().hex[:8]})"
    done = post_form(web, patient, "psychotherapy", page, text=secret)
    assert done.status_code == 303, done.text[:2000]
    assert web.events(patient)[-1].kind == "PsychotherapyNoteWritten"
    web.sign_in("prescriber@demo")
    prescriber_page = open_page(web, patient)
    assert secret not in prescriber_page
    assert 'id="form-psychotherapy"' not in prescriber_page


def test_the_prescriber_starts_a_medication_orders_its_lab_and_stops_it(web: Web) -> None:
    patient = new_patient(web)
    web.sign_in("therapist@demo")
    assert 'id="form-start"' not in open_page(web, patient)  # a prescriber's form
    web.sign_in("prescriber@demo")
    page = open_page(web, patient)

    before = web.position()
    refused = post_form(
        web,
        patient,
        "start",
        page,
        drug="lithium carbonate",
        rxnorm="lithium",
        **{"dose.amount": "-300", "dose.unit": "mg", "schedule.frequency": "twice-daily"},
        route="oral",
        indication="",
        sud_treatment="false",
    )
    assert refused.status_code == 422
    assert field_error(refused.text, "start-dose-amount") == "must be greater than 0"
    assert field_error(refused.text, "start-indication") == "is required"
    assert "RxNorm" in field_error(refused.text, "start-rxnorm")
    assert web.clinical_since(before) == []

    done = post_form(
        web,
        patient,
        "start",
        page,
        drug="lithium carbonate",
        rxnorm="42351",
        **{"dose.amount": "300", "dose.unit": "mg", "schedule.frequency": "twice-daily"},
        route="oral",
        indication="bipolar I disorder",
        sud_treatment="false",
    )
    assert done.status_code == 303, done.text[:2000]
    started = web.events(patient)[-1]
    assert started.kind == "MedicationStarted" and started.payload["drug"] == "lithium carbonate"
    shown = web.page(done.headers["location"])
    assert "lithium" in text_of(shown).lower()
    medication = started.payload["medication_id"]
    assert medication in dict(options(shown, "stop-medication-id"))

    ordered = post_form(
        web,
        patient,
        "order",
        shown,
        loinc="14334-7",
        test_name="Lithium [Moles/volume] in Serum or Plasma",
        reason="level 5 days after the start",
        due_by=(date.today() + timedelta(days=5)).isoformat(),
    )
    assert ordered.status_code == 303, ordered.text[:2000]
    order = web.events(patient)[-1]
    assert order.kind == "LabOrdered" and order.payload["loinc"] == "14334-7"
    shown = web.page(ordered.headers["location"])
    assert order.payload["order_id"] in dict(options(shown, "lab-order-id"))

    before = web.position()
    refused = post_form(web, patient, "order", shown, loinc="14334-8", test_name="x", reason="r")
    assert refused.status_code == 422
    assert "LOINC" in field_error(refused.text, "order-loinc")
    assert web.clinical_since(before) == []

    stopped = post_form(
        web, patient, "stop", shown, medication_id=medication, reason="patient preference"
    )
    assert stopped.status_code == 303, stopped.text[:2000]
    assert web.events(patient)[-1].kind == "MedicationStopped"
    shown = web.page(stopped.headers["location"])
    assert "No current medication to stop." in shown


def test_a_message_thread_shows_bodies_takes_replies_and_acknowledgements(web: Web) -> None:
    patient = new_patient(web)
    web.sign_in("therapist@demo")
    page = open_page(web, patient)
    body = f"She reports new insomnia since the dose went up ({uuid4().hex[:8]})."
    sent = post_form(
        web, patient, "message", page, to="prescriber@demo", subject="Sleep", body=body
    )
    assert sent.status_code == 303, sent.text[:2000]
    first = web.events(patient)[-1]
    assert "in_reply_to" not in first.payload  # a message without one keeps its old bytes

    web.sign_in("prescriber@demo")
    page = open_page(web, patient)
    assert body in element(page, f"message-{first.payload['message_id']}")
    toc = page.split('aria-label="On this page"', 1)[1].split("</nav>", 1)[0]
    assert "<section" not in toc and 'href="#threads"' in toc  # a link there, the thread below
    before = web.position()
    refused = post_form(web, patient, "reply", page, message_id=first.payload["message_id"])
    assert refused.status_code == 422
    assert field_error(refused.text, f"reply-{first.payload['message_id']}") == "is required"
    assert web.clinical_since(before) == []
    answer = "Thanks: I will move the dose to the morning."
    replied = post_form(
        web, patient, "reply", page, message_id=first.payload["message_id"], body=answer
    )
    assert replied.status_code == 303, replied.text[:2000]
    reply = web.events(patient)[-1]
    assert reply.kind == "MessageSent" and reply.author == "prescriber@demo"
    assert reply.payload["in_reply_to"] == first.payload["message_id"]
    assert reply.payload["to"] == ["therapist@demo"] and reply.payload["subject"] == "Re: Sleep"

    web.sign_in("therapist@demo")
    page = open_page(web, patient)
    thread = element(page, "threads")
    assert body in thread and answer in thread and thread.index(body) < thread.index(answer)
    acknowledged = post_form(
        web, patient, "acknowledge", page, message_id=reply.payload["message_id"]
    )
    assert acknowledged.status_code == 303, acknowledged.text[:2000]
    page = open_page(web, patient)
    assert "Acknowledged by therapist@demo" in " ".join(
        element(page, f"message-{reply.payload['message_id']}").split()
    )
    # The API takes the same reply, from the command table; an unknown message is refused
    # by name and records nothing.
    before = web.position()
    unknown = web.client.post(
        f"/patients/{patient}/messages/{uuid4()}/replies",
        json={"body": "Hello?"},
        headers=web.token("therapist@demo"),
    )
    assert unknown.status_code in (404, 422), unknown.text
    assert [f["field"] for f in unknown.json()["fields"]] == ["message_id"]
    assert web.clinical_since(before) == []
    again = web.client.post(
        f"/patients/{patient}/messages/{reply.payload['message_id']}/replies",
        json={"body": "Morning dose it is."},
        headers=web.token("therapist@demo"),
    )
    assert again.status_code == 201, again.text
    last = web.events(patient)[-1]
    assert last.payload["to"] == ["prescriber@demo"] and last.payload["subject"] == "Re: Sleep"


def test_a_long_note_cut_short_on_the_timeline_opens_whole(web: Web) -> None:
    patient = new_patient(web)
    web.sign_in("therapist@demo")
    page = open_page(web, patient)
    note = "Reviewed the week's activity log. " * 8 + f"End of note {uuid4().hex[:6]}."
    done = post_form(
        web,
        patient,
        "document",
        page,
        mode="in-person",
        kind="standard",
        modality="cbt",
        duration_minutes="50",
        text=note,
    )
    assert done.status_code == 303, done.text[:2000]
    shown = web.page(done.headers["location"])
    version = web.events(patient)[-1].version
    assert note not in text_of(shown.split('id="timeline"')[0])  # the summary is cut...
    assert element(shown, f"entry-{version}-text") == note  # ...and opens whole
    # Not for an outside reader's page: their timeline has no events read behind it.


def test_the_supporter_records_an_observation_the_team_then_sees(web: Web) -> None:
    ben = patient_id_for("DEMO-1002")  # Sam, her partner, is on her team as her supporter
    web.sign_in("supporter@demo")
    page = open_page(web, ben)
    assert "not watched around the clock" in element(page, "form-observe")
    before = web.position()
    refused = post_form(web, ben, "observe", page, cue="sleep", change="", observation="")
    assert refused.status_code == 422
    assert field_error(refused.text, "observe-change") == "is required"
    assert field_error(refused.text, "observe-observation") == "is required"
    assert web.clinical_since(before) == []
    seen = f"Slept about four hours two nights running ({uuid4().hex[:6]})"
    done = post_form(
        web, ben, "observe", page, cue="sleep", change="less-than-usual", observation=seen
    )
    assert done.status_code == 303, done.text[:2000]
    last = web.events(ben)[-1]
    assert last.kind == "SupporterObservationRecorded" and last.author == "supporter@demo"
    web.sign_in("therapist@demo")
    assert "supporter noticed sleep: less-than-usual" in text_of(open_page(web, ben))
    # A supporter records nothing else (the event classes' authors), and nothing on a
    # record whose team they are not on.
    token = web.token("supporter@demo")
    before = web.position()
    note = web.client.post(
        f"/patients/{ben}/progress-notes", json={"text": "Not mine to write"}, headers=token
    )
    assert note.status_code == 403, note.text
    other = web.client.post(
        f"/patients/{AVA}/supporter-observations",
        json={"cue": "mood", "change": "usual", "observation": "Seems fine"},
        headers=token,
    )
    assert other.status_code == 403, other.text
    assert web.clinical_since(before) == []
