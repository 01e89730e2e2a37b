"""The clinic's time zone (TANDEM_CLINIC_TIMEZONE) over HTTP: "the same day" and due dates
are the clinic's days, not UTC's; the pages show every time in the zone with its
abbreviation; a read's record keeps the zone so that its replay rebuilds it; a zone that is
not one fails at start-up naming the setting. All data synthetic."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.app import create_app
from bootstrap import bootstrap_services
from bootstrap.settings import Settings
from domain.events import Actor
from tests.builders import create_user, post_login
from tests.e2e.conftest import PASSWORD, USERS, Api
from tests.e2e.test_api_records import PATIENT, post

HONOLULU = ZoneInfo("Pacific/Honolulu")  # UTC-10 all year
NEW_YORK = ZoneInfo("America/New_York")
PHQ9_ITEM9 = {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1, "6": 1, "7": 1, "8": 1, "9": 1}


@pytest.fixture
def zoned(request: pytest.FixtureRequest, tmp_path: Path, password_hash: str) -> Iterator[Api]:
    """An API on a fresh store whose clinic is in the zone the test is parametrised with."""
    settings = Settings(data_dir=tmp_path / "data", clinic_timezone=request.param)
    services = bootstrap_services(settings)
    for email, (role, org) in USERS.items():
        create_user(
            services.clinic,
            Actor.system("tests"),
            email=email,
            display_name=email.split("@")[0],
            role=role,
            organisation=org,
            password_hash=password_hash,
        )
    with TestClient(create_app(services=services)) as client:
        tokens = {}
        for email in USERS:
            found = client.post("/auth/token", data={"username": email, "password": PASSWORD})
            assert found.status_code == 200, found.text
            tokens[email] = found.json()["access_token"]
        yield Api(client, services, tokens)


def patient(api: Api) -> str:
    body = {**PATIENT, "mrn": f"Z-{uuid.uuid4().hex[:8]}", "clinical_time": "2025-06-01T12:00Z"}
    found = post(api, "therapist@test", "/patients", body)
    assert found.status_code == 201, found.text
    return str(found.json()["patient_id"])


def item9_at(api: Api, patient_id: str, at: datetime) -> None:
    """A PHQ-9 with item 9 answered 1 at `at`, sent as UTC (as most clients send times)."""
    body = {"instrument": "phq-9", "answers": PHQ9_ITEM9, "clinical_time": at.astimezone(UTC)}
    body["clinical_time"] = body["clinical_time"].isoformat().replace("+00:00", "Z")
    found = post(api, "therapist@test", f"/patients/{patient_id}/questionnaires", body)
    assert found.status_code == 201, found.text


def care(api: Api, patient_id: str) -> Any:
    return api.client.get(
        f"/patients/{patient_id}/care",
        params={"min_position": api.position()},
        headers=api.auth("therapist@test"),
    )


def same_day_assessment(body: dict[str, Any]) -> dict[str, Any]:
    items = [*body["due"], *body["overdue"], *body["upcoming"]]
    found = [d for d in items if d["key"].startswith("phq9-item9:assessment:")]
    assert len(found) == 1, items
    return found[0]


@pytest.mark.parametrize("zoned", ["Pacific/Honolulu"], indirect=True)
def test_a_phq9_at_2330_in_honolulu_is_due_by_that_local_days_midnight(zoned: Api) -> None:
    someone = patient(zoned)
    # 23:30 on 1 March in Honolulu is 09:30 on 2 March in UTC.
    late_evening = datetime(2026, 3, 1, 23, 30, tzinfo=HONOLULU)
    item9_at(zoned, someone, late_evening)
    item = same_day_assessment(care(zoned, someone).json())
    due_by = datetime.fromisoformat(item["due_by"])
    assert due_by == datetime(2026, 3, 2, 0, 0, tzinfo=HONOLULU)  # 10:00 UTC on 2 March
    assert due_by.utcoffset() == timedelta(hours=-10)
    assert item["status"] == "overdue"  # the local day ended long ago

    # The page shows the times in Honolulu's zone, with its abbreviation.
    zoned.client.cookies.clear()
    assert post_login(zoned.client, "therapist@test", PASSWORD).status_code == 200
    page = zoned.client.get(f"/patients/{someone}?min_position={zoned.position()}")
    assert page.status_code == 200, page.text[:2000]
    text = html.unescape(re.sub(r"<[^>]+>", " ", page.text))
    assert "due by 2026-03-02 00:00 HST" in text
    assert "2026-03-01 23:30 HST" in text  # the timeline's entry, on its local day
    assert "09:30" not in text  # the UTC time of day appears nowhere


@pytest.mark.parametrize("zoned", ["Pacific/Honolulu"], indirect=True)
def test_monitoring_due_dates_fall_at_honolulu_midnight(zoned: Api) -> None:
    someone = patient(zoned)
    post(
        zoned,
        "therapist@test",
        f"/patients/{someone}/team-members",
        {"user_id": "prescriber@test", "role": "prescriber", "organisation": "Test Clinic"},
    )
    started = datetime(2026, 3, 1, 23, 30, tzinfo=HONOLULU)  # 09:30 UTC on 2 March
    lithium = {
        "drug": "lithium carbonate",
        "rxnorm": "42351",
        "dose": {"amount": "400", "unit": "mg"},
        "schedule": {"frequency": "at-bedtime"},
        "indication": "bipolar II disorder",
        "clinical_time": started.astimezone(UTC).isoformat(),
    }
    found = post(zoned, "prescriber@test", f"/patients/{someone}/medications", lithium)
    assert found.status_code == 201, found.text
    body = care(zoned, someone).json()
    items = [*body["due"], *body["overdue"], *body["upcoming"]]
    assert items, body
    for item in items:
        due_by = datetime.fromisoformat(item["due_by"]).astimezone(HONOLULU)
        assert (due_by.hour, due_by.minute) == (0, 0), item  # the end of a Honolulu day
    baseline = [i for i in items if datetime.fromisoformat(i["due_from"]) <= started]
    assert baseline, items  # due at the start: by the end of 1 March in Honolulu
    assert {datetime.fromisoformat(i["due_by"]) for i in baseline} == {
        datetime(2026, 3, 2, tzinfo=HONOLULU)
    }


@pytest.mark.parametrize("zoned", ["America/New_York"], indirect=True)
@pytest.mark.parametrize(
    ("trigger", "midnight", "offset"),
    [
        # Clocks go forward at 02:00 on 8 March 2026: the day ends in daylight time.
        (datetime(2026, 3, 7, 23, 30), datetime(2026, 3, 8), -5),
        (datetime(2026, 3, 8, 23, 30), datetime(2026, 3, 9), -4),
        # Clocks go back at 02:00 on 1 November 2026.
        (datetime(2026, 10, 31, 23, 30), datetime(2026, 11, 1), -4),
        (datetime(2026, 11, 1, 23, 30), datetime(2026, 11, 2), -5),
    ],
)
def test_the_same_day_ends_at_new_york_midnight_across_daylight_saving_changes(
    zoned: Api, trigger: datetime, midnight: datetime, offset: int
) -> None:
    someone = patient(zoned)
    item9_at(zoned, someone, trigger.replace(tzinfo=NEW_YORK))
    due_by = datetime.fromisoformat(same_day_assessment(care(zoned, someone).json())["due_by"])
    assert due_by == midnight.replace(tzinfo=NEW_YORK)
    assert due_by.utcoffset() == timedelta(hours=offset)


@pytest.mark.parametrize("zoned", ["Pacific/Auckland"], indirect=True)
def test_a_read_keeps_the_zone_it_counted_days_in_and_replays_to_the_same_bytes(
    zoned: Api,
) -> None:
    someone = patient(zoned)
    item9_at(zoned, someone, datetime(2026, 1, 10, 23, 30, tzinfo=ZoneInfo("Pacific/Auckland")))
    read = care(zoned, someone)
    assert read.status_code == 200, read.text
    assert same_day_assessment(read.json())["due_by"] == "2026-01-11T00:00:00+13:00"
    access_id = uuid.UUID(read.headers["X-Access-Id"])
    index = zoned.services.reader.index
    assert index.wait_for(zoned.position())
    record = index.view.access(access_id)
    assert record is not None
    stored = next(iter(zoned.services.clinic.events.get(access_id, lte=1)))
    assert stored.clinic_timezone == "Pacific/Auckland"  # type: ignore[attr-defined]
    replayed = zoned.client.get(
        f"/compliance/access/{access_id}/replay",
        params={"min_position": read.headers["X-Access-Position"]},
        headers=zoned.auth("compliance@test"),
    )
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["matches"] is True


def test_a_zone_that_is_not_one_fails_at_start_up_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TANDEM_CLINIC_TIMEZONE", "Pacific/Atlantis")
    monkeypatch.setenv("TANDEM_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(ValidationError) as refused:
        create_app()
    message = str(refused.value)
    assert "TANDEM_CLINIC_TIMEZONE" in message and "'Pacific/Atlantis'" in message
    assert "IANA time zone" in message
    assert not (tmp_path / "data").exists()  # nothing was opened


def test_unset_the_rules_keep_each_entrys_own_offset_and_the_pages_say_utc(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TANDEM_CLINIC_TIMEZONE", raising=False)
    assert Settings(_env_file=None).clinic_zone is None  # type: ignore[call-arg]
    someone = patient(api)
    # Entered with Honolulu's offset: due by the end of that day in that offset.
    body = {"instrument": "phq-9", "answers": PHQ9_ITEM9, "clinical_time": "2026-03-01T23:30-10:00"}
    found = post(api, "therapist@test", f"/patients/{someone}/questionnaires", body)
    assert found.status_code == 201, found.text
    item = same_day_assessment(care(api, someone).json())
    assert item["due_by"] == "2026-03-02T00:00:00-10:00"
    api.client.cookies.clear()
    assert post_login(api.client, "therapist@test", PASSWORD).status_code == 200
    page = api.client.get(f"/patients/{someone}?min_position={api.position()}")
    text = html.unescape(re.sub(r"<[^>]+>", " ", page.text))
    assert "due by 2026-03-02 10:00 UTC" in text
    assert "2026-03-02 09:30 UTC" in text
