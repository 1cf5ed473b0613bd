"""Request parameters as Slack reads them, whatever the encoding.

slack_sdk sends some methods as JSON and others as form fields or a query string; in form
bodies `blocks`, `view`, `metadata` and `attachments` arrive as JSON strings. `parse_body`
merges all of it into one dict with those fields decoded, and `Params` reads typed values.
"""

import json
from typing import Any
from urllib.parse import parse_qsl

from bot.sandbox.state import ApiError

JSON_FIELDS = ("blocks", "view", "metadata", "attachments")


def parse_body(query: str, body: bytes, content_type: str) -> dict[str, Any]:
    """Query string + body (JSON or form) → one dict; raises ApiError on a malformed body."""
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    kind = content_type.split(";")[0].strip().lower()
    if body:
        if kind == "application/json":
            try:
                decoded = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ApiError("invalid_json") from exc
            if not isinstance(decoded, dict):
                raise ApiError("invalid_json")
            params.update(decoded)
        elif kind in ("application/x-www-form-urlencoded", "text/plain", ""):
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        else:
            raise ApiError("invalid_post_type")
    for key in JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value != "":
            try:
                params[key] = json.loads(value)
            except json.JSONDecodeError as exc:
                error = "invalid_blocks_format" if key == "blocks" else "invalid_arguments"
                raise ApiError(error, [f"[ERROR] invalid JSON in {key}"]) from exc
    return params


class Params:
    """Typed access to merged request parameters."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def text(self, key: str, *, required: bool = False, error: str | None = None) -> str | None:
        value = self.values.get(key)
        if value is None or value == "":
            if required:
                message = f"[ERROR] missing required field: {key}"
                raise ApiError(error or "invalid_arguments", [message])
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def flag(self, key: str) -> bool:
        value = self.values.get(key)
        if isinstance(value, str):
            return value.lower() in ("1", "true", "yes")
        return bool(value)

    def number(self, key: str, default: int) -> int:
        value = self.values.get(key)
        try:
            return int(value) if value not in (None, "") else default
        except (TypeError, ValueError) as exc:
            raise ApiError("invalid_arguments", [f"[ERROR] {key} must be an integer"]) from exc

    def obj(self, key: str) -> Any:
        return self.values.get(key)

    def has(self, key: str) -> bool:
        return key in self.values


def redacted(values: dict[str, Any]) -> dict[str, Any]:
    """Params for the call log, without the token."""
    return {k: v for k, v in values.items() if k != "token"}
