"""Settings, read from the environment with the ``SEXTO_`` prefix.

Development is the default so that ``make run`` works on a fresh machine: the
SQLite database and the signing key are created under ``var/``.  Production
refuses to start without an explicit database URL and signing key, and with
weakened password hashing.  In every environment, the first admin's password
follows the rules of ``app.passwords`` (which refuse the demo
password: it contains the service's name).
"""

from __future__ import annotations

import base64
import ipaddress
import json
from enum import StrEnum
from pathlib import Path
from types import UnionType
from typing import Any, Literal, get_args, get_origin

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

from app import passwords
from app.i18n import translate

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"
DEFAULT_DEMO_PASSWORD = "sexto-demo-2026"
# A token nobody guesses (the metrics endpoint does not count failed tries).
METRICS_TOKEN_MIN_LENGTH = 32


class LogLevel(StrEnum):
    """The lowest level the logs hold (``info`` is read as ``INFO`` too)."""

    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"

    @classmethod
    def _missing_(cls, value: object) -> LogLevel | None:
        return cls.__members__.get(str(value).upper())


# The roles by name (``app.accounts.models.Role``; a test holds the two
# together): the settings reach no domain package.
RoleName = Literal[
    "school_staff", "school_lead", "police_liaison", "dpj_reporter", "auditor", "privacy_officer", "admin"
]


class Environment(StrEnum):
    development = "development"
    production = "production"


class DatabaseSettings(BaseSettings):
    """What migrating needs, and nothing more: the database's URLs and the
    application role, never a key.  ``sexto migrate`` and ``sexto db
    create-app-role`` read these alone, so that the one-shot migration job is
    given the owner's URL and no signing or data key; the service reads them
    as part of ``Settings``."""

    # A refused setting's error would otherwise quote every setting given,
    # secrets included.
    model_config = SettingsConfigDict(env_prefix="SEXTO_", extra="ignore", hide_input_in_errors=True)

    environment: Environment = Field(
        default=Environment.development,
        description="`production` refuses to start without SEXTO_DATABASE_URL, the token and audit signing "
        "keys, the data keys and an audit witness, or with argon2 parameters below the recommended ones, and refuses to load "
        "demo data (`sexto migrate` and `sexto db create-app-role` need only a database URL, no key). "
        "`development` creates what is missing under SEXTO_VAR_DIR.",
    )
    var_dir: Path = Field(
        default=DEFAULT_VAR_DIR,
        description="Development state: the SQLite database and the keys generated once (token and audit "
        "signing keys, data keys).",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL the service connects with, as the application role "
        "(SEXTO_DATABASE_APP_ROLE), e.g. `postgresql+psycopg://sexto_app@db.internal/sexto`. Unset: the SQLite "
        "file `sexto.db` under SEXTO_VAR_DIR (development only).",
    )
    database_url_file: Path | None = Field(
        default=None,
        description="A file holding the database URL (it may hold a password), instead of SEXTO_DATABASE_URL.",
    )
    migration_database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the database's owner, which `sexto migrate` and `sexto db create-app-role` "
        "connect with, e.g. `postgresql+psycopg://sexto_owner@db.internal/sexto`; the service never reads it. "
        "Unset: they use SEXTO_DATABASE_URL ([deploying.md](deploying.md#the-database-an-owner-that-migrates-a-role-that-serves)).",
    )
    migration_database_url_file: Path | None = Field(
        default=None,
        description="A file holding the migration URL (it may hold the owner's password), instead of "
        "SEXTO_MIGRATION_DATABASE_URL.",
    )
    database_app_role: str | None = Field(
        default=None,
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="PostgreSQL role the service connects as; every migration ends by granting it "
        "SELECT and INSERT only on the audit tables (full DML elsewhere). Give it to `sexto migrate`.",
    )

    @model_validator(mode="after")
    def _database_urls_from_files(self) -> DatabaseSettings:
        read_secret_files(self, DATABASE_SECRET_FILE_SETTINGS)
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.var_dir / 'sexto.db'}"

    @property
    def effective_migration_database_url(self) -> str:
        """The owner's URL when given, else the service's; never SQLite by
        default in production."""
        url = self.migration_database_url or self.database_url
        if url:
            return url
        if self.is_production:
            raise ValueError("SEXTO_MIGRATION_DATABASE_URL or SEXTO_DATABASE_URL is required in production")
        return self.effective_database_url

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.production


class Settings(DatabaseSettings):
    """Every setting is an environment variable: ``SEXTO_`` and the field's name.

    Each field's description is its entry in docs/configuration.md, which
    ``make docs`` generates from them (a test fails when the page drifts).
    """

    # Token signing: an Ed25519 private key in PEM.  Older public keys stay
    # accepted for verification while tokens they signed may still be alive.
    token_signing_key: SecretStr | None = Field(
        default=None,
        description="Ed25519 private key (PKCS#8 PEM) that signs access tokens. Unset, with no key file: "
        "generated once under SEXTO_VAR_DIR in development; one of the two is required in production.",
    )
    token_signing_key_file: Path | None = Field(
        default=None, description="A file holding the token signing key, instead of SEXTO_TOKEN_SIGNING_KEY."
    )
    token_previous_public_keys: list[str] = Field(
        default_factory=list,
        description="PEM public keys of earlier token signing keys, still accepted while their tokens live "
        "(key rotation).",
    )
    token_issuer: str = Field(default="sexto-service", description="`iss` of the tokens issued and required.")
    token_audience: str = Field(default="sexto-api", description="`aud` of the tokens issued and required.")
    token_lifetime_seconds: int = Field(default=900, ge=60, le=3600, description="Access-token lifetime.")
    session_idle_timeout_seconds: int = Field(
        default=1800,
        ge=60,
        le=28800,
        description="A browser session ends after this long without a request (30 minutes: OWASP ASVS 5.0 "
        "V7 for sensitive data; the web app's reads keep an active person signed in).",
    )
    session_lifetime_seconds: int = Field(
        default=43200,
        ge=300,
        le=86400,
        description="A browser session ends this long after its sign-in, however active (12 hours: a school "
        "day, so a person signs in again each day; NIST SP 800-63B caps it at 12 hours at AAL2).",
    )
    oidc_client_secrets_dir: Path | None = Field(
        default=None,
        description="The folder of the single sign-on clients' secrets, one file per identity provider, named "
        "by its registration's `client_secret_file` (docs/single-sign-on.md). The secrets are read from there "
        "when a code is exchanged, never stored in the database. Unset: single sign-on is off (sign-ins through "
        "a provider are refused with `sso_unavailable`).",
    )
    oidc_timeout_seconds: int = Field(
        default=5,
        ge=1,
        le=30,
        description="How long a call to an identity provider (discovery, keys, code exchange) may take.",
    )
    oidc_sign_in_seconds: int = Field(
        default=600,
        ge=60,
        le=3600,
        description="How long a single sign-on started may take to come back from the provider (10 minutes).",
    )
    oidc_metadata_seconds: int = Field(
        default=3600,
        ge=60,
        le=86400,
        description="How long a provider's discovery document and keys are kept before they are fetched again. "
        "An ID token signed by a key not among them fetches the keys again at once, at most once per "
        "`SEXTO_OIDC_KEYS_REFRESH_SECONDS`.",
    )
    oidc_keys_refresh_seconds: int = Field(
        default=60,
        ge=1,
        le=3600,
        description="The least time between two fetches of a provider's keys for an unknown key id.",
    )
    session_cookie_secure: bool | None = Field(
        default=None,
        description="Mark the session cookie `Secure` and name it with the `__Host-` prefix "
        "(`__Host-sexto_session`). Unset: on in production, off in development, where `make run` serves plain "
        "http and the cookie is `sexto_session`. Production refuses `false`.",
    )

    # Audit log: checkpoints are signed with their own Ed25519 key.
    audit_signing_key: SecretStr | None = Field(
        default=None,
        description="Ed25519 private key (PKCS#8 PEM) that signs audit checkpoints, apart from the token key. "
        "Unset, with no key file: generated once under SEXTO_VAR_DIR in development; one of the two is "
        "required in production.",
    )
    audit_signing_key_file: Path | None = Field(
        default=None, description="A file holding the audit signing key, instead of SEXTO_AUDIT_SIGNING_KEY."
    )
    audit_previous_public_keys: list[str] = Field(
        default_factory=list,
        description="PEM public keys of earlier checkpoint keys, so that older checkpoints still verify.",
    )
    audit_checkpoint_interval_seconds: int = Field(
        default=300,
        ge=0,
        description="Each chain's head is signed (when it moved) at start-up and at least this often, "
        "and published to SEXTO_AUDIT_WITNESS (0: not by time).",
    )
    audit_checkpoint_every_entries: int = Field(
        default=1000,
        ge=0,
        description="A checkpoint is also signed and published whenever a chain reaches a multiple of this "
        "many entries, whichever comes first with SEXTO_AUDIT_CHECKPOINT_INTERVAL_SECONDS (0: not by count; "
        "both 0: no checkpoint at start-up either, only on demand).",
    )
    audit_witness: str | None = Field(
        default=None,
        pattern=r"^(none|file:.+|directory:.+)$",
        description="Where each signed checkpoint is published, outside the database, so that verification "
        "finds a tail deleted from the log: `file:<path>` (one JSON line per checkpoint, appended), "
        "`directory:<path>` (one file per checkpoint, never replaced) or `none`. Point it at storage the "
        "database administrators cannot rewrite ([audit.md](audit.md#the-witness-outside-the-database)). "
        "Unset: `file:` `audit-witness.jsonl` under SEXTO_VAR_DIR for the development database there, "
        "`none` with SEXTO_DATABASE_URL in development; required (not `none`) in production.",
    )
    grid_templates_dirs: list[Path] = Field(
        default_factory=list,
        description="Extra folders of grid templates (`v<N>.json`), e.g. a board's official grid.",
    )

    maintenance_interval_seconds: int = Field(
        default=3600,
        ge=0,
        description=(
            "How often expired idempotency keys, sign-in throttle rows, revocations of expired tokens"
            " and request-limit counters are purged (0: never)."
        ),
    )
    idempotency_ttl_seconds: int = Field(
        default=86400, ge=60, description="How long an Idempotency-Key's first answer is kept."
    )

    # Personal information at rest (participants' names and student ids, kept
    # idempotent answers): AES-256-GCM keys by id, base64; the current one encrypts.
    data_keys: SecretStr | None = Field(
        default=None,
        description='AES-256-GCM keys for personal information at rest, as JSON: `{"key id": "base64 of 32 '
        'bytes"}`. Unset: one generated once under SEXTO_VAR_DIR in development; required in production.',
    )
    data_key_current: str | None = Field(
        default=None,
        description="The id of the key in SEXTO_DATA_KEYS that encrypts (the others only decrypt). "
        "Unset: the greatest key id.",
    )
    data_keys_file: Path | None = Field(
        default=None,
        description="A file holding the data keys (the JSON of SEXTO_DATA_KEYS), instead of SEXTO_DATA_KEYS "
        "(`sexto keys generate` writes one).",
    )

    local_timezone: str = Field(
        default="America/Toronto",
        description="Time zone of 'today' for agreement dates, for recorded event dates (none may be in the future) "
        "and of the access review's school hours "
        "(Quebec follows America/Toronto).",
    )

    # Retention (Quebec's Act respecting access to documents held by public
    # bodies, s. 73): a board's own rule replaces this default.
    retention_default_years: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Years after closure before a case's personal information is destroyed, for boards "
        "without a rule of their own.",
    )

    # Access review (privacy officer): what counts as unusual in the audit log.
    review_denied_threshold: int = Field(
        default=10, ge=1, description="Access review: denied requests by one account in one window."
    )
    review_distinct_cases_threshold: int = Field(
        default=20, ge=1, description="Access review: different cases reached by one account in one window."
    )
    review_window_minutes: int = Field(
        default=60, ge=1, le=24 * 60, description="Access review: the sliding window, in minutes."
    )
    review_school_hours: tuple[int, int] = Field(
        default=(7, 18),
        description="Access review: local hours [start, end) of school days (Monday to Friday); case access "
        "by school staff and leads outside them is a finding.",
    )

    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (`10.0.0.5`, `10.0.0.0/24`) of the reverse proxies in front of the "
        "service: only a request whose peer is one of them has its client address (the one the audit log "
        "records) and scheme taken from `X-Forwarded-For` and `X-Forwarded-Proto`. Empty: "
        "none is trusted, the peer is the client. Serve with uvicorn's `--no-proxy-headers` "
        "([operations.md](operations.md#behind-a-reverse-proxy)).",
    )
    api_docs: bool | None = Field(
        default=None,
        description="Serve Swagger UI at `/docs` and ReDoc at `/redoc` (from the service itself, no CDN). "
        "Unset: on in development, off in production. The OpenAPI document at `/openapi.json` is served "
        "either way.",
    )
    web_dist: Path | None = Field(
        default=None,
        description="The built web app (`npm run build` in `web/`) served at `/`. Unset: `web/dist` of the "
        "source checkout. Without it `/` says how to build the app; the API serves either way.",
    )

    log_level: LogLevel = Field(
        default=LogLevel.INFO,
        description="The lowest level written to the logs: one JSON line per request and per message, on "
        "standard error ([operations.md](operations.md#logs)).",
    )

    metrics_token: SecretStr | None = Field(
        default=None,
        description="The bearer token Prometheus sends to `GET /metrics` (at least 32 characters, e.g. "
        "`openssl rand -hex 32`; compared in constant time; anyone else gets 401). Unset: no `/metrics`, and "
        "no metric is recorded. With several worker processes, set `PROMETHEUS_MULTIPROC_DIR` too "
        "([deploying.md](deploying.md#metrics)).",
    )
    metrics_token_file: Path | None = Field(
        default=None, description="A file holding the metrics token, instead of SEXTO_METRICS_TOKEN."
    )

    max_body_bytes: int = Field(
        default=256 * 1024, ge=1024, description="Request bodies over this get 413, declared or streamed."
    )

    # Password hashing (argon2id).  The defaults are pwdlib's recommended ones;
    # the test suite lowers them, production refuses anything weaker.
    argon2_time_cost: int = Field(
        default=3, ge=1, description="argon2id time cost (pwdlib's recommended value; production refuses less)."
    )
    argon2_memory_cost: int = Field(
        default=65536,
        ge=8,
        description="argon2id memory cost in KiB (pwdlib's recommended value; production refuses less "
        "unless the time cost is raised).",
    )
    argon2_parallelism: int = Field(default=4, ge=1, description="argon2id parallelism (pwdlib's recommended value).")
    max_concurrent_password_hashes: int = Field(
        default=2, ge=1, description="Password hashes computed at once per process; the rest wait."
    )

    # Failed logins, counted per account name in the database.
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed sign-ins per account name within the window before a lock."
    )
    login_failure_window_seconds: int = Field(
        default=900, ge=1, description="The window in which failed sign-ins are counted."
    )
    login_lockout_seconds: int = Field(
        default=900, ge=1, description="How long the lock lasts (429 with `Retry-After`)."
    )

    # The second factor of local accounts (app.auth.mfa).
    mfa_required_roles: list[RoleName] | None = Field(
        default=None,
        description="Roles whose people must have a second factor (TOTP): until they enrol, they sign in with "
        "their password but reach nothing ([security.md](security.md#a-second-factor-totp)). Service "
        "accounts are never concerned. Unset: every role that reads case contents (`school_staff`, "
        "`school_lead`, `police_liaison`, `dpj_reporter`) in production, none in development. `[]`: none.",
    )
    mfa_totp_issuer: str = Field(
        default="Sexto",
        min_length=1,
        max_length=60,
        description="The issuer an authenticator app shows beside the account name (the otpauth:// URI's).",
    )

    # Sign-in attempts counted before any hashing (app.limits), per client
    # address and over all of them, across processes and instances.
    signin_limit_per_address: int = Field(
        default=60,
        ge=1,
        description="Sign-in attempts (both grants) per client address within the window; more get 429 "
        "`signin_rate_limited` with `Retry-After`, before any password is hashed. A school's staff often share "
        "one address: keep it well above a building's sign-ins at the start of the day.",
    )
    signin_limit_global: int = Field(
        default=1200,
        ge=1,
        description="Sign-in attempts from all addresses together within the window, across every process "
        "and instance (a flood from many addresses); more get 429 `signin_rate_limited`.",
    )
    signin_limit_window_seconds: int = Field(
        default=60, ge=1, le=3600, description="The window of the two sign-in limits."
    )
    password_hash_queue: int = Field(
        default=8,
        ge=0,
        description="Sign-ins that may wait, per process, for one of the SEXTO_MAX_CONCURRENT_PASSWORD_HASHES "
        "slots; the next get 503 `signin_busy` with `Retry-After` at once.",
    )

    # Expensive reads, limited per caller (account) and per route (app.limits).
    audit_verify_limit: int = Field(
        default=6, ge=1, description="`GET /api/v1/audit/verify` calls per account within the window (429 beyond)."
    )
    audit_export_limit: int = Field(
        default=60,
        ge=1,
        description="`GET /api/v1/audit/export` calls per account within the window (429 beyond); each call "
        "returns up to 10,000 entries.",
    )
    access_review_limit: int = Field(
        default=20,
        ge=1,
        description="`GET /api/v1/privacy/access-review` calls per account within the window (429 beyond).",
    )
    expensive_limit_window_seconds: int = Field(
        default=60, ge=1, le=3600, description="The window of the three limits above."
    )

    first_admin_username: str | None = Field(
        default=None,
        description="With SEXTO_FIRST_ADMIN_PASSWORD: creates this admin at start-up when no admin exists.",
    )
    first_admin_password: SecretStr | None = Field(
        default=None,
        description="The first admin's password: refused at start-up when an admin could not be given it "
        "(too short or too long, common or breached, or containing the username or the service's name).",
    )
    first_admin_password_file: Path | None = Field(
        default=None,
        description="A file holding the first admin's password, instead of SEXTO_FIRST_ADMIN_PASSWORD.",
    )
    demo_password: SecretStr = Field(
        default=SecretStr(DEFAULT_DEMO_PASSWORD),
        description="The demo users' password (demo only: production refuses to load demo data).",
    )
    demo_password_file: Path | None = Field(
        default=None, description="A file holding the demo users' password, instead of SEXTO_DEMO_PASSWORD."
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses_or_networks(cls, value: list[str]) -> list[str]:
        # uvicorn's middleware takes anything it cannot read (a name, a network
        # with host bits set) as a literal that never matches: a typo would
        # silently trust nobody.
        for item in value:
            ipaddress.ip_network(item) if "/" in item else ipaddress.ip_address(item)
        return value

    # Validators run in this order: the first admin's password, what
    # production lacks, the files read (a password read is checked then), the
    # metrics token's length, the data keys.

    @model_validator(mode="after")
    def _first_admin_password_is_acceptable(self) -> Settings:
        if self.first_admin_username is None or self.first_admin_password is None:
            return self
        kind = passwords.weakness(
            self.first_admin_password.get_secret_value(), username=self.first_admin_username, full_name=""
        )
        if kind is not None:
            message = {"string_too_short": "field_too_short", "string_too_long": "field_too_long"}.get(kind, kind)
            reason = translate(message, "en", min_length=passwords.MIN_LENGTH, max_length=passwords.MAX_LENGTH)
            raise ValueError(f"SEXTO_FIRST_ADMIN_PASSWORD is refused: {reason}")
        return self

    @model_validator(mode="after")
    def _production_is_explicit(self) -> Settings:
        if self.environment is not Environment.production:
            return self
        problems = []
        if not self.database_url and self.database_url_file is None:
            problems.append("SEXTO_DATABASE_URL or SEXTO_DATABASE_URL_FILE is required in production")
        if self.token_signing_key is None and self.token_signing_key_file is None:
            problems.append("SEXTO_TOKEN_SIGNING_KEY or SEXTO_TOKEN_SIGNING_KEY_FILE is required in production")
        if self.audit_signing_key is None and self.audit_signing_key_file is None:
            problems.append("SEXTO_AUDIT_SIGNING_KEY or SEXTO_AUDIT_SIGNING_KEY_FILE is required in production")
        if self.data_keys is None and self.data_keys_file is None:
            problems.append("SEXTO_DATA_KEYS or SEXTO_DATA_KEYS_FILE is required in production")
        if self.audit_witness in (None, "none"):
            # Without it a database superuser can cut the log's tail unseen.
            problems.append("SEXTO_AUDIT_WITNESS (file:<path> or directory:<path>) is required in production")
        if (self.argon2_time_cost, self.argon2_memory_cost) < (3, 65536):
            problems.append("argon2 parameters below the recommended ones in production")
        if self.session_cookie_secure is False:
            problems.append("SEXTO_SESSION_COOKIE_SECURE=false is refused in production")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _secrets_from_files(self) -> Settings:
        read_secret_files(self, SECRET_FILE_SETTINGS[len(DATABASE_SECRET_FILE_SETTINGS) :])
        return self

    @model_validator(mode="after")
    def _metrics_token_is_long(self) -> Settings:
        # After the files are read: the token may come from one.
        if self.metrics_token is not None and len(self.metrics_token.get_secret_value()) < METRICS_TOKEN_MIN_LENGTH:
            raise ValueError(
                f"SEXTO_METRICS_TOKEN is too short: at least {METRICS_TOKEN_MIN_LENGTH} characters (openssl rand -hex 32)"
            )
        return self

    @model_validator(mode="after")
    def _data_keys_are_keys(self) -> Settings:
        if self.data_keys is not None:
            keys = self.configured_data_keys()
            if self.data_key_current is not None and self.data_key_current not in keys:
                raise ValueError(f"SEXTO_DATA_KEY_CURRENT {self.data_key_current!r} is not a key id of SEXTO_DATA_KEYS")
        return self

    def configured_data_keys(self) -> dict[str, bytes]:
        """SEXTO_DATA_KEYS read: key id -> 32 bytes (empty when unset).  An
        error names the key id, never the key."""
        if self.data_keys is None:
            return {}
        try:
            document = json.loads(self.data_keys.get_secret_value())
        except ValueError:
            raise ValueError('SEXTO_DATA_KEYS is not JSON: {"key id": "base64 of 32 bytes"}') from None
        if not isinstance(document, dict) or not document:
            raise ValueError('SEXTO_DATA_KEYS is not a JSON object of keys: {"key id": "base64 of 32 bytes"}')
        keys = {}
        for key_id, value in document.items():
            try:
                key = base64.b64decode(value, validate=True) if isinstance(value, str) else b""
            except ValueError:
                key = b""
            if not key_id or ":" in key_id or len(key) != 32:
                raise ValueError(
                    f"SEXTO_DATA_KEYS: key {key_id!r} must be the base64 of 32 bytes, its id not empty and without ':'"
                )
            keys[key_id] = key
        return keys

    @property
    def effective_audit_witness(self) -> str:
        """SEXTO_AUDIT_WITNESS, or what development uses when it is unset: a
        file beside the development database, none beside another one (a
        witness shared by several databases would hold each to the others'
        checkpoints)."""
        if self.audit_witness is not None:
            return self.audit_witness
        if self.database_url is None:
            return f"file:{self.var_dir / 'audit-witness.jsonl'}"
        return "none"

    @property
    def api_docs_enabled(self) -> bool:
        return not self.is_production if self.api_docs is None else self.api_docs

    @property
    def session_cookie_name(self) -> str:
        """``__Host-``: the browser keeps the cookie only if it is ``Secure``,
        has ``Path=/`` and no ``Domain``, so no sibling host can set or shadow it."""
        return "__Host-sexto_session" if self.session_cookie_is_secure else "sexto_session"

    @property
    def oidc_cookie_name(self) -> str:
        """The cookie that binds a single sign-on started to its browser."""
        return "__Host-sexto_sso" if self.session_cookie_is_secure else "sexto_sso"

    @property
    def session_cookie_is_secure(self) -> bool:
        return self.is_production if self.session_cookie_secure is None else self.session_cookie_secure


# --- docs/configuration.md, generated from the descriptions above (`make docs`) ---

CONFIGURATION_PAGE_INTRO = """\
# Configuration

<!-- Generated from the Settings field descriptions in app/config.py by `make docs`
     (`sexto docs-config`). Edit the descriptions there, not this page: a test fails
     when the two differ. -->

Every setting is an environment variable with the `SEXTO_` prefix. Lists and
objects are written as JSON (`SEXTO_GRID_TEMPLATES_DIRS='["/etc/sexto/grids"]'`).
Development needs none of them; production refuses to start without the
database URL, the two signing keys, the data keys and the audit witness. How
to run the service is in [operations.md](operations.md).
"""

CONFIGURATION_PAGE_OUTRO = """\
Two families of variables are read without the `SEXTO_` prefix, under the
names their libraries give them ([deploying.md](deploying.md#metrics)):
`PROMETHEUS_MULTIPROC_DIR`, the folder where each worker process writes its
metrics when the service runs several (required then, with
SEXTO_METRICS_TOKEN), and the OpenTelemetry `OTEL_` variables: traces are
exported only when `OTEL_TRACES_EXPORTER` (`otlp` or `console`) or
`OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is
set, and `OTEL_SDK_DISABLED=true` turns them off.

Tests only, not a setting of the service: `SEXTO_TEST_POSTGRES_URL` (default
`postgresql+psycopg://postgres@127.0.0.1:5432/test`) names the PostgreSQL
server on which the tests make their throwaway databases, and
`SEXTO_FUZZ_EXAMPLES` the examples per operation of the fuzzing tests
([operations.md](operations.md#the-tests)).
"""

# The secrets, each with a ``<name>_file`` twin (``SEXTO_<NAME>_FILE``) that
# holds it in a file instead (a container's secrets, a file only the service
# reads): a test fails when a secret setting has no twin.
DATABASE_SECRET_FILE_SETTINGS = ("database_url", "migration_database_url")
SECRET_FILE_SETTINGS = (
    *DATABASE_SECRET_FILE_SETTINGS,
    "token_signing_key",
    "audit_signing_key",
    "data_keys",
    "first_admin_password",
    "demo_password",
    "metrics_token",
)


def read_secret_files(settings: BaseSettings, names: tuple[str, ...]) -> None:
    """Each secret's ``_FILE`` twin, read once (so that a missing or
    unreadable file stops the start, naming the setting): the value becomes
    the file's text, less its trailing line break."""
    for name in names:
        path: Path | None = getattr(settings, f"{name}_file")
        if path is None:
            continue
        variable = f"SEXTO_{name.upper()}"
        if name in settings.model_fields_set and getattr(settings, name) is not None:
            raise ValueError(f"{variable} and {variable}_FILE are both set: give one of them")
        try:
            text = path.read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            raise ValueError(f"{variable}_FILE: cannot read {path}: {reason}") from None
        if not text:
            raise ValueError(f"{variable}_FILE: {path} is empty")
        field = type(settings).model_fields[name]
        setattr(
            settings, name, SecretStr(text) if SecretStr in (*get_args(field.annotation), field.annotation) else text
        )


_KINDS = {int: "integer", str: "text", Path: "path", SecretStr: "secret text", bool: "`true` or `false`"}


def _kind(annotation: Any) -> str:
    """How a value is written, from the field's type (``X | None`` is X, unset allowed)."""
    args = [arg for arg in get_args(annotation) if arg is not type(None)]
    if isinstance(annotation, UnionType):
        return _kind(args[0])
    if get_origin(annotation) is list and get_origin(args[0]) is Literal:
        return f"JSON list of {', '.join(f'`{value}`' for value in get_args(args[0]))}"
    if get_origin(annotation) is list:
        return f"JSON list of {_kind(args[0])}s"
    if get_origin(annotation) is tuple:
        return f"JSON list of {len(args)} {_kind(args[0])}s"
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return " or ".join(f"`{member.value}`" for member in annotation)
    return _KINDS[annotation]


def _constraint(info: FieldInfo, name: str) -> Any:
    """A bound pydantic enforces (``ge``, ``le``, ``pattern``), or None."""
    return next((getattr(m, name) for m in info.metadata if getattr(m, name, None) is not None), None)


def _accepted(info: FieldInfo) -> str:
    """The field's type and the bounds pydantic enforces."""
    ge, le, pattern = (_constraint(info, name) for name in ("ge", "le", "pattern"))
    accepted = _kind(info.annotation)
    if ge is not None and le is not None:
        accepted += f", {ge}–{le}"
    elif ge is not None:
        accepted += f", ≥ {ge}"
    if pattern:
        accepted += f" matching `{pattern}`"
    return accepted


def _default(info: FieldInfo) -> str:
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, SecretStr):  # the only secret with a default is the published demo password
        value = value.get_secret_value()
    if isinstance(value, Path):  # a path of the checkout, not of this machine
        value = f"{value.relative_to(PROJECT_ROOT).as_posix()}/"
    if isinstance(value, list | tuple):
        value = json.dumps(list(value))
    if isinstance(value, StrEnum):
        value = value.value
    return f"`{value}`"


def configuration_page() -> str:
    """docs/configuration.md: one row per setting, from the ``Settings`` fields."""
    rows = ["| variable | default | accepted | meaning |", "|---|---|---|---|"]
    for name, info in Settings.model_fields.items():
        if not info.description:
            raise ValueError(f"Settings.{name} has no description: docs/configuration.md needs one")
        meaning = info.description.replace("|", "\\|")
        rows.append(f"| `SEXTO_{name.upper()}` | {_default(info)} | {_accepted(info)} | {meaning} |")
    return "\n".join([CONFIGURATION_PAGE_INTRO, *rows, "", CONFIGURATION_PAGE_OUTRO])
