"""files.* of the sandbox: the upload flow of ``files_upload_v2``, served for real.

1. ``files.getUploadURLExternal`` (``filename``, ``length``) → ``upload_url``, ``file_id``;
2. the bytes are POSTed to ``upload_url``, which the sandbox itself serves
   (``/upload/<file_id>``, answered ``200 OK - <bytes>``);
3. ``files.completeUploadExternal`` (``files=[{"id", "title"}]``, ``channel_id`` or
   ``channels``, ``initial_comment``, ``thread_ts``) shares the files: a message carrying
   them appears in each channel (``initial_comment`` as its text).

Every file is kept (`SlackSandbox.files()`), bytes included, so a test can check that a real
PNG arrived. As in Slack: an upload URL is used once, a file id can only be completed once
it was uploaded, and a file completed without a channel stays private.
"""

import json
from dataclasses import dataclass, field, replace
from typing import Any

from bot.sandbox.api_chat import check_thread, writable
from bot.sandbox.params import Params
from bot.sandbox.records import BOT_USER_ID, WORKSPACE_URL
from bot.sandbox.state import ApiError, Workspace

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_FILE_BYTES = 1024 * 1024 * 1024  # Slack's 1 GB limit
MIMETYPES = {"png": "image/png", "csv": "text/csv", "txt": "text/plain",
             "json": "application/json", "pdf": "application/pdf"}


@dataclass
class FileRecord:
    """One file as the sandbox holds it; `data` is None until the bytes were uploaded."""

    id: str
    filename: str
    length: int
    alt_txt: str | None = None
    snippet_type: str | None = None
    data: bytes | None = None
    title: str | None = None
    completed: bool = False
    channels: list[str] = field(default_factory=list)
    initial_comment: str | None = None
    thread_ts: str | None = None
    message_ts: dict[str, str] = field(default_factory=dict)  # channel → ts of its share

    @property
    def filetype(self) -> str:
        if self.data is not None and self.data.startswith(PNG_SIGNATURE):
            return "png"
        return self.filename.rsplit(".", 1)[-1].lower() if "." in self.filename else "binary"

    @property
    def mimetype(self) -> str:
        return MIMETYPES.get(self.filetype, "application/octet-stream")

    @property
    def is_png(self) -> bool:
        return self.data is not None and self.data.startswith(PNG_SIGNATURE)

    def copy(self) -> "FileRecord":
        return replace(self, channels=list(self.channels), message_ts=dict(self.message_ts))

    def to_slack(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.filename, "title": self.title or self.filename,
            "mimetype": self.mimetype, "filetype": self.filetype,
            "size": len(self.data or b""), "user": BOT_USER_ID,
            "url_private": f"{WORKSPACE_URL}files/{BOT_USER_ID}/{self.id}/{self.filename}",
            "permalink": f"{WORKSPACE_URL}files/{BOT_USER_ID}/{self.id}/{self.filename}",
            "channels": list(self.channels), "is_public": False,
        }


def get_upload_url(ws: Workspace, p: Params) -> dict[str, Any]:
    filename = p.text("filename", required=True)
    length = p.number("length", -1)
    if length < 1 or length > MAX_FILE_BYTES:
        raise ApiError("invalid_arguments", ["[ERROR] length must be a positive whole number "
                                             "of bytes, at most 1 GB"])
    file_id = ws.next_id("F")
    ws.files[file_id] = FileRecord(id=file_id, filename=filename or "", length=length,
                                   alt_txt=p.text("alt_txt") or p.text("alt_text"),
                                   snippet_type=p.text("snippet_type"))
    return {"ok": True, "upload_url": f"{ws.base_url}/upload/{file_id}", "file_id": file_id}


def upload(ws: Workspace, file_id: str, body: bytes) -> tuple[int, str]:
    """A POST of the file's bytes to its upload URL: (HTTP status, plain-text answer)."""
    record = ws.files.get(file_id)
    if record is None:
        return 404, "not_found"
    if record.data is not None:
        return 410, "upload_url_used"  # good once
    if not body:
        return 400, "empty_body"
    record.data = body
    return 200, f"OK - {len(body)}"


def complete_upload(ws: Workspace, p: Params) -> dict[str, Any]:
    requested = _files_arg(p.obj("files"))
    records = []
    for item in requested:
        record = ws.files.get(str(item.get("id", "")))
        if record is None or record.data is None or record.completed:
            raise ApiError("file_not_found")
        records.append((record, item))
    targets = _channels(ws, p)
    thread_ts = p.text("thread_ts")
    if thread_ts and len(targets) != 1:
        raise ApiError("invalid_arguments", ["[ERROR] thread_ts needs exactly one channel"])
    for channel in targets:
        writable(channel)
        check_thread(ws, channel, thread_ts)
    comment = p.text("initial_comment")
    for record, item in records:
        record.title = str(item.get("title") or record.filename)
        record.completed = True
        record.initial_comment, record.thread_ts = comment, thread_ts
    for channel in targets:
        message = ws.post(channel, text=comment or "", thread_ts=thread_ts)
        message.files = [record.to_slack() for record, _ in records]
        for record, _ in records:
            record.channels.append(channel.id)
            record.message_ts[channel.id] = message.ts
    return {"ok": True, "files": [r.to_slack() for r, _ in records]}


def _files_arg(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ApiError("invalid_arguments", ["[ERROR] files must be a JSON array"]) from None
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        raise ApiError("invalid_arguments", ["[ERROR] files must be a non-empty array of "
                                             "{id, title}"])
    return value


def _channels(ws: Workspace, p: Params) -> list[Any]:
    """Where to share: ``channel_id`` (a channel or DM id), or ``channels`` (comma-separated
    channel or user ids; a user id means the DM with them). None: the file stays private."""
    wanted = []
    if p.text("channel_id"):
        channel_id = p.text("channel_id") or ""
        if channel_id[:1] in ("U", "W"):
            raise ApiError("invalid_channel")
        wanted.append(channel_id)
    wanted += [c.strip() for c in (p.text("channels") or "").split(",") if c.strip()]
    found = []
    for name in wanted:
        channel = ws.resolve(name)
        if channel not in found:
            found.append(channel)
    return found


METHODS = {
    "files.getUploadURLExternal": get_upload_url,
    "files.completeUploadExternal": complete_upload,
}
