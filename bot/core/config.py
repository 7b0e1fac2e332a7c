"""Process configuration, read from the environment (and a `.env` file) once, by the CLI."""

from __future__ import annotations

import json
import logging
import time
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///alignbot.db"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LogFormat = Literal["text", "json"]


class ConfigError(Exception):
    """Configuration that stops start-up; the message is one line naming the variable."""


RUN_ROLES = ("all", "web", "jobs")
"""What one `alignbot run --role` process does: everything; Slack traffic only; scheduled jobs
only (bot.app.serve)."""


class Settings(BaseSettings):
    """Everything the process needs to start. Per-workspace settings live in the database."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = SLACK_API_URL
    # Multi-workspace installs over OAuth (HTTP mode): set both instead of SLACK_BOT_TOKEN.
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    # The redirect URL registered with the app, when it has several; None lets Slack use its own.
    slack_redirect_uri: str | None = None
    database_url: str = DEFAULT_DATABASE_URL
    port: int = Field(default=3000, ge=1, le=65535)
    host: str = "0.0.0.0"
    log_level: LogLevel = "INFO"
    log_format: LogFormat = "text"
    scheduler_enabled: bool = True
    # The outbox dispatcher's background loop in `alignbot run` (rows are also sent at once by
    # whoever stored them; the loop retries and picks up other processes' rows).
    outbox_dispatcher_enabled: bool = True

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_log_format(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("slack_client_id", "slack_redirect_uri", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "slack_client_secret",
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        mode="before",
    )
    @classmethod
    def _blank_secret_is_unset(cls, value: object) -> object:
        # `SLACK_BOT_TOKEN=` straight from .env.example means "not set", not "malformed".
        return None if isinstance(value, str) and not value.strip() else value

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
    def slack_credentials_given(self) -> bool:
        """Any Slack credential in the environment or .env: `make run` then means `alignbot run`
        (which names what is missing); with none at all it starts the sandbox."""
        return any(
            value is not None
            for value in (
                self.slack_bot_token,
                self.slack_signing_secret,
                self.slack_app_token,
                self.slack_client_id,
                self.slack_client_secret,
            )
        )

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def oauth_mode(self) -> bool:
        """Multi-workspace: tokens come from installs, not from SLACK_BOT_TOKEN."""
        return self.slack_client_id is not None or self.slack_client_secret is not None

    def require_slack(self) -> None:
        """Raise ConfigError naming the first Slack variable that `alignbot run` lacks."""
        if self.oauth_mode:
            self._require_oauth()
            return
        if self.slack_bot_token is None:
            raise ConfigError(
                "SLACK_BOT_TOKEN is not set: copy .env.example to .env and paste the bot token "
                "(xoxb-…) from your Slack app's OAuth & Permissions page. To try the bot without "
                "Slack, run `alignbot sandbox` (what `make run` starts when no credentials are set)."
            )
        if not self.socket_mode and self.slack_signing_secret is None:
            raise ConfigError(
                "SLACK_SIGNING_SECRET is not set: HTTP mode needs it (Basic Information → "
                "Signing Secret), or set SLACK_APP_TOKEN to use Socket Mode."
            )

    def _require_oauth(self) -> None:
        if self.slack_client_id is None or self.slack_client_secret is None:
            missing = "SLACK_CLIENT_ID" if self.slack_client_id is None else "SLACK_CLIENT_SECRET"
            raise ConfigError(
                f"{missing} is not set: multi-workspace installs need both the client id and the "
                "client secret (Basic Information → App Credentials)."
            )
        if self.slack_bot_token is not None:
            raise ConfigError(
                "SLACK_BOT_TOKEN is set together with SLACK_CLIENT_ID: use one — a bot token for "
                "one workspace, or the client id and secret for installs over OAuth."
            )
        if self.socket_mode:
            raise ConfigError(
                "SLACK_APP_TOKEN is set together with SLACK_CLIENT_ID: installs over OAuth need "
                "HTTP mode (a public URL for /slack/install and /slack/oauth_redirect); "
                "leave SLACK_APP_TOKEN empty."
            )
        if self.slack_signing_secret is None:
            raise ConfigError(
                "SLACK_SIGNING_SECRET is not set: HTTP mode needs it (Basic Information → "
                "Signing Secret)."
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


class JsonLogFormatter(logging.Formatter):
    """One JSON object a line, for log shippers: time, level, logger, message, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        entry: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        # Event-style messages ("request_filed ref=MS-12 team=T1") also become fields.
        event, _, rest = message.partition(" ")
        if event and "=" not in event and event.replace("_", "").isalnum():
            entry["event"] = event
            for pair in rest.split():
                key, sep, value = pair.partition("=")
                if sep and key.isidentifier() and key not in entry:
                    entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str, log_format: str = "text") -> None:
    handler = logging.StreamHandler()
    if log_format == "json":
        formatter: logging.Formatter = JsonLogFormatter()
        formatter.converter = time.gmtime
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    handler.setFormatter(formatter)
    logging.basicConfig(level=level, handlers=[handler], force=True)
