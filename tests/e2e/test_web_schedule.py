"""A clinician's schedule page, over HTTP against the demo served in a clinic time zone:
the sessions of their patients in a day or a week, grouped by the clinic's days, each
patient one audited read of their appointments; a double booking of one patient refused by
the record (the form shows why, beside its start); weekly and twice-weekly series booked in
one write, or not at all. All data synthetic."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from api.web import local_time
from demo.common import THERAPIST
from domain.events import Actor, now
from domain.vocabulary import Modality, Role, SessionMode
from tests.builders import act, register_patient
from tests.e2e.test_web_clinician import Web, element, field_error, served_demo, text_of
from tests.e2e.test_web_clinician_day import new_patient, open_page, post_form

ZONE = "America/Chicago"
CLINIC = ZoneInfo(ZONE)
OUTSIDER = Actor(user_id="outsider@test", role=Role.THERAPIST, organisation="Elsewhere Clinic")


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TANDEM_CLINIC_TIMEZONE", ZONE)
        served = served_demo(tmp_path_factory, "web-schedule")
        found = next(served)
    assert getattr(found.services.reader.zone, "key", None) == ZONE
    yield found
    served.close()


_weeks = iter(range(3, 100))


def a_monday() -> date:
    """A Monday some weeks ahead in the clinic, a different one for each test (they share
    the store)."""
    today = datetime.now(CLINIC).date()
    return today - timedelta(days=today.weekday()) + timedelta(weeks=next(_weeks))


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), CLINIC)


def schedule(web: Web, patient: UUID, starts_at: datetime, **more: Any) -> Any:
    page = open_page(web, patient)
    return post_form(
        web,
        patient,
        "schedule",
        page,
        starts_at=starts_at.isoformat(timespec="minutes"),
        duration_minutes=more.pop("duration_minutes", "50"),
        mode=more.pop("mode", "in-person"),
        kind=more.pop("kind", "standard"),
        modality=more.pop("modality", "cbt"),
        **more,
    )


def booked_since(web: Web, patient: UUID, position: int) -> list[Any]:
    return [r for r in web.events(patient) if r.position > position]


def day_of(page: str, day: date) -> str:
    """The markup of one day's section of the schedule."""
    found = re.search(rf'<section[^>]*id="day-{day.isoformat()}".*?</section>', page, re.S)
    assert found, f"no day {day}"
    return found.group(0)


def row_of(page: str, session_id: str) -> str:
    return " ".join(element(page, f"session-{session_id}").split())


def test_the_week_shows_a_scheduled_session_in_the_clinic_zone_with_its_label(web: Web) -> None:
    patient = new_patient(web)
    monday = a_monday()
    web.sign_in("therapist@demo")
    before = web.position()
    wednesday = at(monday + timedelta(days=2), 10, 30)
    done = schedule(web, patient, wednesday, mode="telehealth", kind="skills", modality="dbt")
    assert done.status_code == 303, done.text[:2000]
    # Late on Sunday in the clinic is Monday in UTC: still Sunday's.
    sunday = at(monday + timedelta(days=6), 23, 30)
    assert schedule(web, patient, sunday).status_code == 303
    first, last = (r.payload["session_id"] for r in booked_since(web, patient, before))

    page = web.page(f"/schedule?day={(monday + timedelta(days=3)).isoformat()}&span=week")

    shown = local_time(wednesday, CLINIC)
    assert shown.endswith((" CST", " CDT")) and shown.startswith(f"{wednesday:%Y-%m-%d} 10:30")
    row = row_of(page, first)
    assert shown in row and "50 min" in row and "Rowan Synthetic" in row
    assert "telehealth" in row and "skills" in row and "dbt" in row and "scheduled" in row
    assert f'href="/patients/{patient}"' in page
    assert first in day_of(page, wednesday.date()) and last not in day_of(page, wednesday.date())
    assert last in day_of(page, sunday.date())
    assert sunday.astimezone(ZoneInfo("UTC")).date() == sunday.date() + timedelta(days=1)
    assert local_time(sunday, CLINIC) in row_of(page, last)
    # The week starts on Monday; the day view shows only its day.
    assert f"week of {monday:%A %Y-%m-%d}" in text_of(page)
    day = web.page(f"/schedule?day={wednesday.date().isoformat()}&span=day")
    assert first in day and last not in day
    # The links move a week (or a day) at a time, and back to today.
    assert f'href="/schedule?day={(monday + timedelta(days=10)).isoformat()}&amp;span=week"' in page
    assert f'href="/schedule?day={(monday - timedelta(days=4)).isoformat()}&amp;span=week"' in page
    today = datetime.now(CLINIC).date().isoformat()
    assert f'href="/schedule?day={today}&amp;span=week"' in page
    assert 'href="/schedule"' in web.page("/patients")  # in the navigation


def test_a_cancelled_session_shows_cancelled_and_an_attended_one_attended(web: Web) -> None:
    patient = new_patient(web)
    monday = a_monday()
    web.sign_in("therapist@demo")
    before = web.position()
    assert schedule(web, patient, at(monday, 9)).status_code == 303
    assert schedule(web, patient, at(monday, 11)).status_code == 303
    cancelled, kept = (UUID(r.payload["session_id"]) for r in booked_since(web, patient, before))
    act(
        web.services.clinic,
        patient,
        lambda r: r.cancel_session(
            THERAPIST, now(), session_id=cancelled, cancelled_by="patient", reason="travel"
        ),
    )

    page = web.page(f"/schedule?day={monday.isoformat()}&span=day")

    assert row_of(page, str(cancelled)).endswith("cancelled")
    assert row_of(page, str(kept)).endswith("scheduled")


def test_a_patient_not_on_the_team_never_appears_and_each_patient_shown_is_one_read(
    web: Web,
) -> None:
    monday = a_monday()
    family = f"Elsewhere{uuid4().hex[:6]}"
    stranger = register_patient(
        web.services.clinic,
        OUTSIDER,
        now() - timedelta(days=3),
        join_team=True,
        mrn=f"X-{uuid4().hex[:10]}",
        given_name="Quinn",
        family_name=family,
        birth_date=date(1991, 5, 6),
        sex_at_birth="unknown",
    ).aggregate_id
    hidden = uuid4()
    act(
        web.services.clinic,
        stranger,
        lambda r: r.schedule_session(
            OUTSIDER,
            now(),
            session_id=hidden,
            starts_at=at(monday, 10),
            duration_minutes=50,
            mode=SessionMode.IN_PERSON,
            modality=Modality.CBT,
        ),
    )
    mine = new_patient(web)
    web.sign_in("therapist@demo")
    assert schedule(web, mine, at(monday, 10)).status_code == 303
    index = web.services.reader.index
    assert index.wait_for(web.position())
    caseload = {pid for pid, _ in index.view.caseload("therapist@demo")}
    before = web.position()

    page = web.page(f"/schedule?day={monday.isoformat()}")

    assert family not in page and str(hidden) not in page and str(stranger) not in page
    assert "Rowan Synthetic" in day_of(page, monday)
    reads = [a for a in web.accesses(user_id="therapist@demo") if a.position > before]
    assert {a.view for a in reads} == {"appointments"}
    assert Counter(a.patient_id for a in reads) == Counter(caseload)
    assert mine in caseload and stranger not in caseload
    assert web.clinical_since(before) == []
    # The read of the patient shown holds their sessions, and replays to its very bytes.
    (read,) = [a for a in reads if a.patient_id == mine]
    assert set(read.classes) == {"demographics", "appointment"}
    assert web.services.reader.replay(read.access_id).matches


def test_a_double_booking_through_the_form_is_refused_beside_its_start(web: Web) -> None:
    patient = new_patient(web)
    monday = a_monday()
    web.sign_in("therapist@demo")
    first = at(monday + timedelta(days=1), 14)
    assert schedule(web, patient, first).status_code == 303
    before = web.position()

    refused = schedule(web, patient, first + timedelta(minutes=30), duration_minutes="30")

    assert refused.status_code == 409, refused.text[:2000]
    said = field_error(refused.text, "schedule-starts-at")
    assert "overlaps the session already scheduled at" in said
    assert first.isoformat() in said
    assert web.clinical_since(before) == []
    # Right after it, it is no double booking.
    assert schedule(web, patient, first + timedelta(minutes=50)).status_code == 303


def test_two_patients_at_once_are_marked_as_overlapping(web: Web) -> None:
    one, other = new_patient(web), new_patient(web)
    monday = a_monday()
    web.sign_in("therapist@demo")
    before = web.position()
    assert schedule(web, one, at(monday, 15)).status_code == 303
    assert schedule(web, other, at(monday, 15, 20)).status_code == 303
    assert schedule(web, one, at(monday, 17)).status_code == 303
    (a, later), (b,) = (
        [r.payload["session_id"] for r in booked_since(web, p, before)] for p in (one, other)
    )

    page = web.page(f"/schedule?day={monday.isoformat()}&span=day")

    assert "overlaps" in row_of(page, a) and "overlaps" in row_of(page, b)
    assert "overlaps" not in row_of(page, later)


@pytest.mark.parametrize(
    ("every", "days"), [("week", [0, 7, 14, 21]), ("twice-weekly", [0, 3, 7, 10])]
)
def test_a_series_of_four_is_booked_in_one_write(web: Web, every: str, days: list[int]) -> None:
    patient = new_patient(web)
    monday = a_monday()
    web.sign_in("therapist@demo")
    before = web.position()
    version = web.services.clinic.patient(patient).version

    done = schedule(web, patient, at(monday, 9, 15), repeat="4", every=every)

    assert done.status_code == 303, done.text[:2000]
    rows = booked_since(web, patient, before)
    assert [r.kind for r in rows] == ["SessionScheduled"] * 4
    positions = [r.position for r in rows]
    assert positions == list(range(positions[0], positions[0] + 4))  # one commit
    assert web.services.clinic.patient(patient).version == version + 4
    starts = [datetime.fromisoformat(r.payload["starts_at"]).astimezone(CLINIC) for r in rows]
    assert [(s.date() - monday).days for s in starts] == days
    assert {s.time() for s in starts} == {time(9, 15)}  # the clinic's clock, DST or not
    assert len({r.payload["session_id"] for r in rows}) == 4


def test_a_series_one_of_which_would_overlap_books_none(web: Web) -> None:
    patient = new_patient(web)
    monday = a_monday()
    web.sign_in("therapist@demo")
    third = at(monday + timedelta(weeks=2), 9, 30)
    assert schedule(web, patient, third).status_code == 303
    before = web.position()

    refused = schedule(web, patient, at(monday, 9), repeat="4")

    assert refused.status_code == 409, refused.text[:2000]
    assert third.isoformat() in field_error(refused.text, "schedule-starts-at")
    assert web.clinical_since(before) == []


@pytest.mark.parametrize("repeat", ["0", "27", "two"])
def test_a_series_of_a_bad_length_is_refused_beside_it(web: Web, repeat: str) -> None:
    patient = new_patient(web)
    web.sign_in("therapist@demo")
    before = web.position()

    refused = schedule(web, patient, at(a_monday(), 9), repeat=repeat)

    assert refused.status_code == 422, refused.text[:2000]
    assert "from 1 to 26" in field_error(refused.text, "schedule-repeat")
    assert web.clinical_since(before) == []


@pytest.mark.parametrize("day", ["2026-13-40", "next tuesday", "2026-3-9x"])
def test_a_bad_day_is_refused_in_plain_words_and_records_nothing(web: Web, day: str) -> None:
    web.sign_in("therapist@demo")
    before = web.position()

    page = web.page(f"/schedule?day={day}", status=422)

    assert "is not a date: give the day as YYYY-MM-DD" in text_of(page)
    assert web.recorded_since(before) == []


def test_a_bad_span_is_refused_and_records_nothing(web: Web) -> None:
    web.sign_in("therapist@demo")
    before = web.position()
    web.page("/schedule?span=month", status=422)
    assert web.recorded_since(before) == []
