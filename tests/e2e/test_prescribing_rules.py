"""The rule-audit's prescribing rules over HTTP (issue 13, item 8, part B): suicidality
monitoring for every antidepressant and for atomoxetine, the stimulant misuse
assessment, periodic urine tests on buprenorphine, an opioid with a CNS depressant
(warned about, never withheld), naloxone with opioid use disorder treatment, citalopram
and the QT interval, serotonin-syndrome combinations, and the prescription-monitoring
program (PDMP) check with the clinic's state. Each case on a patient of its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from application.reading import CARE_ITEMS, ReadRequest, viewer_of
from bootstrap import bootstrap_services
from bootstrap.settings import Settings
from domain.events import Actor
from tests.builders import appended_since, create_user
from tests.e2e.conftest import PASSWORD, USERS, Api
from tests.e2e.test_api_records import post
from tests.e2e.test_coordination import ago, care, patient_with_team

# The clinic's PDMP state: Alabama's row asks for a check twice a year.
CLINIC_STATE = "AL"


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, password_hash: str) -> Iterator[Api]:
    data_dir = Path(tmp_path_factory.mktemp("prescribing")) / "d"
    services = bootstrap_services(Settings(data_dir=data_dir, pdmp_state=CLINIC_STATE))
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
        for email in ("therapist@test", "prescriber@test"):
            answer = client.post("/auth/token", data={"username": email, "password": PASSWORD})
            tokens[email] = answer.json()["access_token"]
        yield Api(client, services, tokens)


def medication(drug: str, rxnorm: str, amount: str, **extra: Any) -> dict[str, Any]:
    return {
        "drug": drug,
        "rxnorm": rxnorm,
        "dose": {"amount": amount, "unit": "mg"},
        "schedule": {"frequency": "once-daily"},
        "indication": "treatment",
        **extra,
    }


MIRTAZAPINE = medication("mirtazapine", "15996", "15")
BUPROPION = medication("bupropion", "42347", "150")
ATOMOXETINE = medication("atomoxetine", "38400", "40")
METHYLPHENIDATE = medication("methylphenidate", "6901", "18")
BUPRENORPHINE = medication(
    "buprenorphine/naloxone",
    "1819",
    "8",
    route="sublingual",
    indication="opioid use disorder",
)
LORAZEPAM = medication("lorazepam", "6470", "1")
SERTRALINE = medication("sertraline", "36437", "50")
TRAMADOL = medication("tramadol", "10689", "100")
NALOXONE = {
    **medication("naloxone", "7242", "4", route="nasal"),
    "schedule": {"frequency": "as-needed"},
    "indication": "opioid overdose",
}


def start(api: Api, patient: str, body: dict[str, Any], days: float) -> str:
    started = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications",
        {**body, "clinical_time": ago(days=days)},
    )
    assert started.status_code == 201, started.text
    return str(started.json()["created_id"])


def items(
    api: Api, patient: str, rule_id: str, *, titled: str = "", section: str = ""
) -> list[dict[str, Any]]:
    """The rule's unmet items (due, overdue, upcoming: a met item leaves the view), or
    those of one section, whose title holds `titled`."""
    body = care(api, "prescriber@test", patient)
    found = body[section] if section else body["due"] + body["overdue"] + body["upcoming"]
    return [i for i in found if i["rule"]["id"] == rule_id and titled in i["title"]]


def alerts(api: Api, patient: str, rule_id: str) -> list[dict[str, Any]]:
    return [
        a for a in care(api, "prescriber@test", patient)["alerts"] if a["rule"]["id"] == rule_id
    ]


# --- suicidality: every antidepressant, every age, every dose change ----------------------


def test_a_40_year_old_started_on_mirtazapine_gets_the_suicidality_contact(shared: Api) -> None:
    patient = patient_with_team(shared, birth_date="1986-05-01")
    start(shared, patient, MIRTAZAPINE, days=3)
    [contact] = items(shared, patient, "antidepressant-contact")
    assert contact["status"] == "due" and contact["kind"] == "contact"
    assert contact["title"].startswith("mirtazapine: contact (suicidality warning")
    assert contact["rule"]["checked"] is True
    assert [v["title"] for v in items(shared, patient, "antidepressant-early-visits")] == [
        "mirtazapine: visit (suicidality warning: first months) (monthly, first 3 months)"
    ]
    # Not the under-25 rows: the patient is 40.
    assert items(shared, patient, "ssri-under-25-contact") == []


def test_a_dose_change_of_bupropion_brings_a_contact_of_its_own(shared: Api) -> None:
    patient = patient_with_team(shared, birth_date="1980-01-10")
    medication_id = start(shared, patient, BUPROPION, days=40)
    [after_start] = items(shared, patient, "antidepressant-contact")
    assert after_start["status"] == "overdue"

    changed = post(
        shared,
        "prescriber@test",
        f"/patients/{patient}/medications/{medication_id}/dose",
        {
            "dose": {"amount": "300", "unit": "mg"},
            "reason": "partial response",
            "clinical_time": ago(days=1),
        },
    )
    assert changed.status_code == 201, changed.text
    contacts = items(shared, patient, "antidepressant-contact")
    assert sorted(c["status"] for c in contacts) == ["due", "overdue"]


def test_atomoxetine_for_a_15_year_old_brings_the_suicidal_ideation_watch(shared: Api) -> None:
    young = patient_with_team(shared, birth_date="2011-06-01")
    start(shared, young, ATOMOXETINE, days=2)
    [contact] = items(shared, young, "atomoxetine-under-18-contact")
    assert contact["status"] == "due" and "suicidal ideation" in contact["title"]
    assert len(items(shared, young, "atomoxetine-under-18-visit")) == 1

    adult = patient_with_team(shared, birth_date="1990-06-01")
    start(shared, adult, ATOMOXETINE, days=2)
    assert items(shared, adult, "atomoxetine-under-18-contact") == []


# --- stimulants ----------------------------------------------------------------------------


def test_a_stimulant_start_without_a_misuse_assessment_has_it_overdue(shared: Api) -> None:
    unassessed = patient_with_team(shared)
    start(shared, unassessed, METHYLPHENIDATE, days=2)
    [before] = items(shared, unassessed, "stimulant-misuse-assessment", titled="before prescribing")
    assert before["status"] == "overdue"

    assessed = patient_with_team(shared)
    evaluation = post(
        shared,
        "prescriber@test",
        f"/patients/{assessed}/evaluations",
        {
            "symptom_history": "ADHD; no substance misuse, no diversion risk",
            "clinical_time": ago(days=5),
        },
    )
    assert evaluation.status_code == 201, evaluation.text
    start(shared, assessed, METHYLPHENIDATE, days=2)
    # Met before prescribing; what is left is the next, six-monthly during therapy.
    [upcoming] = items(shared, assessed, "stimulant-misuse-assessment")
    assert "every 6 months" in upcoming["title"] and upcoming["status"] == "due"


# --- buprenorphine ------------------------------------------------------------------------


def test_buprenorphine_at_five_weeks_with_only_a_baseline_urine_test_has_tests_due(
    shared: Api,
) -> None:
    patient = patient_with_team(shared)
    order = post(
        shared,
        "prescriber@test",
        f"/patients/{patient}/lab-orders",
        {
            "loinc": "19295-5",
            "test_name": "urine drug screen",
            "reason": "baseline",
            "clinical_time": ago(days=36),
        },
    )
    assert order.status_code == 201, order.text
    result = post(
        shared,
        "prescriber@test",
        f"/patients/{patient}/lab-orders/{order.json()['created_id']}/results",
        {
            "loinc": "19295-5",
            "test_name": "urine drug screen",
            "value_text": "buprenorphine only",
            "clinical_time": ago(days=35, hours=1),
        },
    )
    assert result.status_code == 201, result.text
    start(shared, patient, BUPRENORPHINE, days=35)

    tests = items(shared, patient, "buprenorphine-urine-drug-test")
    # The baseline is met (and so not shown); the four weekly tests are overdue, the
    # first monthly one due.
    assert not any("baseline" in t["title"] for t in tests)
    overdue = [t for t in tests if t["status"] == "overdue"]
    assert len(overdue) == 4 and all("weekly" in t["title"] for t in overdue)
    due = items(shared, patient, "buprenorphine-urine-drug-test", section="due")
    assert [t["title"] for t in due] == ["buprenorphine/naloxone: urine drug test (monthly)"]
    assert tests[0]["rule"]["checked"] is True


def test_buprenorphine_with_lorazepam_warns_the_prescriber_and_is_not_withheld(shared: Api) -> None:
    patient = patient_with_team(shared)
    start(shared, patient, LORAZEPAM, days=10)
    buprenorphine = start(shared, patient, BUPRENORPHINE, days=3)  # recorded, not refused

    [alert] = alerts(shared, patient, "opioid-with-cns-depressant")
    assert alert["severity"] == "high" and alert["open"] is True
    assert alert["for_roles"] == ["prescriber"]
    assert alert["title"].startswith("buprenorphine/naloxone with lorazepam:")
    assert "Do not withhold buprenorphine" in alert["title"]

    # A plan closes it: the prescriber's reassessment of the buprenorphine.
    planned = post(
        shared,
        "prescriber@test",
        f"/patients/{patient}/medications/{buprenorphine}/reassessment",
        {
            "assessment": "Continue; lorazepam taper agreed with her GP",
            "decision": "continue",
            "clinical_time": ago(days=1),
        },
    )
    assert planned.status_code == 201, planned.text
    assert alerts(shared, patient, "opioid-with-cns-depressant") == []


# --- naloxone ------------------------------------------------------------------------------


def test_opioid_use_disorder_treatment_has_naloxone_due_until_a_discussion_is_recorded(
    shared: Api,
) -> None:
    patient = patient_with_team(shared)
    start(shared, patient, BUPRENORPHINE, days=1)
    # Buprenorphine/naloxone itself is no naloxone for overdose.
    [due] = items(shared, patient, "oud-naloxone", section="due")
    assert due["title"].endswith("naloxone discussed or prescribed (at the start)")

    discussed = post(
        shared,
        "therapist@test",
        f"/patients/{patient}/naloxone-discussions",
        {"outcome": "has-naloxone", "note": "Kit at home; partner shown how to use it"},
    )
    assert discussed.status_code == 201, discussed.text
    # Met at the start; the renewal is what is left.
    [renewal] = items(shared, patient, "oud-naloxone")
    assert "at renewal" in renewal["title"]


def test_a_naloxone_prescription_also_closes_the_naloxone_item(shared: Api) -> None:
    patient = patient_with_team(shared)
    start(shared, patient, BUPRENORPHINE, days=1)
    start(shared, patient, NALOXONE, days=0.5)
    [renewal] = items(shared, patient, "oud-naloxone")
    assert "at renewal" in renewal["title"]


def test_a_naloxone_discussion_names_a_bad_outcome_and_appends_nothing(shared: Api) -> None:
    patient = patient_with_team(shared)
    before = shared.position()
    refused = post(
        shared, "prescriber@test", f"/patients/{patient}/naloxone-discussions", {"outcome": "maybe"}
    )
    assert refused.status_code == 422
    assert "outcome" in refused.text
    assert appended_since(shared.services.clinic, before) == []


# --- citalopram and the QT interval -------------------------------------------------------


def test_citalopram_60_mg_a_day_raises_the_qt_warning_and_an_ecg(shared: Api) -> None:
    patient = patient_with_team(shared, birth_date="1985-03-01")
    start(
        shared,
        patient,
        {**medication("citalopram", "2556", "60"), "override_reason": "previous response at 60 mg"},
        days=2,
    )
    [alert] = alerts(shared, patient, "citalopram-qt")
    assert "60 mg/day above 40 mg/day" in alert["title"] and alert["severity"] == "high"
    [ecg] = items(shared, patient, "citalopram-qt")
    assert ecg["kind"] == "lab" and "ECG" in ecg["title"] and ecg["status"] == "due"


def test_citalopram_40_mg_at_65_raises_it_and_at_40_does_not(shared: Api) -> None:
    older = patient_with_team(shared, birth_date="1961-01-15")
    start(shared, older, medication("citalopram", "2556", "40"), days=2)
    [alert] = alerts(shared, older, "citalopram-qt")
    assert "40 mg/day above 20 mg/day (age 65, over 60)" in alert["title"]

    younger = patient_with_team(shared, birth_date="1986-01-15")
    start(shared, younger, medication("citalopram", "2556", "40"), days=2)
    assert alerts(shared, younger, "citalopram-qt") == []


def test_citalopram_with_atrial_fibrillation_recorded_raises_it(shared: Api) -> None:
    patient = patient_with_team(shared, birth_date="1986-01-15")
    start(shared, patient, medication("citalopram", "2556", "20"), days=5)
    recorded = post(
        shared,
        "prescriber@test",
        f"/patients/{patient}/conditions",
        {
            "icd10": "I48.0",
            "description": "Paroxysmal atrial fibrillation",
            "clinical_time": ago(days=1),
        },
    )
    assert recorded.status_code == 201, recorded.text
    [alert] = alerts(shared, patient, "citalopram-qt")
    assert "Paroxysmal atrial fibrillation (I48.0) recorded" in alert["title"]


# --- serotonin syndrome ------------------------------------------------------------------------


def test_sertraline_with_tramadol_alerts(shared: Api) -> None:
    patient = patient_with_team(shared)
    start(shared, patient, SERTRALINE, days=20)
    start(shared, patient, TRAMADOL, days=1)
    [alert] = alerts(shared, patient, "serotonin-ssri-snri-combination")
    assert alert["title"].startswith("sertraline with tramadol: serotonin syndrome risk")
    assert alert["rule"]["checked"] is False  # the label section was not read


def test_an_maoi_with_a_serotonergic_drug_alerts(shared: Api) -> None:
    patient = patient_with_team(shared)
    start(shared, patient, medication("phenelzine", "8123", "15"), days=20)
    start(shared, patient, medication("sumatriptan", "37418", "50"), days=1)
    [alert] = alerts(shared, patient, "serotonin-maoi-combination")
    assert alert["severity"] == "high" and "phenelzine with sumatriptan" in alert["title"]


# --- the prescription-monitoring program check ------------------------------------------------


def test_a_lorazepam_start_without_a_pdmp_check_has_it_due_until_one_is_recorded(
    shared: Api,
) -> None:
    patient = patient_with_team(shared)
    start(shared, patient, LORAZEPAM, days=1)
    [check] = items(shared, patient, "pdmp-check", titled="before starting")
    assert check["status"] == "overdue"
    assert check["kind"] == "assessment"

    recorded = post(
        shared,
        "prescriber@test",
        f"/patients/{patient}/prescription-monitoring-checks",
        {"findings": "no-concerns"},
    )
    assert recorded.status_code == 201, recorded.text
    # Met; the next check is recorded's state's (the clinic's TANDEM_PDMP_STATE):
    # six-monthly.
    [renewal] = items(shared, patient, "pdmp-check")
    assert "every 182 days (AL)" in renewal["title"] and renewal["status"] == "due"
    [event] = [
        e
        for _, e in shared.services.clinic.all_events(start=recorded.json()["position"])
        if type(e).__name__ == "PrescriptionMonitoringChecked"
    ]
    assert event.state == CLINIC_STATE


def test_only_a_prescriber_records_a_pdmp_check_and_a_bad_state_is_refused(shared: Api) -> None:
    patient = patient_with_team(shared)
    before = shared.position()
    by_therapist = post(
        shared,
        "therapist@test",
        f"/patients/{patient}/prescription-monitoring-checks",
        {"findings": "no-concerns"},
    )
    assert by_therapist.status_code == 403, by_therapist.text
    foreign = post(
        shared,
        "prescriber@test",
        f"/patients/{patient}/prescription-monitoring-checks",
        {"findings": "no-concerns", "state": "ZZ"},
    )
    assert foreign.status_code == 422, foreign.text
    assert [f["field"] for f in foreign.json()["fields"]] == ["state"]
    assert "not a US state" in foreign.text
    assert appended_since(shared.services.clinic, before) == []


def test_a_pdmp_state_setting_that_is_no_state_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="pdmp_state"):
        Settings(pdmp_state="ZZ")


# --- replays ---------------------------------------------------------------------------------


def test_an_answer_in_the_previous_layout_is_rebuilt_with_the_rules_it_was_given_with(
    shared: Api,
) -> None:
    """A care read answered before these rules (layout 2) is rebuilt without them, so its
    replay matches; one answered now (layout 3) has them, and replays too."""
    patient = patient_with_team(shared, birth_date="1986-05-01")
    start(shared, patient, MIRTAZAPINE, days=3)
    user = shared.services.clinic.find_user("prescriber@test")
    assert user is not None
    request = ReadRequest(
        viewer_of(user), UUID(patient), CARE_ITEMS, min_position=shared.position()
    )

    def rule_ids(view_format: int) -> set[str]:
        body = json.loads(shared.services.reader.prepare(request, view_format=view_format).body)
        return {i["rule"]["id"] for i in body["due"] + body["overdue"] + body["upcoming"]}

    assert "antidepressant-contact" in rule_ids(3)
    assert "antidepressant-contact" not in rule_ids(2)

    read = shared.client.get(
        f"/patients/{patient}/care",
        params={"min_position": shared.position()},
        headers=shared.auth("prescriber@test"),
    )
    assert read.status_code == 200
    replayed = shared.services.reader.replay(UUID(read.headers["X-Access-Id"]))
    assert replayed.matches
