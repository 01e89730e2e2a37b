"""docker-compose.yml is valid against the compose specification and holds what we promise.

No Docker engine is needed: check-jsonschema validates the file offline against its vendored
copy of the compose-spec schema; the rest reads the YAML (ruamel.yaml, check-jsonschema's own
YAML library, resolves anchors and merge keys as compose does).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def compose() -> dict[str, Any]:
    from ruamel.yaml import YAML

    loaded: dict[str, Any] = YAML(typ="safe", pure=True).load(COMPOSE.read_text())
    return loaded


def test_compose_file_is_valid_against_the_compose_spec() -> None:
    if not CHECK_JSONSCHEMA.exists():
        message = f"{CHECK_JSONSCHEMA} is missing; run `make install`"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_promised_service_is_there() -> None:
    services = compose()["services"]
    assert {"kafka", "postgres", "api", "relay", "receiver"} <= set(services)
    assert services["kafka"]["image"] == "apache/kafka:4.1.1"
    assert services["postgres"]["image"] == "postgres:15"
    assert services["api"]["command"][:2] == ["tandem", "serve"]
    assert services["relay"]["command"] == ["tandem", "relay"]
    assert services["receiver"]["command"] == [
        "tandem",
        "receive",
        "--recipient",
        "Maple Family Practice",
    ]


def test_kafka_is_a_complete_single_kraft_node_from_env_alone() -> None:
    env = compose()["services"]["kafka"]["environment"]
    required = {
        "CLUSTER_ID",
        "KAFKA_NODE_ID",
        "KAFKA_PROCESS_ROLES",
        "KAFKA_CONTROLLER_QUORUM_VOTERS",
        "KAFKA_LISTENERS",
        "KAFKA_ADVERTISED_LISTENERS",
        "KAFKA_CONTROLLER_LISTENER_NAMES",
        "KAFKA_INTER_BROKER_LISTENER_NAME",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR",
    }
    assert required <= set(env)
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    voter_id, _, voter = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].partition("@")
    assert voter_id == str(env["KAFKA_NODE_ID"]) and voter == "kafka:9093"


def test_the_apps_are_wired_to_postgres_and_kafka_and_need_a_signing_key() -> None:
    services = compose()["services"]
    api, relay, receiver = services["api"], services["relay"], services["receiver"]
    for app in (api, relay):
        assert app["environment"]["TANDEM_STORE"] == "postgres"
        assert app["environment"]["TANDEM_POSTGRES_HOST"] == "postgres"
        assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    for app in (api, relay, receiver):
        assert app["environment"]["TANDEM_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert app["depends_on"]["kafka"]["condition"] == "service_healthy"
    # No default: compose refuses to start without a secret of the deployer's own.
    assert api["environment"]["TANDEM_JWT_SECRET"] == "${TANDEM_JWT_SECRET:?set TANDEM_JWT_SECRET}"
    assert "TANDEM_JWT_SECRET" not in relay["environment"]
