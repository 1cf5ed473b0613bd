"""Settings from the environment: defaults, and every mistake named by its variable."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.services.ingest_read import DEFAULT_MAX_RECORD_BYTES
from bot.wiring.config import DEFAULT_API_URL, Settings, SettingsError, load_settings

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def test_an_empty_environment_gets_the_documented_defaults(tmp_path: Path) -> None:
    settings = load_settings({}, cwd=tmp_path)
    assert (settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token,
            settings.ingest_token) == (None, None, None, None)
    assert settings.slack_api_url == DEFAULT_API_URL
    assert settings.database_url == f"sqlite:///{(tmp_path / 'auditbot.db').resolve()}"
    assert settings.config_path == tmp_path / "auditbot.toml"
    assert (settings.port, settings.log_format) == (3000, "text")
    assert settings.outbox_lease == timedelta(seconds=60)
    assert settings.ingest_max_record_bytes == DEFAULT_MAX_RECORD_BYTES


def test_values_are_read_and_blank_ones_mean_unset(tmp_path: Path) -> None:
    settings = load_settings({
        "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "", "SLACK_API_URL": "http://sandbox/api",
        "DATABASE_URL": "postgres://u@db/audit", "AUDITBOT_CONFIG": "conf/team.toml",
        "PORT": "8080", "LOG_FORMAT": "json", "OUTBOX_LEASE": "2m",
        "INGEST_MAX_RECORD_BYTES": "", "UNRELATED": "ignored"}, cwd=tmp_path)
    assert (settings.slack_bot_token, settings.slack_app_token) == ("xoxb-1", None)
    assert settings.slack_api_url == "http://sandbox/api/"
    assert settings.database_url == "postgresql+psycopg://u@db/audit"
    assert settings.config_path == tmp_path / "conf" / "team.toml"
    assert (settings.port, settings.log_format) == (8080, "json")
    assert settings.outbox_lease == timedelta(minutes=2)
    assert settings.ingest_max_record_bytes == DEFAULT_MAX_RECORD_BYTES


@pytest.mark.parametrize(("name", "value", "message"), [
    ("PORT", "http", "PORT must be a number (got 'http')"),
    ("PORT", "", "PORT must be a number (got '')"),
    ("PORT", "70000", "PORT must be between 0 and 65535 (got 70000)"),
    ("SLACK_API_URL", "slack.com/api", "SLACK_API_URL must start with https:// (got "
     "'slack.com/api')"),
    ("LOG_FORMAT", "xml", "LOG_FORMAT must be 'text' or 'json' (got 'xml')"),
    ("OUTBOX_LEASE", "1s", "OUTBOX_LEASE must be at least 3s (got '1s')"),
    ("OUTBOX_LEASE", "soon", "OUTBOX_LEASE: invalid duration 'soon': expected a positive "
     "whole number and one unit (s, m, h, d), e.g. '5m' or '4h'"),
    ("INGEST_MAX_RECORD_BYTES", "2MB", "INGEST_MAX_RECORD_BYTES must be a number of bytes "
     "(got '2MB')"),
    ("INGEST_MAX_RECORD_BYTES", "5", "INGEST_MAX_RECORD_BYTES must be at least 1024 (got 5)"),
    ("DATABASE_URL", "mysql://u@h/db", "DATABASE_URL is not a database URL auditbot can use "
     "(mysql is not supported); use sqlite:///auditbot.db or "
     "postgresql+psycopg://user:password@host/db"),
])
def test_a_bad_value_is_named_by_its_variable(tmp_path: Path, name: str, value: str,
                                              message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({name: value}, cwd=tmp_path)
    assert str(raised.value) == message


def test_every_mistake_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({"PORT": "x", "LOG_FORMAT": "xml"}, cwd=tmp_path)
    assert [line.split()[0] for line in str(raised.value).splitlines()] == ["PORT", "LOG_FORMAT"]


def test_settings_are_frozen_and_require_names_what_is_missing(tmp_path: Path) -> None:
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-1"}, cwd=tmp_path)
    with pytest.raises(ValidationError):
        settings.port = 1  # type: ignore[misc]
    settings.require("slack_bot_token")
    with pytest.raises(SettingsError, match=r"^SLACK_SIGNING_SECRET must be set"):
        settings.require("slack_bot_token", "slack_signing_secret")


def test_env_example_documents_every_variable() -> None:
    documented = set(re.findall(r"^([A-Z_]+)=", ENV_EXAMPLE.read_text(), re.MULTILINE))
    variables = {field.alias for field in Settings.model_fields.values()}
    assert documented == variables
