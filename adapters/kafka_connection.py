"""How a process reaches the Kafka broker: SASL_SSL only, SCRAM-SHA-512 over TLS."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from application.errors import BrokerUnavailable

MECHANISM = "SCRAM-SHA-512"


@dataclass(frozen=True)
class KafkaConnection:
    """How one process reaches the broker: the bootstrap address and its own SCRAM
    credential over TLS (the broker's certificate checked against `ca_file`, or against
    the system's CAs when None)."""

    bootstrap: str
    username: str
    password: str = field(repr=False)
    ca_file: Path | None = None

    def configs(self) -> dict[str, Any]:
        """kafka-python's keyword arguments for this connection (producer, consumer, admin)."""
        if not self.username or not self.password:
            raise BrokerUnavailable(
                "no Kafka credential is set (TANDEM_KAFKA_USERNAME and TANDEM_KAFKA_PASSWORD)"
            )
        return {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": MECHANISM,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password,
            "ssl_cafile": str(self.ca_file) if self.ca_file else None,
            "ssl_check_hostname": True,
        }

    def as_user(self, username: str, password: str) -> KafkaConnection:
        return KafkaConnection(self.bootstrap, username, password, self.ca_file)
