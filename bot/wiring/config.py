"""Process settings from the environment, parsed once at the edge into a frozen pydantic model.

Usage (the CLI does this)::

    load_dotenv(Path.cwd() / ".env")
    settings = load_settings(os.environ, cwd=Path.cwd())

``load_settings`` reads the mapping it is given and nothing else: tests, benches and the
sandbox pass their own, and the caller's environment must not leak in. pydantic-settings
would read ``os.environ`` and ``.env`` itself (its sources), so this is a plain model whose
field aliases are the variables; python-dotenv loads ``.env`` first. ``.env.example``
documents every variable (tests/unit/test_settings.py checks it).
"""

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.services.ingest_read import DEFAULT_MAX_RECORD_BYTES
from bot.workspace.timing import parse_duration

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///auditbot.db"
SUPPORTED_STORES = {("sqlite", "pysqlite"), ("postgresql", "psycopg")}  # (backend, driver)


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _unset_if_empty(value: object) -> object:
    """``NAME=`` in .env means "not set" for these (PORT= or LOG_FORMAT= is a mistake)."""
    return None if value == "" else value


def _or(default: str) -> BeforeValidator:
    return BeforeValidator(lambda value: value or default)


def _whole(value: object, what: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise ValueError(f"must be {what} (got {value!r})") from None


OrUnset = Annotated[str | None, BeforeValidator(_unset_if_empty)]  # `NAME=`: None


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")  # the environment holds much else

    slack_bot_token: OrUnset = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: OrUnset = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: OrUnset = Field(None, alias="SLACK_APP_TOKEN")
    slack_api_url: Annotated[str, _or(DEFAULT_API_URL)] = Field(
        DEFAULT_API_URL, alias="SLACK_API_URL")
    database_url: Annotated[str, _or(DEFAULT_DATABASE_URL)] = Field(
        DEFAULT_DATABASE_URL, alias="DATABASE_URL", validate_default=True)
    config_path: Path = Field(Path("auditbot.toml"), alias="AUDITBOT_CONFIG",
                              validate_default=True)
    port: int = Field(3000, alias="PORT")
    ingest_token: OrUnset = Field(None, alias="INGEST_TOKEN")
    log_format: Literal["text", "json"] = Field("text", alias="LOG_FORMAT")
    # How long a replica holds an outbox item it is sending before others may take it over
    # (after a crash). Sends are timed out well inside it. OUTBOX_LEASE, e.g. "60s".
    outbox_lease: timedelta = Field(timedelta(seconds=60), alias="OUTBOX_LEASE")
    # The largest record any ingest path takes (a JSONL line, a CSV row, an element of the
    # HTTP body's array), in bytes. INGEST_MAX_RECORD_BYTES.
    ingest_max_record_bytes: int = Field(DEFAULT_MAX_RECORD_BYTES,
                                         alias="INGEST_MAX_RECORD_BYTES")

    @field_validator("port", mode="before")
    @classmethod
    def _port(cls, value: object) -> int:
        port = _whole(value, "a number")
        if not 0 <= port <= 65535:
            raise ValueError(f"must be between 0 and 65535 (got {port})")
        return port

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"must start with https:// (got {url!r})")
        return url if url.endswith("/") else url + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, url: str, info: ValidationInfo) -> str:
        return check_database_url(resolve_database_url(url, _cwd(info)))

    @field_validator("config_path")
    @classmethod
    def _config_path(cls, value: Path, info: ValidationInfo) -> Path:
        return _cwd(info) / value

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: object) -> object:
        if value not in ("text", "json"):
            raise ValueError(f"must be 'text' or 'json' (got {value!r})")
        return value

    @field_validator("outbox_lease", mode="before")
    @classmethod
    def _lease(cls, value: object) -> timedelta:
        if isinstance(value, timedelta):
            return value
        lease = parse_duration(str(value))  # its ValueError reads well after the name
        if lease < timedelta(seconds=3):
            raise ValueError(f"must be at least 3s (got {value!r})")
        return lease

    @field_validator("ingest_max_record_bytes", mode="before")
    @classmethod
    def _max_record(cls, value: object) -> int:
        if value == "":
            return DEFAULT_MAX_RECORD_BYTES
        size = _whole(value, "a number of bytes")
        if size < 1024:
            raise ValueError(f"must be at least 1024 (got {size})")
        return size

    def require(self, *names: str) -> None:
        """Fail with the variable's name when a command needs a setting that is unset."""
        missing = [name.upper() for name in names if not getattr(self, name)]
        if missing:
            raise SettingsError(f"{', '.join(missing)} must be set (see .env.example)")


def _cwd(info: ValidationInfo) -> Path:
    return Path((info.context or {}).get("cwd", "."))


def load_settings(env: Mapping[str, str], *, cwd: Path) -> Settings:
    """The settings in ``env`` (relative paths against ``cwd``); a ``SettingsError`` naming
    each variable that is wrong."""
    try:
        return Settings.model_validate(dict(env), context={"cwd": cwd})
    except ValidationError as error:
        raise SettingsError("\n".join(_named(e["loc"], e["msg"]) for e in error.errors())) \
            from None


def _named(loc: tuple[str | int, ...], message: str) -> str:
    """``PORT must be a number (got 'x')``; ``OUTBOX_LEASE: invalid duration ...``."""
    message = message.removeprefix("Value error, ")
    name = str(loc[0]) if loc else "settings"
    return f"{name} {message}" if message.startswith(("must ", "is ")) else f"{name}: {message}"


def check_database_url(url: str) -> str:
    """A URL SQLAlchemy can use with the installed drivers, or a ``ValueError`` saying why.
    Hosting platforms hand out ``postgres://…``: that means PostgreSQL through psycopg 3,
    the driver auditbot ships with."""
    for short in ("postgres://", "postgresql://"):
        if url.startswith(short):
            url = "postgresql+psycopg://" + url[len(short):]
    try:
        parsed = make_url(url)
        store = (parsed.get_backend_name(), parsed.get_driver_name())
        problem = None if store in SUPPORTED_STORES else f"{parsed.drivername} is not supported"
    except ArgumentError as error:
        problem = str(error)
    if problem:
        raise ValueError(f"is not a database URL auditbot can use ({problem}); use "
                         "sqlite:///auditbot.db or postgresql+psycopg://user:password@host/db")
    return url


def resolve_database_url(url: str, cwd: Path) -> str:
    """Relative SQLite paths resolve against the directory holding .env, as the contract says."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////"):
        relative = url[len(prefix) :]
        if relative and relative != ":memory:":
            return prefix + str((cwd / relative).resolve())
    return url
