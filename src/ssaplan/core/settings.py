"""Settings from the environment (prefix ``SSAPLAN_``) with safe local defaults.

Outside local use (``SSAPLAN_ENVIRONMENT=production``) the insecure defaults are
refused: a secret key must be set and cookies must be marked secure.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ssaplan.core.defaults import DEFAULT_DB

__all__ = ["DEFAULT_DB", "PRODUCTION_ARGON2_MEMORY_KIB", "Settings", "get_settings"]

PRODUCTION_ARGON2_MEMORY_KIB = 19456  # 19 MiB: OWASP's Password Storage Cheat Sheet minimum


class Settings(BaseSettings):
    """Run-time configuration of one ssaplan process."""

    model_config = SettingsConfigDict(env_prefix="SSAPLAN_", extra="ignore")

    db: str = DEFAULT_DB
    environment: Literal["local", "production"] = "local"
    # Signs CSRF tokens. Locally a per-database secret is generated and kept in the store.
    secret_key: SecretStr | None = None
    session_hours: int = 12
    cookie_secure: bool = False
    # Bounds on what one request or file may hold (issue 10). Every refusal names its setting.
    max_body_bytes: int = Field(2 * 1024**2, ge=1024)  # SSAPLAN_MAX_BODY_BYTES: JSON and forms
    max_upload_bytes: int = Field(256 * 1024**2, ge=1024)  # SSAPLAN_MAX_UPLOAD_BYTES: multipart
    max_xlsx_bytes: int = Field(256 * 1024**2, ge=1024)  # SSAPLAN_MAX_XLSX_BYTES: uncompressed
    max_xlsx_cells: int = Field(5_000_000, ge=1)  # SSAPLAN_MAX_XLSX_CELLS
    max_csv_columns: int = Field(500, ge=1)  # SSAPLAN_MAX_CSV_COLUMNS
    max_csv_line_chars: int = Field(1024**2, ge=80)  # SSAPLAN_MAX_CSV_LINE_CHARS
    # Logins (issue 10): failures allowed per window before 429, per account and per address.
    login_failures_per_account: int = Field(5, ge=1)
    login_failures_per_address: int = Field(20, ge=1)
    login_window_seconds: int = Field(900, ge=1)
    max_concurrent_hashes: int = Field(4, ge=1)  # Argon2 uses ~64 MiB per check
    # Argon2id's cost (RFC 9106's second recommendation by default: 3 passes over 64 MiB).
    # Lower it only where passwords are not worth guarding (the test suite); production
    # refuses less than OWASP's minimum (19 MiB, 2 passes).
    argon2_time_cost: int = Field(3, ge=1, le=20)  # SSAPLAN_ARGON2_TIME_COST
    argon2_memory_kib: int = Field(65536, ge=64, le=4 * 1024**2)  # SSAPLAN_ARGON2_MEMORY_KIB
    # Keys the audit chain (HMAC-SHA256); kept outside the database (core/audit.py).
    audit_key: SecretStr | None = None  # SSAPLAN_AUDIT_KEY
    audit_key_file: str | None = None  # SSAPLAN_AUDIT_KEY_FILE: a file holding the key

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.environment == "production":
            key = self.secret_key.get_secret_value() if self.secret_key else ""
            if len(key) < 32:
                raise ValueError(
                    "SSAPLAN_SECRET_KEY must be set to at least 32 characters in production"
                )
            if not self.cookie_secure:
                raise ValueError("SSAPLAN_COOKIE_SECURE must be true in production (HTTPS only)")
            if self.argon2_memory_kib < PRODUCTION_ARGON2_MEMORY_KIB or self.argon2_time_cost < 2:
                raise ValueError(
                    "SSAPLAN_ARGON2_MEMORY_KIB must be at least "
                    f"{PRODUCTION_ARGON2_MEMORY_KIB} and SSAPLAN_ARGON2_TIME_COST at least 2 "
                    "in production (OWASP's minimum for Argon2id)"
                )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
