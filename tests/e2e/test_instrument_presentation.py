"""How questionnaire scores are presented, over HTTP: a screen (AUDIT-C, ASRS, C-SSRS) gives
its result or triage level and no response or remission wording; every score names the
scoring version and cut-off it was scored by. All data synthetic."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta
from typing import Any

from domain.events import now
from tests.builders import post_login
from tests.e2e.conftest import PASSWORD, Api
from tests.e2e.test_api_records import PATIENT, post


def ago(**delta: float) -> str:
    return (now() - timedelta(**delta)).isoformat()


def patient(api: Api, sex_at_birth: str = "female") -> str:
    body = {
        **PATIENT,
        "mrn": f"S-{uuid.uuid4().hex[:8]}",
        "sex_at_birth": sex_at_birth,
        "clinical_time": ago(days=60),
    }
    answer = post(api, "therapist@test", "/patients", body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["patient_id"])


def answer(
    api: Api, patient_id: str, instrument: str, answers: dict[str, int], **when: float
) -> None:
    body = {"instrument": instrument, "answers": answers, "clinical_time": ago(**when)}
    found = post(api, "therapist@test", f"/patients/{patient_id}/questionnaires", body)
    assert found.status_code == 201, found.text


def outcomes(api: Api, patient_id: str) -> dict[str, Any]:
    found = api.client.get(
        f"/patients/{patient_id}/outcomes",
        params={"min_position": api.position()},
        headers=api.auth("therapist@test"),
    )
    assert found.status_code == 200, found.text
    body: dict[str, Any] = found.json()
    return body


def page_text(api: Api, patient_id: str) -> str:
    api.client.cookies.clear()
    signed_in = post_login(api.client, "therapist@test", PASSWORD)
    assert signed_in.status_code == 200, signed_in.text
    found = api.client.get(f"/patients/{patient_id}?min_position={api.position()}")
    assert found.status_code == 200, found.text[:2000]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.text)))


def card(text: str, heading: str) -> str:
    """The outcome card's text, from its heading to the next card's."""
    start = text.index(heading, text.index("Outcomes"))
    end = text.find(" as a table", start)
    return text[start:end]


def test_a_negative_audit_c_screen_says_negative_and_nothing_of_response(api: Api) -> None:
    someone = patient(api, "female")
    answer(api, someone, "audit-c", {"1": 1, "2": 1, "3": 0}, days=20)
    answer(api, someone, "audit-c", {"1": 1, "2": 0, "3": 0}, days=1)
    series = outcomes(api, someone)["series"]["audit-c"]
    assert series["screening"] is True
    assert series["screen_result"] == "negative"
    for said in ("response", "remission", "change", "reliable"):
        assert said not in series
    assert series["latest_cutoff"] == 3
    assert series["latest_cutoff_basis"] == "sex at birth female"
    assert [p["rules_version"] for p in series["points"]] == ["1", "1"]

    shown = card(page_text(api, someone), "AUDIT-C")
    assert "Screen negative (score 1)." in shown
    assert "cut-off 3 (sex at birth female)" in shown
    assert "response" not in shown.lower() and "remission" not in shown.lower()
    assert "Not a response yet" not in shown


def test_the_cssrs_triage_level_shows_to_the_therapist(api: Api) -> None:
    someone = patient(api)
    moderate = {"1": 1, "2": 1, "3": 1, "4": 0, "5": 0, "6": 0}
    answer(api, someone, "c-ssrs-screener", moderate, hours=3)
    series = outcomes(api, someone)["series"]["c-ssrs-screener"]
    assert series["triage_level"] == "moderate"
    assert "response" not in series and "screen_result" not in series

    shown = card(page_text(api, someone), "C-SSRS screener")
    assert "Triage level: moderate risk: assessment by the treating clinician within the day." in (
        shown
    )
    assert "C-SSRS screener triage (high, moderate, low)" in shown  # what it was scored by

    negative = patient(api)
    answer(api, negative, "c-ssrs-screener", {"1": 0, "2": 0, "6": 0}, hours=2)
    shown = card(page_text(api, negative), "C-SSRS screener")
    assert "Triage level: no suicidal thoughts or behaviour reported." in shown


def test_a_pcl5_score_shows_its_cutoff_source_and_scoring_version(api: Api) -> None:
    someone = patient(api)
    answers = {str(n): 2 for n in range(1, 21)}  # total 40
    answer(api, someone, "pcl-5", answers, days=1)
    series = outcomes(api, someone)["series"]["pcl-5"]
    latest = series["points"][-1]
    assert (latest["total"], latest["band"]) == (40, "positive")
    assert latest["rules_version"] == "2"
    assert latest["cutoff"] == 31
    assert "National Center for PTSD" in latest["cutoff_source"]
    assert "31-33" in latest["cutoff_source"]
    assert series["screening"] is False and "response" in series  # not a screen: change counts

    events = api.client.get(
        f"/patients/{someone}/events",
        params={"min_position": api.position()},
        headers=api.auth("therapist@test"),
    )
    assert events.status_code == 200, events.text
    stored = [e for e in events.json()["entries"] if e["kind"] == "QuestionnaireAnswered"]
    assert [e["payload"]["scoring_version"] for e in stored] == ["2"]  # recorded with it

    shown = card(page_text(api, someone), "PCL-5")
    assert "Scored by scoring rules v2, cut-off 31; source: National Center for PTSD" in shown
    assert "v2, cut-off 31" in page_text(api, someone)  # in the table of points too
