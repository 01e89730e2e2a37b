"""All configuration, from TANDEM_* environment variables (or a .env file)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.prescribing_safety import US_STATES


class Settings(BaseSettings):
    """One validated settings object; the composition root reads nothing else."""

    model_config = SettingsConfigDict(env_prefix="TANDEM_", env_file=".env", extra="ignore")

    @field_validator("clinic_timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"TANDEM_CLINIC_TIMEZONE: {value!r} is not an IANA time zone name "
                "(for example America/New_York, Pacific/Honolulu or UTC)"
            ) from None
        return value

    @property
    def clinic_zone(self) -> ZoneInfo | None:
        return ZoneInfo(self.clinic_timezone) if self.clinic_timezone is not None else None

    data_dir: Path = Field(default=Path("data"), description="Where the embedded store lives.")

    # The clinic's time zone, an IANA name (America/New_York, Pacific/Honolulu): "the same
    # day", due dates and overdue are counted in its days, and the pages show every time in
    # it with its abbreviation. Unset: the rules count each entry's day in the UTC offset
    # it was entered with, as they did before this setting, and the pages show UTC (saying
    # so). Not UTC by default: that would move, unannounced, every same-day deadline of an
    # entry made with a local offset to UTC's midnight, and change the answers an existing
    # record gives; a clinic sets its zone once, knowingly.
    clinic_timezone: str | None = None
    store: Literal["sqlite", "postgres"] = "sqlite"

    # The clinic's US state (two capitals) for prescription-monitoring program checks: a
    # PDMP check recorded without a state is recorded in it, and the interval of the next
    # check follows the state's row (domain/prescribing_safety.py, PDMP_STATES; a state
    # not on file, or none, takes the default: before the start and every 90 days).
    pdmp_state: str = Field(default="", pattern=r"^([A-Z]{2})?$")

    @field_validator("pdmp_state")
    @classmethod
    def _a_us_state(cls, value: str) -> str:
        if value and value not in US_STATES:
            raise ValueError(f"'{value}' is not a US state or territory code")
        return value

    postgres_host: str = "127.0.0.1"
    postgres_port: int = 5432
    postgres_dbname: str = "tandem"
    postgres_user: str = "tandem"
    postgres_password: SecretStr = SecretStr("")
    postgres_schema: str = ""

    # AES-GCM key (base64 of 16, 24 or 32 bytes) for encryption at rest; unset = plaintext.
    # New events are sealed under it; after a rotation, the keys it replaced go in
    # cipher_old_keys (comma-separated, same format), which only ever decrypt.
    cipher_key: SecretStr | None = None
    cipher_old_keys: SecretStr | None = None
    compress: bool = False
    # The receiver's own key (`tandem receive`: another organisation's store), same format;
    # unset = its store keeps what it receives as plain text.
    receiver_cipher_key: SecretStr | None = None

    # What an MRN's claim id is keyed on (HMAC-SHA256), so the MRN cannot be turned into
    # that id without it. Set it before the first registration and never change it: claims
    # are found by it. Unset = a plain hash of the MRN (patient ids are random either way).
    mrn_key: SecretStr | None = None

    # Signing key for API tokens. Required with the postgres store; the embedded default
    # generates one on first start and keeps it in the data directory (mode 0600).
    jwt_secret: SecretStr | None = None
    token_minutes: int = Field(default=60, ge=1, le=24 * 60)
    # Sign-in throttling (application/throttle.py): free failures per account and address
    # (ten times as many per address), then a delay doubling from 1 s up to the window; a
    # counter is forgotten a window after its last failure; at most this many are kept.
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: float = Field(default=300.0, gt=0)
    login_throttle_capacity: int = Field(default=10_000, ge=10)
    # Page sessions (DATA_DIR/sessions.sqlite): signed out after this long without a
    # request (automatic logoff, 45 CFR 164.312(a)(2)(iii)), and at the latest this long
    # after signing in.
    session_idle_minutes: float = Field(default=15.0, gt=0, le=24 * 60)
    session_max_hours: float = Field(default=12.0, gt=0, le=7 * 24)
    # Mark the page cookies Secure: set when the pages are reached over TLS.
    secure_cookies: bool = False

    # Proxies whose X-Forwarded-For / X-Forwarded-Proto `tandem serve` believes (uvicorn's
    # forwarded_allow_ips: comma-separated addresses or networks, "*" for any). Empty: none,
    # the client address is the connection's own (what sign-in throttling counts by).
    trusted_proxies: str = ""

    # Where the record index is kept up to date: "inline" (a thread of the API process) or
    # "worker" (a separate `tandem project --loop` process; the API then only reads it).
    index_worker: Literal["inline", "worker"] = "inline"

    # How often the API links (and publishes) events other processes wrote; its own writes
    # are linked after every group commit.
    chain_seconds: float = Field(default=2.0, gt=0)
    # Signed chain heads: the Ed25519 keyring that signs them (made on first use) and the
    # append-only JSON-lines file they are published to. Both must lie outside data_dir,
    # out of reach of whoever could rewrite it; set both or neither.
    signing_key_file: Path | None = None
    head_log: Path | None = None

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
