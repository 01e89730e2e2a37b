"""docker-compose.yml is valid against the compose specification and holds what we promise.

No Docker engine is needed: check-jsonschema validates the file offline against its vendored
copy of the compose-spec schema; the rest reads the YAML (ruamel.yaml, check-jsonschema's own
YAML library, resolves anchors and merge keys as compose does).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import service_missing

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def compose() -> dict[str, Any]:
    from ruamel.yaml import YAML

    loaded: dict[str, Any] = YAML(typ="safe", pure=True).load(COMPOSE.read_text())
    return loaded


def test_compose_file_is_valid_against_the_compose_spec() -> None:
    if not CHECK_JSONSCHEMA.exists():
        service_missing(str(CHECK_JSONSCHEMA), "run `make install`")
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
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "SASL_SSL://kafka:9092"
    voter_id, _, voter = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].partition("@")
    assert voter_id == str(env["KAFKA_NODE_ID"]) and voter == "localhost:9093"


def test_the_apps_are_wired_to_postgres_and_kafka_and_need_a_signing_key() -> None:
    services = compose()["services"]
    api, relay, receiver = services["api"], services["relay"], services["receiver"]
    for app in (api, relay):
        assert app["environment"]["TANDEM_STORE"] == "postgres"
        assert app["environment"]["TANDEM_POSTGRES_HOST"] == "postgres"
        assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    for app in (api, relay, receiver):
        assert app["environment"]["TANDEM_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert app["environment"]["TANDEM_KAFKA_CA_FILE"] == "/etc/kafka/ca/ca.pem"
        assert app["depends_on"]["kafka"]["condition"] == "service_healthy"
    # No default: compose refuses to start without a secret of the deployer's own.
    assert api["environment"]["TANDEM_JWT_SECRET"] == "${TANDEM_JWT_SECRET:?set TANDEM_JWT_SECRET}"
    assert "TANDEM_JWT_SECRET" not in relay["environment"]


# --- the broker locked down as scripts/kafka.sh locks down the test broker -----------------

KAFKA_SH = ROOT / "scripts" / "kafka.sh"
SETUP = ROOT / "scripts" / "compose-kafka-setup.sh"
# What the two brokers must agree on (the rest differs by host, port and path only).
SECURITY = (
    "inter.broker.listener.name",
    "listener.security.protocol.map",
    "sasl.enabled.mechanisms",
    "sasl.mechanism.inter.broker.protocol",
    "sasl.mechanism.controller.protocol",
    "listener.name.controller.sasl.enabled.mechanisms",
    "ssl.client.auth",
    "ssl.truststore.type",
    "authorizer.class.name",
    "allow.everyone.if.no.acl.found",
    "super.users",
    "auto.create.topics.enable",
)


def broker_properties() -> dict[str, str]:
    """The kafka service's properties, as the apache/kafka image renders its environment:
    KAFKA_ dropped, lower case, ___ to -, __ to _, _ to ."""
    found = {}
    for name, value in compose()["services"]["kafka"]["environment"].items():
        if not name.startswith("KAFKA_") or name == "KAFKA_OPTS":
            continue
        key = name.removeprefix("KAFKA_").lower()
        key = key.replace("___", "\0").replace("__", "\1").replace("_", ".")
        found[key.replace("\0", "-").replace("\1", "_")] = str(value)
    return found


def script_properties() -> dict[str, str]:
    """The key=value lines scripts/kafka.sh writes into the test broker's server.properties."""
    text = KAFKA_SH.read_text()
    start = text.index('cat >"$props" <<EOF')
    body = text[start : text.index("\nEOF\n", start)]
    lines = [line for line in body.splitlines()[1:] if "=" in line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_the_broker_is_locked_down_as_the_test_broker_is() -> None:
    props, tested = broker_properties(), script_properties()
    assert {k: props.get(k) for k in SECURITY} == {k: tested[k] for k in SECURITY}
    assert props["authorizer.class.name"].endswith("metadata.authorizer.StandardAuthorizer")
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert "User:tandem-relay" not in props["super.users"].split(";")  # ACLs, not a super user
    # Clients reach SASL_SSL alone; the controller listens on the container's loopback.
    listeners = dict(
        (listener.split("://")[0], listener.split("://")[1])
        for listener in props["listeners"].split(",")
    )
    assert listeners == {"SASL_SSL": "0.0.0.0:9092", "CONTROLLER": "localhost:9093"}
    assert props["advertised.listeners"] == "SASL_SSL://kafka:9092"
    # The image's own names (its configure step reads them from /etc/kafka/secrets).
    assert props["ssl.keystore.filename"] == "broker.p12"
    assert props["ssl.keystore.credentials"] == props["ssl.key.credentials"]
    assert props["ssl.truststore.location"] == "/etc/kafka/secrets/ca.pem"
    scram = props["listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config"]
    assert scram.startswith("org.apache.kafka.common.security.scram.ScramLoginModule required")
    assert 'username="broker"' in scram
    assert 'password="${TANDEM_KAFKA_BROKER_PASSWORD:?' in scram
    plain = props["listener.name.controller.plain.sasl.jaas.config"]
    assert plain.count("${TANDEM_KAFKA_CONTROLLER_PASSWORD:?") == 2


def test_each_service_gets_its_own_kafka_secrets_and_none_has_a_default() -> None:
    services = compose()["services"]
    setup, kafka, api, relay, receiver = (
        services[name] for name in ("kafka-setup", "kafka", "api", "relay", "receiver")
    )
    required = {
        name: f"${{{name}:?set {name}}}"
        for name in (
            "TANDEM_KAFKA_BROKER_PASSWORD",
            "TANDEM_KAFKA_ADMIN_PASSWORD",
            "TANDEM_KAFKA_RELAY_PASSWORD",
        )
    }
    assert {k: setup["environment"][k] for k in required} == required
    assert kafka["depends_on"]["kafka-setup"]["condition"] == "service_completed_successfully"
    assert f"./scripts/{SETUP.name}:/opt/tandem/{SETUP.name}:ro" in setup["volumes"]
    assert setup["entrypoint"] == ["bash", f"/opt/tandem/{SETUP.name}"]
    # The API holds the admin credential; the relay its own; the receiver a recipient's.
    assert api["environment"]["TANDEM_KAFKA_ADMIN_USERNAME"] == "tandem-admin"
    assert (
        api["environment"]["TANDEM_KAFKA_ADMIN_PASSWORD"]
        == (required["TANDEM_KAFKA_ADMIN_PASSWORD"])
    )
    assert api["environment"]["TANDEM_KAFKA_RELAY_USERNAME"] == "tandem-relay"
    assert relay["environment"]["TANDEM_KAFKA_USERNAME"] == "tandem-relay"
    assert (
        relay["environment"]["TANDEM_KAFKA_PASSWORD"] == (required["TANDEM_KAFKA_RELAY_PASSWORD"])
    )
    assert receiver["environment"]["TANDEM_KAFKA_USERNAME"] == (
        "${TANDEM_RECEIVER_KAFKA_USERNAME:-}"
    )
    assert receiver["profiles"] == ["receiver"]  # started once its credential is issued
    for app in (relay, receiver):
        assert not any("ADMIN" in name for name in app["environment"])
    # The broker's key is in its volume alone; the apps mount the CA's certificate only.
    for name, service in services.items():
        mounts = [str(v).split(":")[0] for v in service.get("volumes", [])]
        assert ("kafka-secrets" in mounts) == (name in {"kafka-setup", "kafka"}), name
    for app in (api, relay, receiver):
        assert "kafka-ca:/etc/kafka/ca:ro" in app["volumes"]
    assert "PLAINTEXT://" not in COMPOSE.read_text().replace("SASL_PLAINTEXT", "")


def _kafka_jars() -> Path | None:
    pom = (ROOT / "scripts" / "kafka" / "pom.xml").read_text()
    version = pom.split("<kafka.version>", 1)[1].split("<", 1)[0]
    cache = os.environ.get("TANDEM_KAFKA_CACHE") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        / "tandem"
        / f"kafka-{version}"
    )
    lib = Path(cache) / "lib"
    return lib if lib.is_dir() and any(lib.glob("kafka_*.jar")) else None


def test_the_setup_script_makes_the_tls_material_and_the_scram_users(tmp_path: Path) -> None:
    """scripts/compose-kafka-setup.sh outside Docker: keytool and the jars scripts/kafka.sh
    caches stand in for the image's."""
    lib = _kafka_jars()
    if lib is None or shutil.which("keytool") is None or shutil.which("openssl") is None:
        service_missing("keytool, openssl or the Kafka jars", "run scripts/kafka.sh")
    secrets, ca, data = tmp_path / "secrets", tmp_path / "ca", tmp_path / "data"
    passwords = {
        "TANDEM_KAFKA_BROKER_PASSWORD": "broker-synthetic-7f3a",
        "TANDEM_KAFKA_ADMIN_PASSWORD": "admin-synthetic-91c2",
        "TANDEM_KAFKA_RELAY_PASSWORD": "relay-synthetic-44d0",
    }
    env = {
        **os.environ,
        **passwords,
        "CLUSTER_ID": "21m90N5PniGkY4n81HTaaA",
        "SECRETS_DIR": str(secrets),
        "CA_DIR": str(ca),
        "DATA_DIR": str(data),
        "KAFKA_STORAGE": f"java -cp {lib}/* kafka.tools.StorageTool",
    }

    def run() -> str:
        done = subprocess.run(
            ["bash", str(SETUP)], env=env, capture_output=True, text=True, timeout=300, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    first = run()
    assert "made the CA" in first and "formatted" in first
    keystore_password = (secrets / "broker_keystore_creds").read_text()
    assert (secrets / "broker.p12").stat().st_mode & 0o077 == 0
    cert = subprocess.run(
        [
            "openssl",
            "pkcs12",
            "-in",
            str(secrets / "broker.p12"),
            "-nokeys",
            "-clcerts",
            "-passin",
            f"pass:{keystore_password}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    broker_pem = tmp_path / "broker.pem"
    broker_pem.write_text(cert.stdout)
    verified = subprocess.run(
        ["openssl", "verify", "-CAfile", str(ca / "ca.pem"), str(broker_pem)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    shown = subprocess.run(
        ["openssl", "x509", "-in", str(broker_pem), "-noout", "-ext", "subjectAltName"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "DNS:kafka" in shown
    # The CA's key is gone: nothing else can be signed with it.
    assert not list(tmp_path.rglob("ca.p12")) and "PRIVATE KEY" not in (ca / "ca.pem").read_text()
    assert (secrets / "ca.pem").read_text() == (ca / "ca.pem").read_text()
    # The three users are in the formatted storage, as salted hashes (no password).
    bootstrap = (data / "bootstrap.checkpoint").read_bytes()
    for user in (b"broker", b"tandem-admin", b"tandem-relay"):
        assert user in bootstrap
    for password in passwords.values():
        assert password.encode() not in bootstrap
    # Run again (a restart of the stack): nothing is made twice.
    before = (secrets / "broker.p12").read_bytes(), bootstrap
    again = run()
    assert "TLS material present" in again and "already formatted" in again
    assert before == (
        (secrets / "broker.p12").read_bytes(),
        (data / "bootstrap.checkpoint").read_bytes(),
    )
