"""Node settings: one pydantic-settings object, read once at start-up and passed down.

Sources, highest priority first: environment variables (``COALITION_NODE_*``), then the
node's settings file ``DIR/node.yaml`` written by ``coalition node init``. Nothing below the
entry points reads the environment or the file again.

Argon2 defaults are the argon2-cffi library defaults (RFC 9106 "second recommended" profile);
tests lower them through the same fields to stay fast.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Any, Literal

import argon2
import yaml
from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from coalition.core.errors import ConfigError
from coalition.crypto.suite import CryptoSuite

__all__ = ["SETTINGS_FILE", "NodeSettings"]

SETTINGS_FILE = "node.yaml"


class NodeSettings(BaseSettings):
    """Everything a node needs to run; paths are resolved against ``home``."""

    model_config = SettingsConfigDict(env_prefix="COALITION_NODE_", extra="forbid")

    home: Path
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    database_url: str | None = None
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8470, ge=0, le=65535)
    peer_host: str = "127.0.0.1"
    peer_port: int = Field(default=8471, ge=0, le=65535)
    peer_address: str | None = None  # advertised to partners; defaults to peer_host:peer_port
    peer_timeout_s: float = Field(default=10.0, gt=0)
    # Where a party's heavy maps run in this node's workers (coalition.compute; docs/deploy.md
    # "Ray"): a local process pool of compute_workers (1: inline), or Ray on compute_workers
    # local CPUs or the cluster at compute_ray_address. Only this node's operator chooses: the
    # work items can hold this organisation's raw features.
    compute_backend: Literal["local", "ray"] = "local"
    compute_workers: int = Field(default=1, ge=1, le=4096)
    compute_ray_address: str | None = None
    # Log lines of `coalition node start` (coalition.node.logs): text, or JSON with job/task ids.
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    argon2_time_cost: int = Field(default=argon2.DEFAULT_TIME_COST, ge=1)
    argon2_memory_cost: int = Field(default=argon2.DEFAULT_MEMORY_COST, ge=8)
    argon2_parallelism: int = Field(default=argon2.DEFAULT_PARALLELISM, ge=1)
    session_ttl_s: int = Field(default=8 * 3600, ge=60)
    # Login throttling (coalition.node.auth.ratelimit): per (username, client) the first
    # ``login_max_failures`` attempts are immediate, then each waits twice as long as the last,
    # from ``login_backoff_base_s`` up to ``lockout_s``; never a hard lock of the account.
    login_max_failures: int = Field(default=5, ge=1)
    login_backoff_base_s: float = Field(default=1.0, gt=0)
    lockout_s: int = Field(default=15 * 60, ge=1)
    login_rate_per_minute: int = Field(default=20, ge=1)  # per client address, any username
    login_audit_window_s: int = Field(default=300, ge=1)  # failed logins: one audit row per window
    # Reverse proxies (CIDRs) whose X-Forwarded-For is believed; empty: the socket peer is the
    # client. List only proxies you run: a listed address can claim to be any client.
    trusted_proxies: list[IPv4Network | IPv6Network] = Field(default_factory=list)
    # Live job event streams (server-sent events) open at once, per user and in all.
    event_streams_per_user: int = Field(default=4, ge=1)
    event_streams_total: int = Field(default=64, ge=1)
    # Tamper protection of model parts partners publish here: this node's choice, never theirs.
    partner_models_protected: bool = True
    # Folders datasets may be registered from (besides ``home/data``): a user with the
    # datasets.manage permission must not be able to read arbitrary files of the node's host.
    data_dirs: list[Path] = Field(default_factory=list)
    # Privacy policy (coalition.engine.policy), checked before this node accepts any job.
    # Both may only be raised above their floors (10 and 2); see docs/security.md "policy".
    policy_min_he_batch_factor: int = Field(default=10, ge=10)
    policy_min_client_orgs: int = Field(default=2, ge=2)
    # The federation's crypto suite (coalition.crypto.suite): standard, or sm for the national
    # algorithms (SM2/SM3/SM4). A job whose PSI tasks name another suite is refused.
    crypto_suite: CryptoSuite = CryptoSuite.STANDARD

    # What one partner may make this node hold or do over the peer endpoint (see
    # coalition.node.limits); refusals are typed (limit.exceeded / input.invalid).
    peer_max_request_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    peer_rate_per_minute: float = Field(default=600.0, gt=0)  # control calls, not serving
    peer_rate_burst: int = Field(default=600, ge=1)
    job_max_pending_per_partner: int = Field(default=20, ge=1)  # proposals not yet started
    grant_max_pending_per_partner: int = Field(default=20, ge=1)
    job_max_tasks: int = Field(default=200, ge=1)
    job_max_parties: int = Field(default=64, ge=2)
    job_max_timeout_s: float = Field(default=86400.0, ge=1.0)  # a proposal's timeout_s is clamped

    # Audit sealing (docs/security.md "audit"): the MAC key and the latest signed checkpoint live
    # outside the database; put them on another volume to keep them from a database attacker.
    audit_key_file: Path | None = None  # default: home/identity/audit.key
    audit_checkpoint_file: Path | None = None  # default: home/identity/audit-checkpoint.json
    audit_checkpoint_every: int = Field(default=20, ge=1, le=100_000)
    # At start a broken trail either stops the node ("refuse") or is recorded as an alert.
    audit_on_tamper: Literal["refuse", "alert"] = "refuse"
    # Federation log (docs/ledger.md): the initiator of a job operates the log its records go
    # to; each partner witnesses it. A head is final with ``ledger_quorum`` co-signatures
    # (0: more than half of the log's witnesses). ``ledger_anchor_file``: final heads are also
    # appended there (FileAnchor).
    ledger_enabled: bool = True
    ledger_quorum: int = Field(default=0, ge=0, le=1000)
    ledger_anchor_file: Path | None = None
    # Key that encrypts SQL dataset passwords stored in the database (docs/security.md "audit").
    credentials_key_file: Path | None = None  # default: home/identity/credentials.key

    # Serving (finding 7 of issue 16): quotas (IDs per UTC day) and token-bucket rates (IDs per
    # second, burst) per partner asking this node (a host) for partial results, and per API
    # key or session calling a service's predict route here (a deploy may set its own).
    serving_partner_ids_per_day: int = Field(default=10_000_000, ge=1)
    serving_partner_ids_per_s: float = Field(default=20_000.0, gt=0)
    serving_partner_burst_ids: int = Field(default=40_000, ge=1)
    # Per-partner overrides: {org: {ids_per_day, ids_per_s, burst_ids}} (missing keys: defaults).
    serving_partner_limits: dict[str, dict[str, float]] = Field(default_factory=dict)
    serving_key_ids_per_day: int = Field(default=2_000_000, ge=1)
    serving_key_ids_per_s: float = Field(default=2_000.0, gt=0)
    serving_key_burst_ids: int = Field(default=4_000, ge=1)
    # Query volume is audited as one aggregate per subject and service per window.
    serving_audit_window_s: int = Field(default=3600, ge=1)
    # Finding 19: a host refuses to serve or predict with a linear model part of fewer
    # features than this (with one host the guest sees w_h·x_h per row).
    policy_min_serving_features: int = Field(default=2, ge=1)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment overrides the values read from the settings file."""
        return (env_settings, init_settings)

    @classmethod
    def load(cls, home: Path, **overrides: Any) -> NodeSettings:
        """Read ``home/node.yaml``; ``overrides`` (e.g. CLI flags) win over the file."""
        path = home / SETTINGS_FILE
        if not path.is_file():
            raise ConfigError("not a node home: settings file missing", path=str(path))
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError("settings file is not valid YAML", path=str(path)) from exc
        if not isinstance(data, dict):
            raise ConfigError("settings file must be a mapping", path=str(path))
        data.update({k: v for k, v in overrides.items() if v is not None})
        data["home"] = home
        return cls(**data)

    def save(self) -> None:
        """Write the settings file (without ``home``, which is where the file lives)."""
        data = self.model_dump(mode="json", exclude={"home"}, exclude_defaults=True)
        data["name"] = self.name
        (self.home / SETTINGS_FILE).write_text(yaml.safe_dump(data, sort_keys=True), encoding="utf-8")

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL: ``database_url`` or a SQLite file in the home."""
        return self.database_url or f"sqlite:///{(self.home / 'node.db').resolve()}"

    @property
    def allowed_data_dirs(self) -> list[Path]:
        """Resolved folders datasets may live in: ``home/data`` plus ``data_dirs``."""
        return [(self.home / "data").resolve(), *(p.resolve() for p in self.data_dirs)]

    @property
    def identity_dir(self) -> Path:
        """Where the node key and certificate live."""
        return self.home / "identity"

    @property
    def audit_key_path(self) -> Path:
        """The audit MAC key file (mode 0600)."""
        return self.audit_key_file or self.identity_dir / "audit.key"

    @property
    def audit_checkpoint_path(self) -> Path:
        """The latest signed audit checkpoint (mode 0600)."""
        return self.audit_checkpoint_file or self.identity_dir / "audit-checkpoint.json"

    @property
    def credentials_key_path(self) -> Path:
        """The key file that seals SQL dataset passwords (mode 0600)."""
        return self.credentials_key_file or self.identity_dir / "credentials.key"

    @property
    def advertised_peer_address(self) -> str:
        """The ``host:port`` partners should dial."""
        return self.peer_address or f"{self.peer_host}:{self.peer_port}"
