"""Settings from the environment (prefix ``SSAPLAN_``) with safe local defaults.

Outside local use (``SSAPLAN_ENVIRONMENT=production``) the insecure defaults are
refused: a secret key must be set and cookies must be marked secure.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ssaplan.core.defaults import DEFAULT_DB

__all__ = ["DEFAULT_DB", "Settings", "get_settings"]


class Settings(BaseSettings):
    """Run-time configuration of one ssaplan process."""

    model_config = SettingsConfigDict(env_prefix="SSAPLAN_", extra="ignore")

    db: str = DEFAULT_DB
    environment: Literal["local", "production"] = "local"
    # Signs CSRF tokens. Locally a per-database secret is generated and kept in the store.
    secret_key: SecretStr | None = None
    session_hours: int = 12
    cookie_secure: bool = False

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
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
