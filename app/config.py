"""Settings, read from the environment with the ``SEXTO_`` prefix.

Development is the default so that ``make run`` works on a fresh machine: the
SQLite database and the signing key are created under ``var/``.  Production
refuses to start without an explicit database URL and signing key, and with the
demo password or weakened password hashing.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"
DEFAULT_DEMO_PASSWORD = "sexto-demo-2026"


class Environment(StrEnum):
    development = "development"
    production = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SEXTO_", extra="ignore")

    environment: Environment = Environment.development
    var_dir: Path = Field(
        default=DEFAULT_VAR_DIR,
        description="Where development state lives (SQLite database, generated keys).",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: SQLite file var/sexto.db.",
    )

    # Token signing: an Ed25519 private key in PEM.  Older public keys stay
    # accepted for verification while tokens they signed may still be alive.
    token_signing_key: SecretStr | None = None
    token_signing_key_file: Path | None = None
    token_previous_public_keys: list[str] = Field(default_factory=list)
    token_issuer: str = "sexto-service"
    token_audience: str = "sexto-api"
    token_lifetime_seconds: int = Field(default=900, ge=60, le=3600)

    # Audit log: checkpoints are signed with their own Ed25519 key.
    audit_signing_key: SecretStr | None = None
    audit_signing_key_file: Path | None = None
    audit_previous_public_keys: list[str] = Field(default_factory=list)
    audit_checkpoint_interval_seconds: int = Field(
        default=3600, ge=0, description="0 turns periodic checkpoints off."
    )
    database_app_role: str | None = Field(
        default=None,
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="PostgreSQL role the service connects as; migrations grant it "
        "SELECT and INSERT only on the audit tables.",
    )

    grid_templates_dirs: list[Path] = Field(
        default_factory=list,
        description="Extra folders of grid templates (v<N>.json), e.g. a board's official grid.",
    )

    maintenance_interval_seconds: int = Field(
        default=3600, ge=0, description="How often expired idempotency keys are purged (0: never)."
    )
    idempotency_ttl_seconds: int = Field(
        default=86400, ge=60, description="How long an Idempotency-Key's first answer is kept."
    )

    # Personal information at rest (participants' names and student ids, kept
    # idempotent answers): AES-256-GCM keys by id, base64; the current one encrypts.
    data_keys: SecretStr | None = Field(default=None, description='JSON: {"key id": "base64 of 32 bytes"}.')
    data_key_current: str | None = None

    local_timezone: str = Field(
        default="America/Toronto",
        description="Time zone of 'today' for agreement dates (Quebec follows America/Toronto).",
    )

    # Retention (Quebec's Act respecting access to documents held by public
    # bodies, s. 73): a board's own rule replaces this default.
    retention_default_years: int = Field(
        default=5, ge=1, le=100, description="Years after closure before a case's personal information is destroyed."
    )

    # Access review (privacy officer): what counts as unusual in the audit log.
    review_denied_threshold: int = Field(default=10, ge=1, description="Denied requests by one account in one window.")
    review_distinct_cases_threshold: int = Field(
        default=20, ge=1, description="Different cases read by one account in one window."
    )
    review_window_minutes: int = Field(default=60, ge=1, le=24 * 60)
    review_school_hours: tuple[int, int] = Field(
        default=(7, 18), description="Local hours [start, end) of school days (Monday to Friday)."
    )

    max_body_bytes: int = Field(default=256 * 1024, ge=1024)

    # Password hashing (argon2id).  The defaults are pwdlib's recommended ones;
    # the test suite lowers them, production refuses anything weaker.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_cost: int = Field(default=65536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)
    max_concurrent_password_hashes: int = Field(default=2, ge=1)

    # Failed logins, counted per account name in the database.
    login_max_failures: int = Field(default=5, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    login_lockout_seconds: int = Field(default=900, ge=1)

    first_admin_username: str | None = None
    first_admin_password: SecretStr | None = None
    demo_password: SecretStr = SecretStr(DEFAULT_DEMO_PASSWORD)

    @model_validator(mode="after")
    def _production_is_explicit(self) -> Settings:
        if self.environment is not Environment.production:
            return self
        problems = []
        if not self.database_url:
            problems.append("SEXTO_DATABASE_URL is required in production")
        if self.token_signing_key is None and self.token_signing_key_file is None:
            problems.append(
                "SEXTO_TOKEN_SIGNING_KEY or SEXTO_TOKEN_SIGNING_KEY_FILE is required in production"
            )
        if self.audit_signing_key is None and self.audit_signing_key_file is None:
            problems.append(
                "SEXTO_AUDIT_SIGNING_KEY or SEXTO_AUDIT_SIGNING_KEY_FILE is required in production"
            )
        if self.data_keys is None:
            problems.append("SEXTO_DATA_KEYS is required in production")
        if (self.argon2_time_cost, self.argon2_memory_cost) < (3, 65536):
            problems.append("argon2 parameters below the recommended ones in production")
        if (
            self.first_admin_password is not None
            and self.first_admin_password.get_secret_value() == DEFAULT_DEMO_PASSWORD
        ):
            problems.append("the demo password cannot be an admin password in production")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.var_dir / 'sexto.db'}"

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.production
