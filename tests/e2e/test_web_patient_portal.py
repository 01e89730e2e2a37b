"""The patient's part on /me, over HTTP against the demo: questionnaires, a sleep log, doses
taken or missed, a side effect, a lapse and a message, each recorded by the patient through
the patient page's forms and the one write path, refused beside its field with nothing
recorded; the crisis resources after an entry the safety rules alert on; the appointments
ahead; and the API's write policy for a patient's own record. All data synthetic."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from adapters.passwords import hash_password
from demo.common import THERAPIST
from domain.events import Actor, now
from domain.vocabulary import Modality, Role, SessionKind, SessionMode
from tests.builders import act, create_user, register_patient
from tests.e2e.test_web_clinician import (
    AVA,
    BEN,
    PASSWORD,
    Web,
    csrf_of,
    element,
    field_error,
    options,
    served_demo,
    svg,
    tag_of,
    text_of,
)
from tests.e2e.test_web_clinician_day import board_entry

AVA_EMAIL = "ava@demo"  # demo/depression.py: sertraline; her therapist is therapist@demo
CRISIS_LINE = "988 Suicide & Crisis Lifeline: call or text 988"
EMERGENCY = "In an emergency call 911"
NOT_MONITORED = "This form is not watched around the clock."
FORMS = ("phq-9", "gad-7", "sleep", "adherence", "side-effect", "lapse", "message")


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    yield from served_demo(tmp_path_factory, "web-patient-portal")


def my_page(web: Web) -> str:
    web.sign_in(AVA_EMAIL)
    return web.page("/me")


def post(web: Web, form: str, page: str, **data: Any) -> Any:
    return web.client.post(
        f"/me/forms/{form}", data={"csrf": csrf_of(page), **data}, follow_redirects=False
    )


def landed(web: Web, answer: Any) -> str:
    """The page a successful form lands on (after its 303)."""
    assert answer.status_code == 303, answer.text[:3000]
    assert answer.headers["location"].startswith("/me?done=")
    return web.page(answer.headers["location"])


def newest(web: Web, patient: UUID = AVA) -> Any:
    return web.events(patient)[-1]


def crisis_banner(page: str) -> str:
    found = re.search(r'<div class="pt-crisis" role="alert" id="crisis".*?</div>', page, re.S)
    assert found, "no crisis banner"
    return found.group(0)


def new_patient(web: Web) -> tuple[UUID, str]:
    """A synthetic patient of the demo's therapist, with an account of their own and on
    their own care team (as the demo's patients are): their id and email."""
    email = f"pat.{uuid4().hex[:8]}@test"
    patient: UUID = register_patient(
        web.services.clinic,
        THERAPIST,
        now() - timedelta(days=30),
        join_team=True,
        mrn=f"T-{uuid4().hex[:10]}",
        given_name="Robin",
        family_name="Synthetic",
        birth_date=date(1991, 7, 8),
        sex_at_birth="unknown",
    ).aggregate_id
    act(
        web.services.clinic,
        patient,
        lambda r: r.add_team_member(
            THERAPIST,
            now() - timedelta(days=30),
            user_id=email,
            role=Role.PATIENT,
            organisation="self",
        ),
    )
    create_user(
        web.services.clinic,
        Actor.system("tests"),
        email=email,
        display_name="Robin Synthetic",
        role=Role.PATIENT,
        organisation="self",
        password_hash=hash_password(PASSWORD),
        patient_id=patient,
    )
    return patient, email


def phq9(**items: str) -> dict[str, str]:
    return {f"answers.{n}": "0" for n in range(1, 10)} | {
        f"answers.{k}": v for k, v in items.items()
    }


# --- the page ---------------------------------------------------------------------------------


def test_every_form_says_it_is_not_watched_and_the_help_box_is_always_there(web: Web) -> None:
    page = my_page(web)
    for form in FORMS:
        card = page.split(f'id="form-{form}"')[1].split("</section>")[0]
        assert NOT_MONITORED in card, form
        assert 'href="tel:988"' in card and 'href="tel:911"' in card, form
        assert f'action="/me/forms/{form}"' in card, form
    help_box = element(page, "help")
    assert "Need help now?" in help_box and "988" in help_box and "911" in help_box
    assert 'href="sms:988"' in page.split('id="help"')[1].split("</aside>")[0]
    assert 'id="crisis"' not in page  # only after an entry that calls for it
    # The message goes to the active care team, the patient not among them.
    recipients = re.findall(r'name="to" value="([^"]+)"', page)
    assert "therapist@demo" in recipients and AVA_EMAIL not in recipients
    # Her current medication, by the id the record holds it under.
    assert [label for _, label in options(page, "adherence-medication-id")] == ["sertraline"]


def test_the_appointments_ahead_are_shown_in_the_clinics_zone(web: Web) -> None:
    starts = (now() + timedelta(days=6)).replace(hour=15, minute=30, second=0, microsecond=0)
    session = uuid4()
    act(
        web.services.clinic,
        AVA,
        lambda r: r.schedule_session(
            THERAPIST,
            now(),
            session_id=session,
            starts_at=starts,
            duration_minutes=45,
            mode=SessionMode.TELEHEALTH,
            kind=SessionKind.STANDARD,
            modality=Modality.CBT,
        ),
    )
    web.sign_in(AVA_EMAIL)
    page = web.page(f"/me?recorded={web.position()}")
    shown = text_of(page.split('id="appointments"')[1].split("</section>")[0])
    zone = web.services.reader.zone
    local = starts.astimezone(zone) if zone else starts
    assert f"{local:%Y-%m-%d %H:%M} {local:%Z}" in shown
    assert "telehealth" in shown and "45 minutes" in shown
    past = [s for s in re.findall(r"\d{4}-\d{2}-\d{2}", shown) if s < now().date().isoformat()]
    assert past == [], "a session already past is listed as ahead"


# --- questionnaires ---------------------------------------------------------------------------


def test_a_phq9_the_patient_answers_reaches_the_therapists_chart(web: Web) -> None:
    web.sign_in("therapist@demo")
    points = svg(web.page(f"/patients/{AVA}"), "chart-phq-9").count("<circle")

    page = my_page(web)
    done = landed(web, post(web, "phq-9", page, **phq9(**{"1": "1", "2": "1", "10": "1"})))
    assert "Your PHQ-9 answers are recorded" in element(done, "done")
    assert 'id="crisis"' not in done  # item 9 was 0
    answered = newest(web)
    assert answered.kind == "QuestionnaireAnswered"
    assert answered.author == AVA_EMAIL and answered.author_role == "patient"
    assert answered.payload["answers"]["9"] == 0

    web.sign_in("therapist@demo")
    chart = svg(web.page(f"/patients/{AVA}?min_position={web.position()}"), "chart-phq-9")
    assert chart.count("<circle") == points + 1


def test_phq9_item9_above_zero_shows_the_crisis_banner_and_alerts_the_therapist(
    web: Web,
) -> None:
    patient, email = new_patient(web)
    assert board_entry(web, patient).get("alerts", []) == []
    web.sign_in(email)
    page = web.page("/me")
    done = landed(web, post(web, "phq-9", page, **phq9(**{"9": "1"})))
    banner = crisis_banner(done)
    assert CRISIS_LINE in text_of(banner) and EMERGENCY in text_of(banner)
    assert 'href="tel:988"' in banner and 'href="sms:988"' in banner
    assert 'href="tel:911"' in banner
    assert done.index('id="crisis"') < done.index('id="done"')  # first on the page
    assert newest(web, patient).author == email
    assert "same-day suicide-risk assessment due" in [
        a["title"] for a in board_entry(web, patient)["alerts"]
    ]
    # The next visit to the page is an ordinary one: the help box, no banner.
    again = web.page("/me")
    assert 'id="crisis"' not in again and "Need help now?" in again


def test_a_gad7_out_of_range_or_missing_is_refused_on_its_item_and_nothing_is_recorded(
    web: Web,
) -> None:
    page = my_page(web)
    before = web.position()
    answers = {f"answers.{n}": "1" for n in range(1, 8)}
    refused = post(web, "gad-7", page, **{**answers, "answers.3": "7", "answers.5": ""})
    assert refused.status_code == 422
    shown = refused.text
    assert field_error(shown, "gad-7-answers-3") == "7 is outside 0-3"
    assert field_error(shown, "gad-7-answers-5") == "is required"
    assert "aria-invalid" not in tag_of(shown, "gad-7-answers-1")
    assert 'value="1" checked' in shown.split('id="gad-7-answers-2"')[1].split("</fieldset>")[0]
    assert "Nothing was saved" in element(shown, "error-summary-title")
    assert web.clinical_since(before) == []


# --- the other forms --------------------------------------------------------------------------


def test_a_sleep_log_is_recorded_by_the_patient_and_bad_input_records_nothing(web: Web) -> None:
    page = my_page(web)
    before = web.position()
    refused = post(web, "sleep", page, night_of="", hours_asleep="30", quality="3", bedtime="22:30")
    assert refused.status_code == 422
    assert field_error(refused.text, "sleep-night-of") == "is required"
    assert field_error(refused.text, "sleep-hours-asleep") == "must be 24 or less"
    assert 'value="30"' in tag_of(refused.text, "sleep-hours-asleep")
    assert 'value="22:30"' in tag_of(refused.text, "sleep-bedtime")
    assert web.clinical_since(before) == []

    night = (date.today() - timedelta(days=1)).isoformat()
    done = landed(
        web,
        post(
            web,
            "sleep",
            page,
            night_of=night,
            hours_asleep="6.5",
            quality="2",
            bedtime="23:15",
            wake_time="06:40",
        ),
    )
    assert "Your sleep is recorded." in element(done, "done")
    logged = newest(web)
    assert logged.kind == "SleepLogged" and logged.author == AVA_EMAIL
    assert logged.payload["night_of"] == night and logged.payload["quality"] == 2
    assert web.clinical_since(before) == ["domain.measures:SleepLogged"]


def test_doses_taken_or_missed_are_recorded_for_a_current_medication(web: Web) -> None:
    page = my_page(web)
    medication = options(page, "adherence-medication-id")[0][0]
    before = web.position()
    refused = post(
        web,
        "adherence",
        page,
        medication_id=medication,
        period_days="7",
        doses_prescribed="7",
        doses_taken="9",
    )
    assert refused.status_code == 422
    assert "cannot exceed" in field_error(refused.text, "adherence-doses-taken")
    unknown = post(web, "adherence", page, medication_id="", period_days="1", doses_prescribed="1")
    assert unknown.status_code == 422
    assert field_error(unknown.text, "adherence-medication-id") == "is required"
    assert field_error(unknown.text, "adherence-doses-taken") == "is required"
    assert web.clinical_since(before) == []

    done = landed(
        web,
        post(
            web,
            "adherence",
            page,
            medication_id=medication,
            period_days="7",
            doses_prescribed="7",
            doses_taken="6",
        ),
    )
    assert "Your doses are recorded." in element(done, "done")
    recorded = newest(web)
    assert recorded.kind == "AdherenceRecorded" and recorded.author == AVA_EMAIL
    assert recorded.payload["medication_id"] == medication
    assert (recorded.payload["doses_prescribed"], recorded.payload["doses_taken"]) == (7, 6)


def test_a_side_effect_is_recorded_and_a_missing_severity_is_refused(web: Web) -> None:
    page = my_page(web)
    medication = options(page, "side-effect-medication-id")[0][0]
    before = web.position()
    refused = post(web, "side-effect", page, medication_id=medication, effect="Headaches")
    assert refused.status_code == 422
    assert field_error(refused.text, "side-effect-severity") == "is required"
    assert 'value="Headaches"' in tag_of(refused.text, "side-effect-effect")
    assert web.clinical_since(before) == []

    done = landed(
        web,
        post(
            web, "side-effect", page, medication_id=medication, effect="Headaches", severity="mild"
        ),
    )
    assert "The side effect is recorded" in element(done, "done")
    reported = newest(web)
    assert reported.kind == "SideEffectReported" and reported.author == AVA_EMAIL
    assert reported.payload["effect"] == "Headaches"


def test_a_lapse_shows_the_crisis_banner_and_puts_the_contact_on_the_board(web: Web) -> None:
    page = my_page(web)
    before = web.position()
    future = (date.today() + timedelta(days=3)).isoformat()
    refused = post(web, "lapse", page, substance="alcohol", occurred_on=future, circumstances="")
    assert refused.status_code == 422
    assert field_error(refused.text, "lapse-circumstances") == "is required"
    assert 'value="alcohol"' in tag_of(refused.text, "lapse-substance")
    assert 'id="crisis"' not in refused.text  # nothing was recorded
    assert web.clinical_since(before) == []

    done = landed(
        web,
        post(
            web,
            "lapse",
            page,
            substance="alcohol",
            occurred_on=date.today().isoformat(),
            circumstances="A hard evening after a family argument; I am safe now.",
        ),
    )
    banner = crisis_banner(done)
    assert CRISIS_LINE in text_of(banner) and EMERGENCY in text_of(banner)
    assert "Your care team will contact you." in element(done, "done")
    lapse = newest(web)
    assert lapse.kind == "LapseReported" and lapse.author == AVA_EMAIL
    due = [d["title"] for d in board_entry(web, AVA).get("due", [])]
    assert "contact the patient after a lapse" in due, due


def test_a_message_goes_to_the_team_and_one_without_a_recipient_is_refused(web: Web) -> None:
    page = my_page(web)
    subject = f"Question {uuid4().hex[:6]}"
    before = web.position()
    refused = post(web, "message", page, subject=subject, body="Can we move Thursday?")
    assert refused.status_code == 422
    assert field_error(refused.text, "message-to") == "is required"
    assert f'value="{subject}"' in tag_of(refused.text, "message-subject")
    assert "Can we move Thursday?" in refused.text
    outsider = post(web, "message", page, to="outsider@test", subject=subject, body="Hi")
    assert outsider.status_code == 409  # the record's rule: not on the care team
    assert "not on the care team" in outsider.text
    assert web.clinical_since(before) == []

    done = landed(
        web, post(web, "message", page, to="therapist@demo", subject=subject, body="Can we?")
    )
    assert "Your message is sent" in element(done, "done")
    sent = newest(web)
    assert sent.kind == "MessageSent" and sent.author == AVA_EMAIL
    assert sent.payload["to"] == ["therapist@demo"]
    web.sign_in("therapist@demo")
    assert subject in web.page(f"/patients/{AVA}?min_position={web.position()}")


def test_forms_are_for_the_patient_need_the_csrf_token_and_unknown_ones_do_not_exist(
    web: Web,
) -> None:
    page = my_page(web)
    before = web.position()
    no_token = web.client.post("/me/forms/sleep", data={"night_of": "2026-01-01"})
    assert no_token.status_code == 403
    assert post(web, "dose", page, **{"dose.amount": "300"}).status_code == 404
    web.sign_in("therapist@demo")
    therapist_page = web.page(f"/patients/{AVA}")
    staff = web.client.post(
        "/me/forms/sleep",
        data={"csrf": csrf_of(therapist_page), "night_of": "2026-01-01", "hours_asleep": "7"},
    )
    assert staff.status_code == 403
    assert web.clinical_since(before) == []


# --- the API's write policy for a patient's own record ---------------------------------------


def test_the_patient_records_their_own_sleep_log_through_the_api(web: Web) -> None:
    before = web.position()
    answer = web.client.post(
        f"/patients/{AVA}/sleep-logs",
        json={
            "night_of": (date.today() - timedelta(days=2)).isoformat(),
            "hours_asleep": "7.5",
            "quality": 4,
        },
        headers=web.token(AVA_EMAIL),
    )
    assert answer.status_code == 201, answer.text
    assert web.clinical_since(before) == ["domain.measures:SleepLogged"]
    assert newest(web).author == AVA_EMAIL


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/progress-notes", {"text": "I am writing my own note"}),
        ("/lab-orders", {"loinc": "2823-3", "test_name": "Potassium", "reason": "Check"}),
        ("/risk-assessments", {"level": "low", "method": "c-ssrs", "plan": "None"}),
        (
            "/sessions",
            {
                "starts_at": (now() + timedelta(days=7)).isoformat(),
                "duration_minutes": 50,
                "mode": "in-person",
                "modality": "cbt",
            },
        ),
    ],
)
def test_a_patient_may_not_record_what_is_the_clinicians(
    web: Web, path: str, body: dict[str, Any]
) -> None:
    before = web.position()
    answer = web.client.post(f"/patients/{AVA}{path}", json=body, headers=web.token(AVA_EMAIL))
    assert answer.status_code == 403, answer.text
    assert answer.json()["type"] == "not_permitted"
    assert web.clinical_since(before) == []


def test_a_patient_may_not_change_a_dose_nor_record_a_lab_result(web: Web) -> None:
    token = web.token(AVA_EMAIL)
    view = web.client.get(f"/patients/{AVA}", headers=token).json()
    medication = view["medications"][0]["medication_id"]
    before = web.position()
    dose = web.client.post(
        f"/patients/{AVA}/medications/{medication}/dose",
        json={"dose": {"amount": "150", "unit": "mg"}, "reason": "I feel I need more"},
        headers=token,
    )
    assert dose.status_code == 403 and dose.json()["type"] == "not_permitted", dose.text
    result = web.client.post(
        f"/patients/{AVA}/lab-orders/{uuid4()}/results",
        json={"loinc": "2823-3", "test_name": "Potassium", "value": "4.0", "unit": "mmol/L"},
        headers=token,
    )
    assert result.status_code in (403, 422), result.text
    assert web.clinical_since(before) == []


def test_a_patient_may_not_write_to_another_patients_record(web: Web) -> None:
    token = web.token(AVA_EMAIL)
    before = web.position()
    sleep = {
        "night_of": (date.today() - timedelta(days=1)).isoformat(),
        "hours_asleep": "7",
        "quality": 3,
    }
    other = web.client.post(f"/patients/{BEN}/sleep-logs", json=sleep, headers=token)
    ghost = web.client.post(f"/patients/{uuid4()}/sleep-logs", json=sleep, headers=token)
    assert other.status_code == ghost.status_code == 403
    assert other.json()["type"] == ghost.json()["type"] == "access_denied"
    assert web.clinical_since(before) == []
