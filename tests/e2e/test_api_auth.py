"""Closed by default: every route but health, sign-in and the docs needs a valid token."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters import passwords
from adapters.tokens import TokenService
from bootstrap import bootstrap_services
from bootstrap.settings import Settings
from domain.events import Actor
from tests.builders import update_user
from tests.e2e.conftest import PASSWORD, Api, add_users, api_over

OPEN = {("/health", "get"), ("/auth/token", "post")}


def protected_operations(api: Api) -> list[tuple[str, str]]:
    spec = api.client.get("/openapi.json").json()
    operations = [
        (path, method)
        for path, methods in spec["paths"].items()
        for method in methods
        if (path, method) not in OPEN
    ]
    assert len(operations) > 40
    return operations


def concrete(path: str) -> str:
    for name in ("{patient_id}", "{item_id}", "{user_id}"):
        path = path.replace(name, str(uuid.uuid4()))
    return path


def bad_tokens(api: Api) -> dict[str, str]:
    real = api.services.tokens
    forged = TokenService("not-the-server-secret" * 3).issue("therapist@test", "therapist")
    expired = real.issue("therapist@test", "therapist", now=datetime.now(UTC) - timedelta(days=1))
    ghost = real.issue("nobody@test", "therapist")
    signed_out = real.issue("prescriber@test", "prescriber")
    assert api.client.post("/auth/sign-out", headers=bearer(signed_out)).status_code == 204
    update_user(
        api.services.clinic,
        "pcp@test",
        lambda u: u.deactivate(Actor.system("tests"), u.modified_on, reason="left"),
    )
    return {
        "none": "",
        "garbage": "Bearer not.a.jwt",
        "forged": f"Bearer {forged}",
        "expired": f"Bearer {expired}",
        "unknown user": f"Bearer {ghost}",
        "deactivated user": f"Bearer {api.tokens['pcp@test']}",
        "signed out": f"Bearer {signed_out}",
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_every_route_refuses_requests_without_a_valid_token(api: Api) -> None:
    tokens = bad_tokens(api)
    before = api.position()
    for path, method in protected_operations(api):
        for kind, header in tokens.items():
            headers = {"Authorization": header} if header else {}
            answer = api.client.request(method, concrete(path), headers=headers, json={})
            assert answer.status_code == 401, (kind, method, path, answer.text)
            assert answer.headers["WWW-Authenticate"] == "Bearer", (kind, path)
            assert answer.json()["type"] == "unauthorized"
    assert api.position() == before


def test_health_sign_in_and_docs_are_open(api: Api) -> None:
    assert api.client.get("/health").status_code == 200
    assert api.client.get("/docs").status_code == 200
    assert api.client.get("/openapi.json").status_code == 200


def test_the_openapi_document_declares_the_bearer_scheme(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == "/auth/token"
    me = spec["paths"]["/me"]["get"]
    assert me["security"] == [{"OAuth2PasswordBearer": []}]


def test_a_valid_token_reaches_me(api: Api) -> None:
    answer = api.client.get("/me", headers=api.auth("therapist@test"))
    assert answer.status_code == 200
    assert answer.json()["role"] == "therapist"


def test_wrong_password_and_unknown_account_get_the_same_answer(api: Api) -> None:
    wrong = api.client.post(
        "/auth/token", data={"username": "therapist@test", "password": "nope-nope-1"}
    )
    ghost = api.client.post(
        "/auth/token", data={"username": "ghost@test", "password": "nope-nope-1"}
    )
    assert wrong.status_code == ghost.status_code == 401
    assert wrong.json() == ghost.json()


def test_an_unknown_account_still_costs_an_argon2_verification() -> None:
    before = passwords._dummy_hash.cache_info()
    assert passwords.verify_password("anything at all", None) is False
    after = passwords._dummy_hash.cache_info()
    assert after.hits + after.misses == before.hits + before.misses + 1


def test_repeated_failures_are_throttled_then_refused_even_with_the_right_password(
    api: Api,
) -> None:
    limit = api.services.throttle.max_failures
    for _ in range(limit):
        answer = api.client.post(
            "/auth/token", data={"username": "prescriber@test", "password": "wrong-guess-1"}
        )
        assert answer.status_code == 401
    blocked = api.client.post(
        "/auth/token", data={"username": "prescriber@test", "password": PASSWORD}
    )
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) >= 1


@pytest.mark.parametrize("form", [{}, {"username": "therapist@test"}, {"password": PASSWORD}])
def test_sign_in_without_its_fields_is_refused_with_the_field(
    api: Api, form: dict[str, str]
) -> None:
    answer = api.client.post("/auth/token", data=form)
    assert answer.status_code == 422
    assert answer.json()["fields"]


def test_a_signed_out_token_opens_nothing_even_after_a_restart_while_others_stay(
    tmp_path: Path, password_hash: str
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    services = bootstrap_services(settings)
    add_users(services, password_hash)
    with api_over(services, ("therapist@test",)) as api:
        token = api.tokens["therapist@test"]
        other = api.client.post(
            "/auth/token", data={"username": "therapist@test", "password": PASSWORD}
        ).json()["access_token"]
        assert api.client.get("/me", headers=bearer(token)).status_code == 200
        before = api.position()
        assert api.client.post("/auth/sign-out", headers=bearer(token)).status_code == 204
        assert api.position() == before  # signing out appends nothing to the record
        assert api.client.get("/me", headers=bearer(token)).status_code == 401
        again = api.client.post("/auth/sign-out", headers=bearer(token))
        assert again.status_code == 401  # a signed-out token cannot be signed out twice
        assert api.client.get("/me", headers=bearer(other)).status_code == 200
    with api_over(bootstrap_services(settings), ()) as restarted:
        assert restarted.client.get("/me", headers=bearer(token)).status_code == 401
        assert restarted.client.get("/me", headers=bearer(other)).status_code == 200


def test_sign_out_without_a_token_is_unauthorized(api: Api) -> None:
    answer = api.client.post("/auth/sign-out")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"
