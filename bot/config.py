"""Process configuration, read from the environment (and a `.env` file) once, by the CLI."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///alignbot.db"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class ConfigError(Exception):
    """Configuration that stops start-up; the message is one line naming the variable."""


class Settings(BaseSettings):
    """Everything the process needs to start. Per-workspace settings live in the database."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = SLACK_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    port: int = Field(default=3000, ge=1, le=65535)
    host: str = "0.0.0.0"
    log_level: LogLevel = "INFO"
    scheduler_enabled: bool = True

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_is_http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            return None
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def require_slack(self) -> None:
        """Raise ConfigError naming the first Slack variable that `alignbot run` lacks."""
        if self.slack_bot_token is None:
            raise ConfigError(
                "SLACK_BOT_TOKEN is not set: copy .env.example to .env and paste the bot token "
                "(xoxb-…) from your Slack app's OAuth & Permissions page."
            )
        if not self.socket_mode and self.slack_signing_secret is None:
            raise ConfigError(
                "SLACK_SIGNING_SECRET is not set: HTTP mode needs it (Basic Information → "
                "Signing Secret), or set SLACK_APP_TOKEN to use Socket Mode."
            )


def describe_validation_error(error: ValidationError) -> str:
    """One line that names the offending environment variable, instead of a traceback."""
    first = error.errors()[0]
    variable = str(first["loc"][0]).upper() if first["loc"] else "configuration"
    return f"{variable} is invalid: {first['msg']}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process settings; raises ConfigError with a one-line message when malformed."""
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigError(describe_validation_error(error)) from None


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s", force=True
    )
