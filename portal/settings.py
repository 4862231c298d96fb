"""Settings read once at the edge (web app start, CLI start) and passed inward.

No engine reads the environment: `rules`, `forms`, `workflows` and `documents` take plain
paths and values from whoever holds a `Settings`.
"""

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_REPO_ROOT = Path(__file__).resolve().parent.parent
_PACKAGED_PACK = Path(__file__).resolve().parent / "_pack"


def default_pack_dir() -> Path:
    """The repository's pack when running from a checkout, else the copy shipped in the wheel."""
    if (_REPO_ROOT / "rules" / "facts.yaml").is_file():
        return _REPO_ROOT
    return _PACKAGED_PACK


class Settings(BaseSettings):
    """Every knob of the portal; environment variable names are given in `docs/operations.md`."""

    database_url: str = Field(default="sqlite:///./var/portal.db", alias="DATABASE_URL")
    data_dir: Path = Field(default=Path("./var"), alias="PORTAL_DATA_DIR")
    pack_dir: Path = Field(default_factory=default_pack_dir, alias="PORTAL_PACK_DIR")
    secret_key: SecretStr | None = Field(default=None, alias="PORTAL_SECRET_KEY")
    https: bool = Field(default=False, alias="PORTAL_HTTPS")
    smtp_host: str | None = Field(default=None, alias="PORTAL_SMTP_HOST")
    smtp_port: int = Field(default=25, alias="PORTAL_SMTP_PORT")
    smtp_sender: str = Field(default="noreply@portal.invalid", alias="PORTAL_SMTP_SENDER")
    bank_rate_limit_per_minute: int = Field(default=60, alias="PORTAL_BANK_RATE_LIMIT")
    check_rate_limit_per_minute: int = Field(default=120, alias="PORTAL_CHECK_RATE_LIMIT")
    # Objections lodged on the public notice page, per client address and hour.
    objection_rate_limit_per_hour: int = Field(default=5, alias="PORTAL_OBJECTION_RATE_LIMIT")
    login_max_failures: int = Field(default=5, alias="PORTAL_LOGIN_MAX_FAILURES")
    login_lock_minutes: int = Field(default=15, alias="PORTAL_LOGIN_LOCK_MINUTES")
    login_ip_rate_limit_per_minute: int = Field(default=20, alias="PORTAL_LOGIN_IP_RATE_LIMIT", ge=1)
    session_idle_minutes: int = Field(default=30, alias="PORTAL_SESSION_IDLE_MINUTES", ge=1)
    session_max_hours: int = Field(default=8, alias="PORTAL_SESSION_MAX_HOURS", ge=1)
    redis_url: str | None = Field(default=None, alias="PORTAL_REDIS_URL")
    metrics_token: SecretStr | None = Field(default=None, alias="PORTAL_METRICS_TOKEN")
    # The JSON log's threshold, and whether each request gets an access line (a proxy may log them).
    log_level: Literal["debug", "info", "warning", "error"] = Field(default="info", alias="PORTAL_LOG_LEVEL")
    access_log: bool = Field(default=True, alias="PORTAL_ACCESS_LOG")
    audit_signing_key: SecretStr | None = Field(default=None, alias="PORTAL_AUDIT_SIGNING_KEY")
    audit_public_key: str | None = Field(default=None, alias="PORTAL_AUDIT_PUBLIC_KEY")
    # Comma-separated addresses whose X-Forwarded-For is believed (uvicorn's forwarded-allow-ips).
    trusted_proxies: str = Field(default="", alias="PORTAL_TRUSTED_PROXIES")
    public_base_url: str = Field(default="http://127.0.0.1:8000", alias="PORTAL_PUBLIC_BASE_URL")
    # Who runs the background jobs: `worker` (procrastinate on PostgreSQL, `portal worker`) or
    # `in-process` (a thread of `portal serve`). Unset: worker on PostgreSQL, in-process on SQLite.
    jobs: Literal["worker", "in-process"] | None = Field(default=None, alias="PORTAL_JOBS")
    # Where attachment bytes live: `database` (any instance serves any upload) or `filesystem`
    # (under PORTAL_DATA_DIR). Unset: database on PostgreSQL, filesystem on SQLite.
    attachment_store: Literal["database", "filesystem"] | None = Field(
        default=None, alias="PORTAL_ATTACHMENT_STORE"
    )
    # Sign-in through an OpenID Connect provider (docs/operations.md): unset issuer, no such sign-in.
    oidc_issuer: str | None = Field(default=None, alias="PORTAL_OIDC_ISSUER")
    oidc_client_id: str | None = Field(default=None, alias="PORTAL_OIDC_CLIENT_ID")
    oidc_client_secret: SecretStr | None = Field(default=None, alias="PORTAL_OIDC_CLIENT_SECRET")
    # The claims that carry the enterprise's USCC and the person's role, and the roles that may act.
    oidc_uscc_claim: str = Field(default="uscc", alias="PORTAL_OIDC_USCC_CLAIM")
    oidc_role_claim: str = Field(default="role", alias="PORTAL_OIDC_ROLE_CLAIM")
    oidc_roles: str = Field(default="legal_representative,authorised_agent", alias="PORTAL_OIDC_ROLES")
    # The argon2id cost of new password hashes as [memory KiB, passes, lanes]; unset: pwdlib's
    # recommended [65536, 3, 4]. Each hash keeps the cost it was made with, so a change never locks
    # anyone out; the test suite lowers it, as every hash there is of a throwaway password.
    password_hash_cost: tuple[int, int, int] | None = Field(default=None, alias="PORTAL_PASSWORD_HASH_COST")
    # Pins the clock to one day (the test suite, a demo or a replay); never set in production.
    today: date | None = Field(default=None, alias="PORTAL_TODAY")

    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore")

    @field_validator("password_hash_cost")
    @classmethod
    def _argon2_accepts(cls, cost: tuple[int, int, int] | None) -> tuple[int, int, int] | None:
        """argon2 needs at least one pass and lane, and 8 KiB of memory per lane."""
        if cost is not None:
            memory, passes, lanes = cost
            if passes < 1 or lanes < 1 or memory < 8 * lanes:
                raise ValueError("needs [memory KiB ≥ 8 × lanes, passes ≥ 1, lanes ≥ 1]")
        return cost

    @property
    def rules_dir(self) -> Path:
        return self.pack_dir / "rules"

    @property
    def forms_dir(self) -> Path:
        return self.pack_dir / "forms"

    @property
    def workflows_dir(self) -> Path:
        return self.pack_dir / "workflows"

    @property
    def jobs_runner(self) -> Literal["worker", "in-process"]:
        """`PORTAL_JOBS`, or the default its database implies (procrastinate needs PostgreSQL)."""
        if self.jobs is not None:
            return self.jobs
        return "worker" if self.database_url.startswith("postgres") else "in-process"

    @property
    def calendar_file(self) -> Path:
        """The working-day calendar, which also names the pack's time zone."""
        return self.workflows_dir / "calendar" / "cn-holidays.yaml"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
