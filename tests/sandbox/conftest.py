"""Fixtures for the sandbox tests: a fake monotonic clock, a started sandbox, a real client."""

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from bot.sandbox import SlackSandbox

USERS = {
    "U0NURSE1": "Nurse Joy",
    "U0MD0002": "Dr Quinn",
    "U0TRAINER1": "Tess Trainer",
    "U0OUTSIDE": "Olly Outsider",
}
CHANNELS = {"C0GENERAL": "general", "C0CLINICAL": "clinical"}


class FakeClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(clock: FakeClock) -> Iterator[SlackSandbox]:
    with SlackSandbox(users=USERS, channels=CHANNELS, clock=clock) as running:
        yield running


@pytest.fixture
def client(sandbox: SlackSandbox) -> WebClient:
    return WebClient(token=sandbox.bot_token, base_url=sandbox.url, retry_handlers=[])


@pytest.fixture
def grade_buttons() -> dict:
    """An actions block with Pass / Minor issue / Major error."""
    return {
        "type": "actions",
        "block_id": "grade",
        "elements": [
            {
                "type": "button",
                "action_id": "grade_pass",
                "value": "s1",
                "text": {"type": "plain_text", "text": "Pass"},
                "style": "primary",
            },
            {
                "type": "button",
                "action_id": "grade_minor",
                "value": "s1",
                "text": {"type": "plain_text", "text": "Minor issue"},
            },
            {
                "type": "button",
                "action_id": "grade_major",
                "value": "s1",
                "text": {"type": "plain_text", "text": "Major error"},
                "style": "danger",
            },
        ],
    }


@pytest.fixture
def grade_modal() -> dict:
    """A modal with a category select, a required explanation (min 20) and an optional note."""
    return {
        "type": "modal",
        "callback_id": "grade_modal",
        "private_metadata": '{"sample": "s1"}',
        "title": {"type": "plain_text", "text": "Minor issue"},
        "submit": {"type": "plain_text", "text": "Record"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "category",
                "label": {"type": "plain_text", "text": "Category"},
                "element": {
                    "type": "static_select",
                    "action_id": "category_select",
                    "placeholder": {"type": "plain_text", "text": "Pick one"},
                    "options": [
                        {
                            "text": {"type": "plain_text", "text": "Factual error"},
                            "value": "factual",
                        },
                        {"text": {"type": "plain_text", "text": "Other"}, "value": "other"},
                    ],
                },
            },
            {
                "type": "input",
                "block_id": "explanation",
                "label": {"type": "plain_text", "text": "Explanation"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "explanation_input",
                    "multiline": True,
                    "min_length": 20,
                },
            },
            {
                "type": "input",
                "block_id": "note",
                "optional": True,
                "label": {"type": "plain_text", "text": "Note"},
                "element": {"type": "plain_text_input", "action_id": "note_input"},
            },
        ],
    }
