"""Schema-driven fuzzing (schemathesis) of the app's own OpenAPI, signed in as a demo
clinician: no request may get a 5xx, and every response must match its declared schema.

Half the generated requests are pointed at real demo patients the clinician treats, so
the fuzzing reaches the record's rules, not only the access refusal."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from bootstrap import bootstrap_services
from bootstrap.settings import Settings
from demo import load_demo
from domain.registration import PatientRegistered

PASSWORD = "fuzz-demo-password"
EXAMPLES = 30
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, list[str], str]]:
    services = bootstrap_services(Settings(data_dir=Path(tmp_path_factory.mktemp("fuzz"))))
    load_demo(services, PASSWORD)
    patients = [
        str(e.originator_id)
        for _, e in services.clinic.all_events()
        if isinstance(e, PatientRegistered)
        and "therapist@demo" in services.clinic.patient(e.originator_id).state.team
    ]
    assert patients
    services.start()  # the index catches up with the demo and follows new writes
    token = services.tokens.issue("therapist@demo", "therapist")
    app = create_app(services=services)
    yield app, patients, token
    services.close()


def test_no_generated_request_breaks_the_api_or_its_schema(
    demo_app: tuple[FastAPI, list[str], str],
) -> None:
    app, patients, token = demo_app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}"}
    sent = itertools.count()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: Any) -> None:
            n = next(sent)
            if "patient_id" in (case.path_parameters or {}) and n % 2 == 0:
                case.path_parameters["patient_id"] = patients[n % len(patients)]
            case.call_and_validate(headers=headers, checks=CHECKS)

        exercise()

    total = next(sent)
    assert total >= 1000, f"only {total} generated requests"
