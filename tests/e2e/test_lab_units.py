"""Lab units over HTTP: a result's unit must fit its test, is converted to the test's
canonical unit, and the alerts compare in that unit whatever unit was entered. The
boundary cases are generated from the table of level alerts: every bound, just below and
just above, in each unit its tests accept."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import pytest

from bootstrap import bootstrap_services
from bootstrap.settings import Settings
from domain.lab_units import ANALYTES, factor
from domain.rules.monitoring import MONITORING, LevelAlertRule
from tests.builders import appended_since
from tests.e2e.conftest import Api, add_users, api_over
from tests.e2e.test_api_records import post
from tests.e2e.test_coordination import ago, care, patient_with_team

LITHIUM = {
    "drug": "lithium carbonate",
    "rxnorm": "42351",
    "dose": {"amount": "800", "unit": "mg"},
    "schedule": {"frequency": "at-bedtime"},
    "indication": "bipolar II disorder",
}
# A medication of each drug family a level alert is about.
ON = {
    "lithium": LITHIUM,
    "valproate": {**LITHIUM, "drug": "divalproex sodium", "rxnorm": "266856"},
    "clozapine": {
        **LITHIUM,
        "drug": "clozapine",
        "rxnorm": "2626",
        "dose": {"amount": "200", "unit": "mg"},
        "indication": "treatment-resistant schizophrenia",
    },
}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, password_hash: str) -> Iterator[Api]:
    """One API for the generated cases (each on a patient of its own)."""
    services = bootstrap_services(Settings(data_dir=Path(tmp_path_factory.mktemp("labs")) / "d"))
    add_users(services, password_hash)
    with api_over(services, ("therapist@test", "prescriber@test")) as api:
        yield api


def start(api: Api, patient: str, medication: dict[str, Any]) -> str:
    started = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/medications",
        {**medication, "clinical_time": ago(days=30)},
    )
    assert started.status_code == 201, started.text
    return str(started.json()["created_id"])


def order(api: Api, patient: str, loinc: str) -> str:
    made = post(
        api,
        "prescriber@test",
        f"/patients/{patient}/lab-orders",
        {"loinc": loinc, "test_name": "level", "reason": "level", "clinical_time": ago(days=2)},
    )
    assert made.status_code == 201, made.text
    return str(made.json()["created_id"])


def result(api: Api, patient: str, order_id: str, loinc: str, value: str, unit: str) -> Any:
    return post(
        api,
        "prescriber@test",
        f"/patients/{patient}/lab-orders/{order_id}/results",
        {
            "loinc": loinc,
            "test_name": "level",
            "value": value,
            "unit": unit,
            "clinical_time": ago(days=1),
        },
    )


def alerts(api: Api, patient: str) -> dict[str, dict[str, Any]]:
    return {a["rule"]["id"]: a for a in care(api, "prescriber@test", patient)["alerts"]}


def trough_items(api: Api, patient: str) -> list[dict[str, Any]]:
    body = care(api, "prescriber@test", patient)
    return [i for i in body["due"] + body["overdue"] if i["rule"]["id"] == "lithium-level"]


def test_lithium_in_mg_per_dl_is_converted_and_alerts_as_toxic(api: Api) -> None:
    patient = patient_with_team(api)
    start(api, patient, LITHIUM)
    order_id = order(api, patient, "14334-7")
    recorded = result(api, patient, order_id, "14334-7", "1.6", "mg/dL")
    assert recorded.status_code == 201, recorded.text

    # 1.6 mg/dL is 2.3 mmol/L (lithium 6.94 g/mol): a toxicity alert, converted.
    alert = alerts(api, patient)["lithium-toxicity"]
    assert (alert["severity"], alert["open"]) == ("high", True)
    assert "2.3 mmol/L; entered as 1.6 mg/dL" in alert["title"]
    # Kept as entered, beside the canonical value, and shown converted.
    entries = api.client.get(
        f"/patients/{patient}/events",
        params={"min_position": api.position()},
        headers=api.auth("prescriber@test"),
    ).json()["entries"]
    [stored] = [e for e in entries if e["kind"] == "LabResulted"]
    payload = stored["payload"]
    assert (payload["value"], payload["unit"]) == ("1.6", "mg/dL")
    assert (payload["canonical_value"], payload["canonical_unit"]) == ("2.305476", "mmol/L")
    assert "1.6 mg/dL (= 2.3 mmol/L)" in stored["summary"]


def test_a_lithium_level_in_milligrams_is_refused_and_leaves_the_order_and_the_trough(
    api: Api,
) -> None:
    patient = patient_with_team(api)
    start(api, patient, LITHIUM)
    due = trough_items(api, patient)
    assert due, "a trough level is due after the start"
    order_id = order(api, patient, "14334-7")
    before = api.position()

    refused = result(api, patient, order_id, "14334-7", "1.6", "mg")

    assert refused.status_code == 422, refused.text
    [problem] = refused.json()["fields"]
    assert problem["field"] == "unit"
    assert "'mg' is not a unit of lithium" in problem["reason"]
    assert "mmol/L, meq/L, mg/dL" in problem["reason"]
    assert appended_since(api.services.clinic, before) == []
    # The order is still open (a result in a fitting unit is taken) and the trough due.
    assert [i["key"] for i in trough_items(api, patient)] == [i["key"] for i in due]
    taken = result(api, patient, order_id, "14334-7", "0.7", "mmol/L")
    assert taken.status_code == 201, taken.text


def test_mixed_case_meq_is_refused_naming_the_ucum_code(api: Api) -> None:
    patient = patient_with_team(api)
    order_id = order(api, patient, "14334-7")
    before = api.position()
    refused = result(api, patient, order_id, "14334-7", "0.7", "mEq/L")
    assert refused.status_code == 422, refused.text
    assert "UCUM codes are case-sensitive: meq/L" in refused.json()["fields"][0]["reason"]
    assert appended_since(api.services.clinic, before) == []
    assert result(api, patient, order_id, "14334-7", "0.7", "meq/L").status_code == 201


def test_an_anc_in_thousands_and_in_cells_per_microlitre_fall_in_the_same_band(
    api: Api,
) -> None:
    bands = []
    for value, unit in (("1.2", "10*3/uL"), ("1200", "/uL"), ("1.2", "10*9/L")):
        patient = patient_with_team(api)
        start(api, patient, ON["clozapine"])
        order_id = order(api, patient, "751-8")
        assert result(api, patient, order_id, "751-8", value, unit).status_code == 201
        found = alerts(api, patient)
        bands.append(sorted(k for k in found if k.startswith("clozapine-anc")))
        assert "1200 /uL" in found["clozapine-anc-mild"]["title"]
    assert bands == [["clozapine-anc-mild"]] * 3


@dataclass(frozen=True)
class Case:
    rule: LevelAlertRule
    loinc: str
    unit: str
    value: str
    raises: bool

    @property
    def id(self) -> str:
        return f"{self.rule.rule_id}-{self.value}-{self.unit}"


def _cases() -> list[Case]:
    """Each bound of each level alert, 0.2% below and above it, in every unit its first
    test accepts (converted back from the canonical bound, to 6 places, outward), and at
    the bound itself in the canonical unit."""
    cases = []
    for rule in MONITORING.level_alerts:
        loinc = sorted(rule.loinc)[0]
        analyte = ANALYTES[loinc]
        bounds = [(rule.at_or_above, True), (rule.below, False)]
        for bound, lower in [(b, low) for b, low in bounds if b is not None]:
            for unit in analyte.units:
                entered = bound / factor(analyte, unit)
                places = Decimal("0.000001")
                under = (entered * Decimal("0.998")).quantize(places, rounding=ROUND_FLOOR)
                over = (entered * Decimal("1.002")).quantize(places, rounding=ROUND_CEILING)
                cases.append(Case(rule, loinc, unit.value, f"{under.normalize():f}", not lower))
                cases.append(Case(rule, loinc, unit.value, f"{over.normalize():f}", lower))
            at = lower and rule.low_inclusive
            cases.append(Case(rule, loinc, rule.unit, f"{bound.normalize():f}", at))
    return cases


CASES = _cases()


def test_every_bound_of_every_level_alert_is_generated() -> None:
    for rule in MONITORING.level_alerts:
        mine = [c for c in CASES if c.rule == rule]
        bounds = [b for b in (rule.at_or_above, rule.below) if b is not None]
        units = ANALYTES[sorted(rule.loinc)[0]].units
        assert len(mine) == len(bounds) * (2 * len(units) + 1), rule.rule_id


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_level_alerts_exactly_inside_its_band_whatever_the_unit(shared: Api, case: Case) -> None:
    patient = patient_with_team(shared)
    if case.rule.pathway == "benign ethnic neutropenia":
        on_pathway = post(
            shared,
            "prescriber@test",
            f"/patients/{patient}/neutropenia-pathway",
            {"benign_ethnic_neutropenia": True, "basis": "two baseline counts"},
        )
        assert on_pathway.status_code == 201, on_pathway.text
    family = next(name for name in ON if case.rule.drugs.match(name))
    start(shared, patient, ON[family])
    order_id = order(shared, patient, case.loinc)
    recorded = result(shared, patient, order_id, case.loinc, case.value, case.unit)
    assert recorded.status_code == 201, recorded.text
    assert (case.rule.rule_id in alerts(shared, patient)) is case.raises
