"""Process settings from the environment, parsed once at the edge.

Usage (the CLI does this)::

    load_dotenv(Path.cwd() / ".env")
    settings = load_settings(os.environ, cwd=Path.cwd())
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.services.ingest_read import DEFAULT_MAX_RECORD_BYTES
from bot.workspace.timing import parse_duration

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///auditbot.db"
SUPPORTED_STORES = {("sqlite", "pysqlite"), ("postgresql", "psycopg")}  # (backend, driver)


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str | None
    slack_signing_secret: str | None
    slack_app_token: str | None
    slack_api_url: str
    database_url: str
    config_path: Path
    port: int
    ingest_token: str | None
    log_format: str
    # How long a replica holds an outbox item it is sending before others may take it over
    # (after a crash). Sends are timed out well inside it. OUTBOX_LEASE, e.g. "60s".
    outbox_lease: timedelta = timedelta(seconds=60)
    # The largest record any ingest path takes (a JSONL line, a CSV row, an element of the
    # HTTP body's array), in bytes. INGEST_MAX_RECORD_BYTES.
    ingest_max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES

    def require(self, *names: str) -> None:
        """Fail with the variable's name when a command needs a setting that is unset."""
        missing = [name.upper() for name in names if not getattr(self, name)]
        if missing:
            raise SettingsError(f"{', '.join(missing)} must be set (see .env.example)")


def load_settings(env: Mapping[str, str], *, cwd: Path) -> Settings:
    port_text = env.get("PORT", "3000")
    try:
        port = int(port_text)
    except ValueError:
        raise SettingsError(f"PORT must be a number (got {port_text!r})") from None
    if not 0 <= port <= 65535:
        raise SettingsError(f"PORT must be between 0 and 65535 (got {port})")
    api_url = env.get("SLACK_API_URL") or DEFAULT_API_URL
    if not api_url.startswith(("http://", "https://")):
        raise SettingsError(f"SLACK_API_URL must start with https:// (got {api_url!r})")
    if not api_url.endswith("/"):
        api_url += "/"
    log_format = env.get("LOG_FORMAT", "text")
    if log_format not in ("text", "json"):
        raise SettingsError(f"LOG_FORMAT must be 'text' or 'json' (got {log_format!r})")
    lease_text = env.get("OUTBOX_LEASE", "60s")
    try:
        outbox_lease = parse_duration(lease_text)
    except ValueError as error:
        raise SettingsError(f"OUTBOX_LEASE: {error}") from None
    if outbox_lease < timedelta(seconds=3):
        raise SettingsError(f"OUTBOX_LEASE must be at least 3s (got {lease_text!r})")
    max_record = _max_record_bytes(env.get("INGEST_MAX_RECORD_BYTES"))
    return Settings(
        slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
        slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
        slack_app_token=env.get("SLACK_APP_TOKEN") or None,
        slack_api_url=api_url,
        database_url=check_database_url(
            resolve_database_url(env.get("DATABASE_URL") or DEFAULT_DATABASE_URL, cwd)),
        config_path=cwd / env.get("AUDITBOT_CONFIG", "auditbot.toml"),
        port=port,
        ingest_token=env.get("INGEST_TOKEN") or None,
        log_format=log_format,
        outbox_lease=outbox_lease,
        ingest_max_record_bytes=max_record,
    )


def _max_record_bytes(text: str | None) -> int:
    if not text:
        return DEFAULT_MAX_RECORD_BYTES
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(
            f"INGEST_MAX_RECORD_BYTES must be a number of bytes (got {text!r})") from None
    if value < 1024:
        raise SettingsError(f"INGEST_MAX_RECORD_BYTES must be at least 1024 (got {value})")
    return value


def check_database_url(url: str) -> str:
    """A URL SQLAlchemy can use with the installed drivers, or a SettingsError naming
    DATABASE_URL. Hosting platforms hand out ``postgres://…``: that means PostgreSQL
    through psycopg 3, the driver auditbot ships with."""
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
        raise SettingsError(
            f"DATABASE_URL is not a database URL auditbot can use ({problem}); use "
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
