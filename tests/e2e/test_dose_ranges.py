"""Dose ranges as versioned data, and who orders what, through the API: each refusal names
the field and the reason and appends nothing; an override is recorded and shown on the
timeline and the board."""

from __future__ import annotations

from typing import Any

from tests.builders import appended_since
from tests.e2e.conftest import Api
from tests.e2e.test_api_records import post
from tests.e2e.test_coordination import ago, board, entry, patient_with_team


def medication(
    drug: str,
    rxnorm: str,
    amount: str,
    *,
    unit: str = "mg",
    frequency: str = "once-daily",
    **more: Any,
) -> dict[str, Any]:
    return {
        "drug": drug,
        "rxnorm": rxnorm,
        "dose": {"amount": amount, "unit": unit},
        "schedule": {"frequency": frequency},
        "indication": "synthetic indication",
        "clinical_time": ago(days=30),
        **more,
    }


def sertraline(amount: str, **more: Any) -> dict[str, Any]:
    return medication("sertraline", "36437", amount, **more)


def start(api: Api, patient: str, body: dict[str, Any], who: str = "prescriber@test") -> Any:
    return post(api, who, f"/patients/{patient}/medications", body)


def started(api: Api, patient: str, body: dict[str, Any]) -> str:
    answer = start(api, patient, body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["created_id"])


def refused(api: Api, answer: Any, before: int, status: int, field: str) -> str:
    assert answer.status_code == status, answer.text
    fields = answer.json()["fields"]
    assert [f["field"] for f in fields] == [field], fields
    assert appended_since(api.services.clinic, before) == []
    return str(fields[0]["reason"])


def events(api: Api, patient: str, who: str = "prescriber@test") -> list[dict[str, Any]]:
    answer = api.client.get(
        f"/patients/{patient}/events",
        params={"min_position": api.position()},
        headers=api.auth(who),
    )
    assert answer.status_code == 200, answer.text
    return list(reversed(answer.json()["entries"]))  # in log order (the page is newest first)


def test_sertraline_at_ten_times_its_maximum_is_refused_with_no_override(api: Api) -> None:
    patient = patient_with_team(api)
    before = api.position()

    for amount in ("100000", "2000"):
        answer = start(api, patient, sertraline(amount, override_reason="I am sure"))
        reason = refused(api, answer, before, 422, "dose.amount")
        assert "ceiling of 2000 mg/day" in reason and "no override" in reason


def test_sertraline_above_its_usual_maximum_needs_an_override_reason(api: Api) -> None:
    patient = patient_with_team(api)
    before = api.position()

    answer = start(api, patient, sertraline("300"))
    reason = refused(api, answer, before, 409, "dose")
    assert "usual adult maximum of 200 mg/day" in reason and "override_reason" in reason
    blank = start(api, patient, sertraline("300", override_reason="  "))
    refused(api, blank, before, 422, "override_reason")

    why = "partial response at 200 mg for 8 weeks, levels checked, discussed with patient"
    med = started(api, patient, sertraline("300", override_reason=why))
    last = events(api, patient)[-1]
    assert last["payload"]["override_reason"] == why
    assert last["payload"]["dose_check"]["above_usual_max"] is True
    assert "above the usual maximum of 200 mg/day" in last["summary"] and why in last["summary"]

    alerts = entry(board(api, "prescriber@test"), patient)["alerts"]  # type: ignore[index]
    [alert] = [a for a in alerts if a["rule"]["id"] == "dose-range-sertraline"]
    assert why in alert["title"] and "300 mg/day" in alert["title"]
    assert alert["rule"]["checked"] is False

    back = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications/{med}/dose",
        {"dose": {"amount": "200", "unit": "mg"}, "reason": "back to the usual maximum"},
    )
    assert back.status_code == 201, back.text
    shown = entry(board(api, "prescriber@test"), patient) or {"alerts": []}
    assert not [a for a in shown["alerts"] if a["rule"]["id"] == "dose-range-sertraline"]


def test_a_dose_change_above_the_maximum_is_refused_then_recorded_with_its_reason(
    api: Api,
) -> None:
    patient = patient_with_team(api)
    med = started(api, patient, sertraline("200"))
    before = api.position()
    path = f"/patients/{patient}/medications/{med}/dose"

    answer = post(
        api, "prescriber@test", path, {"dose": {"amount": "250", "unit": "mg"}, "reason": "x"}
    )
    refused(api, answer, before, 409, "dose")
    ok = post(
        api,
        "prescriber@test",
        path,
        {
            "dose": {"amount": "250", "unit": "mg"},
            "reason": "x",
            "override_reason": "specialist advice",
        },
    )
    assert ok.status_code == 201, ok.text
    assert "overridden: specialist advice" in events(api, patient)[-1]["summary"]


def test_a_unit_foreign_to_the_drug_is_refused_with_the_units_it_accepts(api: Api) -> None:
    patient = patient_with_team(api)
    before = api.position()

    answer = start(api, patient, sertraline("100", unit="g"))
    reason = refused(api, answer, before, 422, "dose.unit")
    assert "sertraline is dosed in mg, not g" in reason

    med = started(api, patient, sertraline("50"))
    before = api.position()
    change = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications/{med}/dose",
        {"dose": {"amount": "0.1", "unit": "g"}, "reason": "x", "override_reason": "x"},
    )
    refused(api, change, before, 422, "dose.unit")


def test_naltrexone_380_mg_every_4_weeks_intramuscular_is_accepted(api: Api) -> None:
    patient = patient_with_team(api)
    body = medication("naltrexone", "7243", "380", frequency="every-4-weeks", route="intramuscular")
    started(api, patient, body)
    check = events(api, patient)[-1]["payload"]["dose_check"]
    assert check["rule_id"] == "dose-range-naltrexone-extended-release"
    assert (check["amount"], check["usual_max"]) == ("380 mg/28 days", "380 mg/28 days")

    before = api.position()
    weekly = {**body, "schedule": {"frequency": "weekly"}}
    refused(api, start(api, patient, weekly), before, 409, "dose")
    oral_daily = medication("naltrexone", "7243", "380")  # 380 mg by mouth every day
    refused(api, start(api, patient, oral_daily), before, 409, "dose")


def test_valproate_without_a_recorded_weight_says_so_and_with_one_is_checked(api: Api) -> None:
    patient = patient_with_team(api)
    body = medication("divalproex sodium", "11118", "3000", frequency="twice-daily")
    started(api, patient, body)
    last = events(api, patient)[-1]
    assert "no weight on record" in last["summary"]
    assert last["payload"]["dose_check"]["usual_max"] is None

    vitals = post(
        api, "prescriber@test", f"/patients/{patient}/vitals",
        {"weight_kg": "40", "clinical_time": ago(days=20)},
    )  # fmt: skip
    assert vitals.status_code == 201, vitals.text
    before = api.position()
    heavy = {**body, "clinical_time": ago(days=10)}  # 3000 mg > 60 mg/kg x 40 kg
    reason = refused(api, start(api, patient, heavy), before, 409, "dose")
    assert "2400 mg/day" in reason


def test_lithium_has_no_fixed_ceiling_the_level_rules_govern(api: Api) -> None:
    patient = patient_with_team(api)
    started(api, patient, medication("lithium carbonate", "6448", "3600", frequency="twice-daily"))
    last = events(api, patient)[-1]
    assert last["payload"]["dose_check"]["above_usual_max"] is False
    assert "level-guided" in last["summary"]


def test_an_under_18_has_no_paediatric_range_on_file(api: Api) -> None:
    patient = patient_with_team(api, birth_date="2012-05-01")
    started(api, patient, medication("escitalopram", "321988", "10"))
    assert "no paediatric range on file for escitalopram" in events(api, patient)[-1]["summary"]


def test_a_drug_with_no_row_gets_a_plausibility_check_and_a_note(api: Api) -> None:
    patient = patient_with_team(api)
    started(api, patient, medication("gabapentin", "25480", "900"))
    assert "no range on file for gabapentin" in events(api, patient)[-1]["summary"]
    before = api.position()
    refused(
        api,
        start(api, patient, medication("gabapentin", "25480", "11", unit="g")),
        before,
        422,
        "dose.amount",
    )


def test_as_needed_is_the_most_in_a_day(api: Api) -> None:
    patient = patient_with_team(api)
    started(api, patient, medication("hydroxyzine", "5553", "400", frequency="as-needed"))
    before = api.position()
    answer = start(api, patient, medication("hydroxyzine", "5553", "500", frequency="as-needed"))
    refused(api, answer, before, 409, "dose")


def test_a_split_is_checked_as_its_daily_total(api: Api) -> None:
    patient = patient_with_team(api)
    med = started(api, patient, sertraline("150"))
    before = api.position()
    split = {
        "schedule": {"frequency": "twice-daily"},
        "dose_per_administration": {"amount": "150", "unit": "mg"},
        "reason": "split",
    }
    path = f"/patients/{patient}/medications/{med}/timing"
    reason = refused(
        api, post(api, "prescriber@test", path, split), before, 409, "dose_per_administration"
    )
    assert "300 mg/day" in reason
    half = {**split, "dose_per_administration": {"amount": "75", "unit": "mg"}}
    assert post(api, "prescriber@test", path, half).status_code == 201


def test_a_therapist_may_not_order_a_dose_change_but_records_what_is_reported(api: Api) -> None:
    patient = patient_with_team(api)
    med = started(api, patient, sertraline("50"))
    before = api.position()

    order = post(
        api,
        "therapist@test",
        f"/patients/{patient}/medications/{med}/dose",
        {"dose": {"amount": "100", "unit": "mg"}, "reason": "patient says it went up"},
    )
    assert order.status_code == 403, order.text
    assert order.json()["fields"][0]["field"] == "actor.role"
    assert "may not record DoseChanged" in order.json()["fields"][0]["reason"]
    assert appended_since(api.services.clinic, before) == []

    reported = post(
        api,
        "therapist@test",
        f"/patients/{patient}/medications/{med}/reported-doses",
        {"dose": {"amount": "100", "unit": "mg"}, "note": "says Dr X raised it by phone"},
    )
    assert reported.status_code == 201, reported.text
    last = events(api, patient, "therapist@test")[-1]
    assert last["kind"] == "DoseReported" and last["author_role"] == "therapist"
    assert "reported taking 100 mg (an observation, not an order)" in last["summary"]
    summary = api.client.get(f"/patients/{patient}", headers=api.auth("prescriber@test")).json()
    assert [m["dose"] for m in summary["medications"]] == [{"amount": "50", "unit": "mg"}]
