"""Corrections through the API (issue 13, item 3): a clinical entry marked entered in error
or amended, with a reason and its author; the original stays in the log. Views, the chart's
data, the rules and the events list respect it; a refusal names its field and appends
nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app as cli_app
from domain.audit import AccessRecorded
from tests.builders import appended_since, post_login
from tests.e2e.conftest import PASSWORD, Api
from tests.e2e.test_api_records import post
from tests.e2e.test_as_of import get
from tests.e2e.test_coordination import ago, patient_with_team
from tests.e2e.test_lab_units import LITHIUM, order, result, trough_items
from tests.e2e.test_lab_units import start as start_medication

SERTRALINE = {
    "drug": "sertraline",
    "rxnorm": "36437",
    "dose": {"amount": "25", "unit": "mg"},
    "schedule": {"frequency": "once-daily"},
    "indication": "major depression",
    "clinical_time": ago(days=30),
}


def view(api: Api, who: str, patient: str, path: str = "") -> dict[str, Any]:
    answer = api.client.get(
        f"/patients/{patient}{path}",
        params={"min_position": api.position()},
        headers=api.auth(who),
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def version_of(api: Api, patient: str, kind: str, who: str = "prescriber@test") -> int:
    """The record version of the patient's latest entry of `kind`."""
    entries = view(api, who, patient, "/events")["entries"]
    return int([e for e in entries if e["kind"] == kind][-1]["version"])


def mark_in_error(
    api: Api, who: str, patient: str, version: int, reason: str | None = "wrong patient chart"
) -> Any:
    body: dict[str, Any] = {"entry_version": version}
    if reason is not None:
        body["reason"] = reason
    return post(api, who, f"/patients/{patient}/entered-in-error", body)


def sertraline_raised_to_100(api: Api) -> tuple[str, str]:
    patient = patient_with_team(api)
    started = post(api, "prescriber@test", f"/patients/{patient}/medications", SERTRALINE)
    assert started.status_code == 201, started.text
    med = str(started.json()["created_id"])
    changed = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications/{med}/dose",
        {
            "dose": {"amount": "100", "unit": "mg"},
            "reason": "meant 50",
            "clinical_time": ago(days=2),
        },
    )
    assert changed.status_code == 201, changed.text
    return patient, med


def test_an_errored_dose_leaves_the_medication_list_and_the_chart_and_stays_in_the_events(
    api: Api,
) -> None:
    patient, med = sertraline_raised_to_100(api)
    assert view(api, "prescriber@test", patient)["medications"][0]["dose"]["amount"] == "100"
    dose_version = version_of(api, patient, "DoseChanged")

    answer = mark_in_error(api, "prescriber@test", patient, dose_version)
    assert answer.status_code == 201, answer.text

    # The current medication list is back to the dose before the error...
    meds = view(api, "prescriber@test", patient)["medications"]
    assert [m["dose"]["amount"] for m in meds] == ["25"]
    # ...and so is the dose chart's data: only the start's dose is drawn.
    line = view(api, "prescriber@test", patient, "/medication-timeline")["medication_timeline"][0]
    assert [d["dose"]["amount"] for d in line["doses"]] == ["25"]
    # The page's chart and table say 25 mg, not 100 mg.
    page = api.client.get(f"/patients/{patient}", headers=api.auth("prescriber@test"))
    assert page.status_code == 200
    # The events list still holds the original, marked, and the correction after it.
    entries = view(api, "prescriber@test", patient, "/events")["entries"]
    original = next(e for e in entries if e["version"] == dose_version)
    assert original["payload"]["dose"]["amount"] == "100"
    assert original["correction"]["status"] == "entered-in-error"
    assert original["correction"]["reason"] == "wrong patient chart"
    assert original["correction"]["by"] == "prescriber@test"
    assert entries[0]["kind"] == "EntryMarkedInError"  # newest first
    assert entries[0]["data_class"] == "medication"
    # A later dose change is checked against the dose that stands (25 mg), and recorded.
    again = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications/{med}/dose",
        {"dose": {"amount": "50", "unit": "mg"}, "reason": "as intended"},
    )
    assert again.status_code == 201, again.text
    meds = view(api, "prescriber@test", patient)["medications"]
    assert [m["dose"]["amount"] for m in meds] == ["50"]


def test_tandem_events_still_lists_the_errored_original(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient, _ = sertraline_raised_to_100(api)
    dose_version = version_of(api, patient, "DoseChanged")
    assert mark_in_error(api, "prescriber@test", patient, dose_version).status_code == 201
    view(api, "prescriber@test", patient)  # the index has the correction
    monkeypatch.setenv("TANDEM_DATA_DIR", str(tmp_path / "data"))  # the api fixture's store
    found = CliRunner().invoke(
        cli_app, ["events", patient, "--user", "prescriber@test", "--reason", "audit", "--json"]
    )
    assert found.exit_code == 0, found.output
    lines = [line for line in found.output.splitlines() if line.startswith("{")]
    listed = [json.loads(line) for line in lines]
    original = next(e for e in listed if e["version"] == dose_version)
    assert original["kind"] == "DoseChanged"
    assert original["correction"]["status"] == "entered-in-error"


def test_an_errored_lab_result_brings_the_monitoring_item_back(api: Api) -> None:
    patient = patient_with_team(api)
    start_medication(api, patient, LITHIUM)
    due = {i["key"] for i in trough_items(api, patient)}
    assert due  # the first trough is due
    order_id = order(api, patient, "14334-7")
    taken = result(api, patient, order_id, "14334-7", "0.7", "mmol/L")
    assert taken.status_code == 201, taken.text
    met = due - {i["key"] for i in trough_items(api, patient)}
    assert met  # the trough the result was for no longer waits

    result_version = version_of(api, patient, "LabResulted")
    answer = mark_in_error(api, "prescriber@test", patient, result_version)
    assert answer.status_code == 201, answer.text

    back = {i["key"]: i for i in trough_items(api, patient)}
    assert met <= set(back) and all(back[k]["met_at"] is None for k in met)
    # The order is open again: the right result can be recorded on it, and meets the item.
    again = result(api, patient, order_id, "14334-7", "0.7", "mmol/L")
    assert again.status_code == 201, again.text
    assert met.isdisjoint({i["key"] for i in trough_items(api, patient)})


def test_a_correction_without_a_reason_is_refused_naming_reason_and_appends_nothing(
    api: Api,
) -> None:
    patient, _ = sertraline_raised_to_100(api)
    dose_version = version_of(api, patient, "DoseChanged")
    before = api.position()

    for reason in (None, "", "   "):
        answer = mark_in_error(api, "prescriber@test", patient, dose_version, reason)
        assert answer.status_code == 422, answer.text
        assert [f["field"] for f in answer.json()["fields"]] == ["reason"], answer.json()
    amend = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/amendments",
        {"entry_version": dose_version, "changes": {"reason": "tolerating"}},
    )
    assert amend.status_code == 422, amend.text
    assert [f["field"] for f in amend.json()["fields"]] == ["reason"]
    assert appended_since(api.services.clinic, before) == []


def test_corrections_refused_name_the_field_and_append_nothing(api: Api) -> None:
    patient, _ = sertraline_raised_to_100(api)
    dose_version = version_of(api, patient, "DoseChanged")
    before = api.position()

    # A therapist may not mark a prescriber's dose in error.
    by_therapist = mark_in_error(api, "therapist@test", patient, dose_version)
    assert by_therapist.status_code == 403, by_therapist.text
    assert [f["field"] for f in by_therapist.json()["fields"]] == ["actor.role"]
    # Someone off the team may not either (told only 403).
    assert mark_in_error(api, "other.therapist@test", patient, dose_version).status_code == 403
    # The registration is no clinical entry; a version the record does not have neither.
    for version in (1, 999):
        wrong = mark_in_error(api, "prescriber@test", patient, version)
        assert wrong.status_code == 422, wrong.text
        assert [f["field"] for f in wrong.json()["fields"]] == ["entry_version"]
    # A dose is not amended (its checks would not run again): marked in error instead.
    amend = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/amendments",
        {"entry_version": dose_version, "reason": "typo", "changes": {"dose": {"amount": "5"}}},
    )
    assert amend.status_code == 422, amend.text
    assert [f["field"] for f in amend.json()["fields"]] == ["changes.dose"]
    assert appended_since(api.services.clinic, before) == []

    # Errored once, it cannot be errored again (409 on entry_version), nor amended.
    assert mark_in_error(api, "prescriber@test", patient, dose_version).status_code == 201
    before = api.position()
    twice = mark_in_error(api, "prescriber@test", patient, dose_version)
    assert twice.status_code == 409, twice.text
    assert [f["field"] for f in twice.json()["fields"]] == ["entry_version"]
    assert appended_since(api.services.clinic, before) == []


def test_an_amended_note_reads_as_amended_with_its_reason(api: Api) -> None:
    patient = patient_with_team(api)
    wrote = post(
        api, "therapist@test", f"/patients/{patient}/progress-notes", {"text": "Sleep poor."}
    )
    assert wrote.status_code == 201, wrote.text
    note = version_of(api, patient, "ProgressNoteWritten", who="therapist@test")

    amended = post(
        api,
        "therapist@test",
        f"/patients/{patient}/amendments",
        {
            "entry_version": note,
            "reason": "dictation error",
            "changes": {"text": "Sleep improving."},
        },
    )
    assert amended.status_code == 201, amended.text
    timeline = view(api, "therapist@test", patient, "/timeline")["entries"]
    shown = next(e for e in timeline if e["version"] == note)
    assert shown["correction"]["status"] == "amended"
    assert shown["correction"]["reason"] == "dictation error"
    assert shown["summary"] == "progress note: Sleep improving."
    # The events list keeps the note as it was written.
    events = view(api, "therapist@test", patient, "/events")["entries"]
    assert next(e for e in events if e["version"] == note)["payload"]["text"] == "Sleep poor."
    # The prescriber (another role) may not amend the therapist's note.
    other = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/amendments",
        {"entry_version": note, "reason": "x", "changes": {"text": "y"}},
    )
    assert other.status_code == 403, other.text


def test_the_patient_page_offers_the_correction_and_strikes_the_entry_through(api: Api) -> None:
    patient, _ = sertraline_raised_to_100(api)
    dose_version = version_of(api, patient, "DoseChanged")
    assert post_login(api.client, "prescriber@test", PASSWORD).status_code == 200
    page = api.client.get(f"/patients/{patient}", params={"min_position": api.position()}).text
    assert 'id="form-correct"' in page and 'id="form-amend"' in page
    assert f'<option value="{dose_version}"' in page
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert token is not None

    before = api.position()
    refused = api.client.post(
        f"/patients/{patient}/forms/correct",
        data={"csrf": token.group(1), "entry_version": str(dose_version), "reason": ""},
    )
    assert refused.status_code == 422, refused.text[:2000]
    assert 'id="correct-reason-error"' in refused.text
    # Nothing recorded but the reads that show the page again.
    assert set(appended_since(api.services.clinic, before)) <= {AccessRecorded}

    done = api.client.post(
        f"/patients/{patient}/forms/correct",
        data={
            "csrf": token.group(1),
            "entry_version": str(dose_version),
            "reason": "charted for the wrong patient",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text[:2000]
    shown = api.client.get(done.headers["location"]).text
    row = next(r for r in re.findall(r"<tr[^>]*>.*?</tr>", shown, re.S) if "entered-in-error" in r)
    assert "<del>" in row and "charted for the wrong patient" in row
    assert f"<td>{dose_version}</td>" in row
    # The entry is no longer offered for correction.
    assert f'<option value="{dose_version}"' not in shown


def test_reads_before_and_after_a_correction_replay_exactly(api: Api) -> None:
    patient, _ = sertraline_raised_to_100(api)
    dose_version = version_of(api, patient, "DoseChanged")
    reads = []
    for path in ("/view", "/medication-timeline", "/care", "/timeline"):
        reads.append(get(api, "prescriber@test", f"/patients/{patient}{path}"))
    assert mark_in_error(api, "prescriber@test", patient, dose_version).status_code == 201
    for path in ("/view", "/medication-timeline", "/care", "/timeline"):
        reads.append(
            get(api, "prescriber@test", f"/patients/{patient}{path}", min_position=api.position())
        )
    assert reads[0].json() != reads[4].json()  # the correction shows in the later read
    for read in reads:
        assert read.status_code == 200, read.text
        replay = get(
            api,
            "compliance@test",
            f"/compliance/access/{read.headers['X-Access-Id']}/replay",
            min_position=read.headers["X-Access-Position"],
        )
        assert replay.status_code == 200 and replay.json()["matches"] is True, replay.text
