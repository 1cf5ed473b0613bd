"""``POST /api/outputs``: trainer outputs pushed over HTTP, the same records as ``auditbot ingest``.

Usage (``create_web_app`` does this)::

    register_ingest(web, ctx)

    curl -X POST https://auditbot.example.com/api/outputs \\
         -H "Authorization: Bearer $INGEST_TOKEN" -H "Content-Type: application/json" \\
         --data @outputs.json            # a JSON array of records

Answers: 200 ``{"read", "stored", "unchanged", "rejected": []}`` when every record was good;
422 with the same counts and each bad record's ``index``, ``id`` and ``reason`` (the good ones
are stored); 400 when the body is not a JSON array; 401 without the right bearer token; 413
past ``MAX_BODY_BYTES``; 404 when ``INGEST_TOKEN`` is not set (the endpoint is off); 503 with
``Retry-After`` when the store stayed busy (nothing of the request was stored). A record
longer than ``INGEST_MAX_RECORD_BYTES`` is a bad record, listed by its index.
"""

import hmac
from typing import Any

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import OperationalError

from bot.services.ingest import (
    IngestReport,
    ingest,
    label_scales_of,
    records_from_json_array,
    roster_from_workspace,
)
from bot.services.ingest_read import json_kind, parse_json
from bot.store.db import is_busy
from bot.wiring.context import AppContext

INGEST_PATH = "/api/outputs"
MAX_BODY_BYTES = 10 * 1024 * 1024  # 10 MB: about 5,000 long records; send more in batches
RETRY_AFTER_BUSY = 5  # seconds


def register_ingest(web: Flask, ctx: AppContext) -> None:
    @web.post(INGEST_PATH)
    def ingest_outputs() -> tuple[Response, int]:
        token = ctx.settings.ingest_token
        if not token:
            return _error("not found", 404)
        if not authorized(request.headers.get("Authorization"), token):
            answer, status = _error("a valid `Authorization: Bearer <INGEST_TOKEN>` is needed",
                                    401)
            answer.headers["WWW-Authenticate"] = 'Bearer realm="auditbot"'
            return answer, status
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return _too_large()
        # Content-Length may be absent (chunked) or wrong: read at most one byte past the limit.
        body = request.stream.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            return _too_large()
        items, problem = _json_array(body)
        if items is None:
            return _error(problem or "the body must be a JSON array of records", 400)
        trainers, task_types = roster_from_workspace(ctx.workspace)
        try:
            with ctx.session() as session:
                records = records_from_json_array(
                    items, max_record_bytes=ctx.settings.ingest_max_record_bytes)
                report = ingest(session, records, known_trainers=trainers,
                                known_task_types=task_types, now=ctx.clock.now(),
                                label_scales=label_scales_of(ctx.workspace))
        except OperationalError as error:
            if not is_busy(error):
                raise
            answer, status = _error("the database is busy (another process is writing to "
                                    "it); nothing was stored: send the records again", 503)
            answer.headers["Retry-After"] = str(RETRY_AFTER_BUSY)
            return answer, status
        return jsonify(report_body(report)), 200 if report.ok else 422


def authorized(header: str | None, token: str) -> bool:
    """``Bearer <token>``, compared in constant time (no timing hint at the token)."""
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def report_body(report: IngestReport) -> dict[str, Any]:
    return {
        "read": report.read, "stored": report.stored, "unchanged": report.unchanged,
        "rejected": [{"index": r.number, "id": r.id, "reason": r.reason}
                     for r in report.rejected],
    }


def _json_array(body: bytes) -> tuple[list[Any] | None, str | None]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        return None, f"the body is not UTF-8 (byte {error.start})"
    value, problem = parse_json(text)
    if problem is not None:
        return None, f"invalid JSON: {problem}"
    if not isinstance(value, list):
        return None, f"expected a JSON array of records, got {json_kind(value)}"
    return value, None


def _too_large() -> tuple[Response, int]:
    return _error(f"the body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB: "
                  "send the records in several requests", 413)


def _error(message: str, status: int) -> tuple[Response, int]:
    return jsonify({"error": message}), status
