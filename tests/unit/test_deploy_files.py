"""The container files say what the README says (no container engine runs in CI: they are
checked as text)."""

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
