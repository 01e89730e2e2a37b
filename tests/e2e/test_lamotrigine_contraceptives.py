"""Lamotrigine with an estrogen-containing contraceptive, through the API (rule-audit.md,
"lamotrigine inducers"): taken together they raise an alert for the prescriber, whichever
came first, closed by a decision on either; a progestin-only pill raises none; the
contraceptive is not an inducer for the titration. Care reads answered in layout 3 replay
to their bytes without the alert."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from application.audited import access_record
from application.reading import ReadRequest
from domain.access import Viewer
from domain.events import Actor
from projections.role_views import CARE_ITEMS
from tests.e2e.conftest import Api
from tests.e2e.test_api_records import post
from tests.e2e.test_coordination import ago, care
from tests.e2e.test_lithium_lamotrigine_rules import LAMOTRIGINE, _restart, _stopped_lamotrigine
from tests.e2e.test_rule_audit import start, stop, woman

RULE = "lamotrigine-estrogen-contraceptive"
# The rule matches these by name; their codes (the ingredients' RxNorm codes as remembered,
# not looked up) are only what the start requires.
COMBINED_PILL = {
    "drug": "ethinyl estradiol/levonorgestrel",
    "rxnorm": "4124",
    "dose": {"amount": "1", "unit": "tablet"},
    "schedule": {"frequency": "once-daily"},
    "indication": "contraception",
}
PROGESTIN_ONLY_PILL = {
    "drug": "norethindrone",
    "rxnorm": "7514",
    "dose": {"amount": "0.35", "unit": "mg"},
    "schedule": {"frequency": "once-daily"},
    "indication": "contraception",
}


def alerts(api: Api, patient: str, who: str = "prescriber@test") -> list[dict[str, Any]]:
    return [a for a in care(api, who, patient)["alerts"] if a["rule"]["id"] == RULE]


def test_lamotrigine_started_on_a_combined_pill_alerts_the_prescriber(api: Api) -> None:
    patient = woman(api)
    start(api, patient, COMBINED_PILL, days_ago=200)
    start(api, patient, LAMOTRIGINE, days_ago=10)

    [alert] = alerts(api, patient)
    assert alert["open"] is True and alert["severity"] == "moderate"
    assert alert["for_roles"] == ["prescriber"]
    assert alert["title"].startswith("lamotrigine with ethinyl estradiol/levonorgestrel:")
    assert "fall by about half" in alert["title"]
    assert "maintenance dose adjusted" in alert["title"]
    assert alert["rule"]["checked"] is True
    assert "Table 13" in alert["rule"]["source"]


def test_a_combined_pill_started_on_lamotrigine_alerts_too_until_the_dose_is_changed(
    api: Api,
) -> None:
    patient = woman(api)
    lamotrigine = start(api, patient, {**LAMOTRIGINE, "drug": "Lamotrigine"}, days_ago=120)
    start(api, patient, {**COMBINED_PILL, "drug": "ethinylestradiol and desogestrel"}, 20)
    [alert] = alerts(api, patient)
    assert alert["open"] is True

    changed = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications/{lamotrigine}/dose",
        {
            "dose": {"amount": "50", "unit": "mg"},
            "reason": "levels lower on the pill",
            "clinical_time": ago(days=5),
        },
    )
    assert changed.status_code == 201, changed.text
    assert alerts(api, patient) == []


def test_a_progestin_only_pill_raises_no_alert_and_a_combined_one_then_does(api: Api) -> None:
    patient = woman(api)
    progestin = start(api, patient, PROGESTIN_ONLY_PILL, days_ago=200)
    start(api, patient, LAMOTRIGINE, days_ago=60)
    assert alerts(api, patient) == []

    stop(api, patient, progestin, days_ago=15)
    start(api, patient, COMBINED_PILL, days_ago=15)
    [alert] = alerts(api, patient)
    assert "ethinyl estradiol/levonorgestrel" in alert["title"]


def test_a_pill_stopped_before_lamotrigine_started_raises_no_alert(api: Api) -> None:
    patient = woman(api)
    pill = start(api, patient, COMBINED_PILL, days_ago=200)
    stop(api, patient, pill, days_ago=30)
    start(api, patient, LAMOTRIGINE, days_ago=10)
    assert alerts(api, patient) == []

    # Restarted while lamotrigine is taken, it alerts.
    start(api, patient, COMBINED_PILL, days_ago=2)
    assert len(alerts(api, patient)) == 1


def test_the_pill_is_not_an_inducer_for_a_restart(api: Api) -> None:
    """An inducer shortens the half-life to 12.6 h (5 half-lives: 2.6 days) and starts the
    titration at 50 mg/day; the pill does neither: 4 days off resumes at the old dose."""
    patient = woman(api)
    start(api, patient, COMBINED_PILL, days_ago=300)
    _stopped_lamotrigine(api, patient, days_off=4)
    resumed = _restart(api, patient, "200")
    assert resumed.status_code == 201, resumed.text


def test_a_care_read_answered_in_layout_3_replays_without_the_alert(api: Api) -> None:
    patient = woman(api)
    start(api, patient, COMBINED_PILL, days_ago=200)
    start(api, patient, LAMOTRIGINE, days_ago=10)
    user = api.services.clinic.find_user("prescriber@test")
    assert user is not None
    viewer = Viewer(user.email, user.role, user.organisation, user.patient_id)
    request = ReadRequest(viewer, UUID(patient), CARE_ITEMS, min_position=api.position())

    prepared = api.services.reader.prepare(request, view_format=3)
    actor = Actor(user_id=user.email, role=user.role, organisation=user.organisation)
    record = access_record(request, prepared, actor)
    api.services.writer.create(record)
    assert RULE not in {a["rule"]["id"] for a in json.loads(prepared.body)["alerts"]}
    assert api.services.reader.replay(record.id).matches

    read = api.client.get(
        f"/patients/{patient}/care",
        params={"min_position": api.position()},
        headers=api.auth("prescriber@test"),
    )
    assert read.status_code == 200, read.text
    assert RULE in {a["rule"]["id"] for a in read.json()["alerts"]}
    assert api.services.reader.replay(UUID(read.headers["X-Access-Id"])).matches
