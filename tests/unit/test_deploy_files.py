"""The container files say what the README says (no container engine runs in CI: they are
checked as text)."""

import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def test_compose_runs_migrations_then_the_bot_on_postgres():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"db", "migrate", "bot"}
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["bot"]["command"] == ["serve"]
    assert services["bot"]["depends_on"]["migrate"]["condition"] == \
        "service_completed_successfully"
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    url = services["bot"]["environment"]["DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://") and url.endswith("@db:5432/auditbot")
    assert services["bot"]["environment"] == services["migrate"]["environment"]


def test_the_image_serves_as_the_auditbot_command_and_checks_health():
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert 'ENTRYPOINT ["auditbot"]' in dockerfile and 'CMD ["serve"]' in dockerfile
    assert "/healthz" in dockerfile
    assert "USER auditbot" in dockerfile


def test_the_two_manifests_differ_only_in_how_slack_reaches_the_bot():
    http = yaml.safe_load((REPO / "manifest.yml").read_text(encoding="utf-8"))
    socket = yaml.safe_load((REPO / "manifest.socket-mode.yml").read_text(encoding="utf-8"))
    assert http["settings"]["socket_mode_enabled"] is False
    assert socket["settings"]["socket_mode_enabled"] is True
    url = "https://auditbot.example.com/slack/events"
    assert http["settings"]["event_subscriptions"]["request_url"] == url
    assert http["settings"]["interactivity"]["request_url"] == url
    assert all(command["url"] == url for command in http["features"]["slash_commands"])
    # In Socket Mode nothing names a URL; everything else is the same app.
    assert "request_url" not in socket["settings"]["event_subscriptions"]
    assert "request_url" not in socket["settings"]["interactivity"]
    for command in http["features"]["slash_commands"]:
        del command["url"]
    del http["settings"]["event_subscriptions"]["request_url"]
    del http["settings"]["interactivity"]["request_url"]
    http["settings"]["socket_mode_enabled"] = True
    assert socket == http


def test_every_file_the_package_reads_is_declared_package_data():
    """The image installs a wheel, which holds the package's modules (every directory is a
    package: setuptools' find includes namespace packages) and only the other files pyproject
    declares as package data: the migration template, the demo's texts. One left undeclared
    works from a checkout and is missing in the image."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    declared = pyproject["tool"]["setuptools"]["package-data"]
    shipped = {
        path
        for package, patterns in declared.items()
        for pattern in patterns
        for path in (REPO / package.replace(".", "/")).glob(pattern)
    }
    files = [
        path for path in (REPO / "bot").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]
    modules = {path for path in files if path.suffix == ".py"}
    assert any(path.suffix == ".toml" for path in shipped)  # the demo's texts are data
    assert sorted(str(p.relative_to(REPO)) for p in set(files) - modules - shipped) == []
