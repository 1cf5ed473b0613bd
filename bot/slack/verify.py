"""Slack's request signature, checked before anything in the body is read.

Usage::

    problem = signature_problem(secret, body=raw_bytes, timestamp=headers.get(...),
                                signature=headers.get(...), now=time.time())
    if problem: answer 401 (problem says why, for the log; it never holds the body)
    body = parse_slack_body(raw_bytes, content_type)   # BadBody: answer 400

Slack signs ``v0:{timestamp}:{body}`` with HMAC-SHA256 under the app's signing secret and
sends ``X-Slack-Request-Timestamp`` (whole seconds) and ``X-Slack-Signature: v0=<hex>``.
A timestamp that is not ASCII digits, or more than five minutes from our clock, is refused
before any HMAC is computed (slack_sdk raises on a non-numeric one instead).
"""

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

MAX_SKEW_SECONDS = 300
# Set in a BoltRequest's context by the HTTP route once it has checked the signature; an
# error handler answers only requests that carry it (or came over Socket Mode).
VERIFIED = "auditbot_verified"
MAX_BODY_BYTES = 512 * 1024  # Slack's payloads are a few KB; a full modal state stays far below
_MAX_TIMESTAMP_DIGITS = 12
_SIGNATURE_PREFIX = "v0="
_HEX = frozenset("0123456789abcdef")


class BadBody(ValueError):
    """A signed body that is not a Slack request (not UTF-8, not a JSON object, …)."""


def ascii_digits(text: str, *, max_digits: int) -> bool:
    """True for 1 to ``max_digits`` ASCII digits and nothing else (``str.isdigit`` also
    takes "٣" and "²", ``int`` also takes " 1", "+1" and "1_000")."""
    return 0 < len(text) <= max_digits and all("0" <= c <= "9" for c in text)


def signature_problem(secret: str, *, body: bytes, timestamp: str | None,
                      signature: str | None, now: float) -> str | None:
    """None when Slack signed ``body`` within the last five minutes; else why not."""
    if timestamp is None or not ascii_digits(timestamp, max_digits=_MAX_TIMESTAMP_DIGITS):
        return "no whole-number timestamp"
    if abs(now - int(timestamp)) > MAX_SKEW_SECONDS:
        return "a stale timestamp"
    if not signature or not signature.startswith(_SIGNATURE_PREFIX):
        return "no v0 signature"
    given = signature[len(_SIGNATURE_PREFIX):]
    if len(given) != 64 or not set(given) <= _HEX:
        return "a malformed signature"
    expected = hmac.new(secret.encode("utf-8"), b"v0:" + timestamp.encode("ascii") + b":" + body,
                        hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode("ascii"), given.encode("ascii")):
        return "a wrong signature"
    return None


def parse_slack_body(body: bytes, content_type: str | None) -> tuple[str, dict[str, Any]]:
    """(the body as text, what it holds): a JSON object (Events API), the JSON object in
    an interactivity form's ``payload`` field, or a slash command's form fields.

    Unlike Bolt's ``parse_body`` a form is read as a form whatever its values say: a slash
    command whose text holds "payload" or starts with "{" is still that command.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadBody("the body is not UTF-8") from None
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == "application/json":
        return text, _json_object(text, "the body")
    if kind != "application/x-www-form-urlencoded":
        raise BadBody(f"unexpected content type {kind or 'none'!r}")
    try:
        fields = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text),
                                errors="strict", max_num_fields=200))
    except (ValueError, UnicodeDecodeError):
        raise BadBody("the form cannot be read") from None
    if "payload" in fields:
        return text, _json_object(fields["payload"], "the payload")
    return text, fields


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise BadBody(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise BadBody(f"{what} is not a JSON object")
    return value


SLACK_HOOKS_HOST = "hooks.slack.com"


def slack_response_url(url: Any, *, api_url: str) -> bool:
    """True for a response_url auditbot may POST to: Slack's hooks over https (``hooks.`` and
    the configured API's host too, e.g. GovSlack's), or the host of the configured Slack API
    itself (the sandbox's, in tests and the demo). Anything else could make the server call
    an address of the sender's choosing."""
    if not isinstance(url, str):
        return False
    try:
        given, api = urlsplit(url), urlsplit(api_url)
        hooks_hosts = {SLACK_HOOKS_HOST, f"hooks.{(api.hostname or '').removeprefix('api.')}"}
        hooks = given.scheme == "https" and given.hostname in hooks_hosts and \
            given.port in (None, 443)
        same_as_api = (given.scheme, given.netloc.lower()) == (api.scheme, api.netloc.lower())
    except ValueError:  # an unreadable port or an odd IPv6 literal
        return False
    return (hooks or same_as_api) and not given.username and not given.password


_OBJECTS = ("event", "view", "container", "message", "team", "enterprise", "state")
_OBJECTS_OR_IDS = ("user", "channel")


def shape_problem(body: dict[str, Any]) -> str | None:
    """Why Bolt could not read ``body`` (it indexes these fields without checking them, in its
    matchers and even on its way to the error handler), or None."""
    if not isinstance(body.get("type", ""), str):
        return "its type is not a string"
    for key in _OBJECTS:
        if body.get(key) is not None and not isinstance(body[key], dict):
            return f"its {key} is not an object"
    for key in _OBJECTS_OR_IDS:
        if body.get(key) is not None and not isinstance(body[key], dict | str):
            return f"its {key} is neither an object nor an id"
    event, view = body.get("event") or {}, body.get("view") or {}
    for holder, key in ((event, "type"), (view, "type"), (view, "callback_id")):
        if not isinstance(holder.get(key, ""), str):
            return f"its {key} is not a string"
    if "actions" in body:
        actions = body["actions"]
        if not isinstance(actions, list) or not actions or \
                not all(isinstance(a, dict) and isinstance(a.get("action_id", ""), str)
                        and isinstance(a.get("block_id", ""), str) for a in actions):
            return "its actions are not a list of actions"
    for key in ("command", "callback_id", "action_id", "response_url", "trigger_id"):
        if not isinstance(body.get(key, ""), str):
            return f"its {key} is not a string"
    return None
