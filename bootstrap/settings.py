"""All configuration, from TANDEM_* environment variables (or a .env file)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """One validated settings object; the composition root reads nothing else."""

    model_config = SettingsConfigDict(env_prefix="TANDEM_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Where the embedded store lives.")
    store: Literal["sqlite", "postgres"] = "sqlite"

    postgres_host: str = "127.0.0.1"
    postgres_port: int = 5432
    postgres_dbname: str = "tandem"
    postgres_user: str = "tandem"
    postgres_password: SecretStr = SecretStr("")
    postgres_schema: str = ""

    # AES-GCM key (base64 of 16, 24 or 32 bytes) for encryption at rest; unset = plaintext.
    cipher_key: SecretStr | None = None
    compress: bool = False
    # The receiver's own key (`tandem receive`: another organisation's store), same format;
    # unset = its store keeps what it receives as plain text.
    receiver_cipher_key: SecretStr | None = None

    # Signing key for API tokens. Required with the postgres store; the embedded default
    # generates one on first start and keeps it in the data directory (mode 0600).
    jwt_secret: SecretStr | None = None
    token_minutes: int = Field(default=60, ge=1, le=24 * 60)
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: float = Field(default=300.0, gt=0)

    # Where the record index is kept up to date: "inline" (a thread of the API process) or
    # "worker" (a separate `tandem project --loop` process; the API then only reads it).
    index_worker: Literal["inline", "worker"] = "inline"

    # How often the API links new events into the tamper-evident hash chain.
    chain_seconds: float = Field(default=2.0, gt=0)

    # Apache Kafka, for sharing with outside providers (`tandem relay`, `tandem receive`):
    # SASL_SSL only (SCRAM-SHA-512 over TLS). This process's own credential: the relay's
    # for `tandem relay`, a recipient's (issued when it was added to the directory) for
    # `tandem receive`. The CA file checks the broker's certificate (unset: the system's CAs).
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_username: str = ""
    kafka_password: SecretStr = SecretStr("")
    kafka_ca_file: Path | None = None
    # The clinic's admin credential on the broker (the API and `tandem directory`): with it,
    # adding a recipient creates its credential and ACLs, removing it revokes them. Unset:
    # entries get no broker access. The relay's user is granted each recipient's topic.
    kafka_admin_username: str = ""
    kafka_admin_password: SecretStr = SecretStr("")
    kafka_relay_username: str = "tandem-relay"

    # Reminders: "log" writes them to the log; "smtp" sends e-mail through this server.
    notify_sender: Literal["log", "smtp"] = "log"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_from: str = "reminders@tandem.invalid"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None

    # Password for the demo users; when unset, `tandem demo` generates and prints one.
    demo_password: SecretStr | None = None

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "events.sqlite"
