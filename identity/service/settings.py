"""Jati's settings, read from ``JATI_*`` environment variables (pydantic-settings).

In ``JATI_ENV=production`` :meth:`Settings.check_production` refuses generated or
placeholder secrets, a non-https issuer and missing settings, naming each and its fix.
"""

from __future__ import annotations

import ipaddress
import math
from collections import Counter
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from identity.errors import ConfigurationError
from identity.keys.master_key import decode_master_key, load_master_key

Environment = Literal["development", "production"]
DEFAULT_ISSUER = "http://127.0.0.1:8000"
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseSettings):
    """Every ``JATI_*`` setting. The README's settings table documents each one."""

    model_config = SettingsConfigDict(env_prefix="JATI_", extra="ignore", frozen=True)

    env: Environment = Field(
        default="development", description="`development` or `production` (strict checks)."
    )
    data_dir: Path = Field(
        default=Path("jati-data"),
        description="Directory for the SQLite database and the generated master key file.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default `sqlite:///<data_dir>/jati.db`. "
        "PostgreSQL: `postgresql+psycopg://user@host/db`.",
    )
    issuer: str | None = Field(
        default=None,
        description="Public base URL of this service (OIDC `iss`); default `http://HOST:PORT`.",
    )
    master_key: SecretStr | None = Field(
        default=None,
        description="32 random bytes, base64url; wraps every data key and private key. "
        "Default: a key file generated in the data dir (development only).",
    )
    log_level: LogLevel = Field(default="INFO", description="Application log level.")
    audit_max_merge_delay: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="Seconds within which an appended audit entry is covered by a "
        "published checkpoint.",
    )
    audit_verify_interval: int = Field(
        default=86_400,
        ge=0,
        le=30 * 86_400,
        description="Seconds between full verifications of the audit log in the service "
        "(as `jati audit verify` does, on one worker per host); 0: never.",
    )

    token_lifetime: int = Field(
        default=600,
        ge=60,
        le=86_400,
        description="Seconds an access or ID token stays valid; a retired signing key stays "
        "published this long (plus a minute) after rotation.",
    )
    session_lifetime: int = Field(
        default=8 * 3600,
        ge=60,
        le=30 * 86_400,
        description="Seconds a citizen's login session (the `jati_session` cookie) lasts "
        "from the login; not extended by use.",
    )
    console_session_lifetime: int = Field(
        default=3600,
        ge=300,
        le=12 * 3600,
        description="Seconds a staff member's console session (the `jati_console` cookie) "
        "lasts from the sign-in; it also ends after 15 minutes unused.",
    )
    refresh_token_lifetime: int = Field(
        default=14 * 86_400,
        ge=60,
        le=365 * 86_400,
        description="Seconds a refresh token stays valid; each use rotates it and the new "
        "one gets this lifetime again.",
    )
    credential_lifetime: int = Field(
        default=365 * 86_400,
        ge=3600,
        le=5 * 365 * 86_400,
        description="Seconds an SD-JWT VC identity credential is valid (`exp - iat`); "
        "revocation through its status list ends it earlier.",
    )
    activation_lifetime: int = Field(
        default=14 * 86_400,
        ge=3600,
        le=365 * 86_400,
        description="Seconds an activation code (`jati citizen add` without a password, "
        "`jati citizen reset-access`) stays valid after it is issued.",
    )
    webauthn_rp_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=253,
        pattern=r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$",
        description="The WebAuthn relying party ID passkeys are bound to: the issuer's host "
        "or a domain it is under; default the issuer's host. Passkeys stop working when it "
        "changes.",
    )
    consent_cache_max_age: float = Field(
        default=2.0,
        ge=0,
        le=60,
        description="Seconds a worker may reuse what it read about a citizen's consents when "
        "running on several hosts; workers of one host see every change at once.",
    )
    token_signing_alg: Literal["EdDSA", "Ed25519", "ES256"] = Field(
        default="EdDSA",
        description="Algorithm of access and ID tokens: `EdDSA` (Ed25519; what relying-party "
        "libraries expect today), its RFC 9864 name `Ed25519`, or `ES256` (P-256).",
    )
    status_list_size: int = Field(
        default=2**20,
        ge=1024,
        le=2**24,
        multiple_of=8,
        description="Entries per Token Status List (2 bits each); credentials get random "
        "indices in it, and a new list opens once one is a quarter full.",
    )
    status_list_ttl: int = Field(
        default=300,
        ge=10,
        le=72 * 3600,
        description="Seconds a relying party may cache a status list (its `ttl` claim and "
        "HTTP max-age): a revocation reaches every verifier within this time. At most 72 "
        "hours (UU PDP: a withdrawal takes effect everywhere within 72 hours).",
    )
    status_list_lifetime: int = Field(
        default=86_400,
        ge=60,
        le=72 * 3600,
        description="Seconds from `iat` to `exp` of a Status List Token (at least the ttl, "
        "at most 72 hours).",
    )
    audit_origin: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        pattern=r"^[^\s+]+$",
        description="C2SP origin (and key name) of the audit log; default "
        "`<issuer host and path>/audit`. Fixed by the first start.",
    )
    password_profile: Literal["rfc9106-low-memory", "rfc9106-high-memory", "test-only-cheapest"] = (
        Field(
            default="rfc9106-low-memory",
            description="argon2id parameters for citizens' passwords (RFC 9106 §4); "
            "`test-only-cheapest` is refused in production. Stored hashes made with other "
            "parameters are replaced at the next successful login.",
        )
    )
    login_account_max_failures: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="Failed logins per account within the failure window before the account "
        "is locked (unknown NIKs are counted alike).",
    )
    login_address_max_failures: int = Field(
        default=50,
        ge=1,
        le=100_000,
        description="Failed logins per client address within the failure window before the "
        "address is locked.",
    )
    login_failure_window: int = Field(
        default=900,
        ge=1,
        le=86_400,
        description="Seconds over which failed logins are counted.",
    )
    login_lockout: int = Field(
        default=60,
        ge=1,
        le=86_400,
        description="Seconds of the first lockout; each further lockout doubles it.",
    )
    login_max_lockout: int = Field(
        default=3600,
        ge=1,
        le=7 * 86_400,
        description="Longest lockout in seconds (the doubling stops here).",
    )
    hashing_threads: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Password and client-secret hashes (argon2id) each worker process runs "
        "at once, on threads of their own at a lower CPU priority; one hash already uses "
        "several cores.",
    )
    hashing_queue: int = Field(
        default=16,
        ge=0,
        le=10_000,
        description="Hashes that may wait per worker process beyond those running; one more "
        "is answered 503 with `Retry-After` at once instead of waiting.",
    )
    forwarded_allow_ips: str | None = Field(
        default=None,
        description="Addresses or networks (comma-separated, e.g. `10.0.0.5,10.1.0.0/16`) "
        "of the reverse proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are "
        "believed; `*` trusts every peer (only when nothing but the proxy can reach Jati). "
        "Default: none, each request's address is its TCP peer. Same as `jati serve "
        "--forwarded-allow-ips`.",
    )

    @model_validator(mode="after")
    def _status_list_ttl_within_lifetime(self) -> Settings:
        if self.status_list_ttl > self.status_list_lifetime:
            raise ValueError("JATI_STATUS_LIST_TTL must not exceed JATI_STATUS_LIST_LIFETIME")
        return self

    @field_validator("webauthn_rp_id")
    @classmethod
    def _rp_id_covers_the_issuer(cls, value: str | None, info: ValidationInfo) -> str | None:
        """WebAuthn Level 3 §5.1.2: the RP ID is the origin's host or a domain it is under."""
        if value is not None:
            issuer = info.data.get("issuer") or DEFAULT_ISSUER
            host = (urlsplit(issuer).hostname or "").lower()
            if host != value and not host.endswith("." + value):
                raise ValueError("must be the issuer's host or a domain the host is under")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("issuer")
    @classmethod
    def _strip_issuer(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _check_forwarded_allow_ips(cls, value: str | None) -> str | None:
        return parse_forwarded_allow_ips(value) if value is not None else None

    @property
    def effective_issuer(self) -> str:
        """The issuer in force: the setting, or the address ``jati serve`` listens on by
        default. Never derived from a request's Host header."""
        return self.issuer or DEFAULT_ISSUER

    @property
    def issuer_host(self) -> str:
        """The host name of the issuer in force, lower case, without the port."""
        return (urlsplit(self.effective_issuer).hostname or "localhost").lower()

    @property
    def effective_webauthn_rp_id(self) -> str:
        """The WebAuthn RP ID in force: the setting, or the issuer's host."""
        return self.webauthn_rp_id or self.issuer_host

    @property
    def webauthn_origin(self) -> str:
        """The origin passkey ceremonies must come from: the issuer's ``scheme://host[:port]``
        (WebAuthn Level 3 §13.4.9; matched exactly)."""
        parts = urlsplit(self.effective_issuer)
        return f"{parts.scheme}://{parts.netloc.lower()}"

    @property
    def resolved_database_url(self) -> str:
        """The database URL in force: the setting, or SQLite under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'jati.db').resolve()}"

    def load_master_key(self, *, create: bool = True) -> tuple[bytes, bool]:
        """The master key in force and whether it was generated (see
        :mod:`identity.keys.master_key`)."""
        configured = self.master_key.get_secret_value() if self.master_key else None
        return load_master_key(configured=configured, data_dir=self.data_dir, create=create)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def check_production(self) -> None:
        """Refuse to run in production with unsafe settings (lists every problem at once)."""
        if not self.is_production:
            return
        problems: list[str] = []
        if not self.master_key:
            problems.append(
                "JATI_MASTER_KEY is not set: a generated key file is for development only. "
                "Create one with `jati secrets generate-master-key` and keep it in your "
                "secret store."
            )
        elif not is_strong_secret(self.master_key.get_secret_value()):
            problems.append(
                "JATI_MASTER_KEY looks like a placeholder or is too weak: it must be 32 random "
                "bytes, base64url-encoded. Create one with `jati secrets generate-master-key`."
            )
        if not self.issuer:
            problems.append(
                "JATI_ISSUER is not set: set it to the public https URL of this service, "
                "e.g. https://id.example.go.id"
            )
        else:
            parts = urlsplit(self.issuer)
            if parts.scheme != "https" or not parts.hostname:
                problems.append(
                    f"JATI_ISSUER must be an https URL (OpenID Connect Discovery §3); got "
                    f"scheme {parts.scheme or 'none'!r}. Use e.g. https://id.example.go.id"
                )
            elif parts.query or parts.fragment:
                problems.append("JATI_ISSUER must not have a query or fragment.")
        if not self.database_url:
            problems.append(
                "JATI_DATABASE_URL is not set: name the database explicitly, e.g. "
                "postgresql+psycopg://jati@db.internal/jati or sqlite:////var/lib/jati/jati.db"
            )
        if problems:
            raise ConfigurationError(problems)


def parse_forwarded_allow_ips(value: str) -> str | None:
    """The trusted proxies as uvicorn's ``forwarded_allow_ips`` takes them: IP addresses and
    networks, comma-separated, normalised; ``*`` alone trusts every peer; blank means none.

    Raises:
        ValueError: an entry that is neither an address nor a network (uvicorn would
            silently compare it as text, and trust nothing or the wrong peer).
    """
    entries = [entry.strip() for entry in value.split(",") if entry.strip()]
    if not entries:
        return None
    if entries == ["*"]:
        return "*"
    checked = []
    for entry in entries:
        try:
            network = ipaddress.ip_network(entry)
        except ValueError:
            raise ValueError(
                f"{entry!r} is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/8, "
                "no host bits after the prefix); use * alone to trust every peer"
            ) from None
        single = network.num_addresses == 1 and "/" not in entry
        checked.append(str(network.network_address) if single else str(network))
    return ",".join(checked)


def is_strong_secret(value: str) -> bool:
    """True if ``value`` decodes to 32 bytes that look random (a placeholder such as
    ``changeme`` or 32 zero bytes does not)."""
    try:
        raw = decode_master_key(value)
    except ValueError:
        return False
    return _shannon_bits_per_byte(raw) >= 3.5


def _shannon_bits_per_byte(data: bytes) -> float:
    counts = Counter(data)
    total = len(data)
    return -sum(c / total * math.log2(c / total) for c in counts.values())
