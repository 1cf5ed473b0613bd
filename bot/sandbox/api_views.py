"""views.* methods of the sandbox (open, push, update, publish) and view_submission answers.

Invalid views are refused as Slack does: ``invalid_arguments`` with Block Kit errors in
``response_metadata.messages``. Trigger ids come from `Workspace.issue_trigger` and are good
once, for 3 seconds.
"""

import copy
from typing import Any

from bot.sandbox.blockkit import validate_view, with_generated_ids
from bot.sandbox.params import Params
from bot.sandbox.records import APP_ID, BOT_ID, TEAM_ID, ViewRecord
from bot.sandbox.state import ApiError, Workspace

MAX_STACK = 3


def _checked_view(p: Params, *, kind: str) -> dict[str, Any]:
    view = p.obj("view")
    if not isinstance(view, dict):
        raise ApiError("invalid_arguments", ["[ERROR] missing required field: view"])
    if view.get("type") != kind:
        raise ApiError("invalid_arguments", [f"[ERROR] must be {kind} [json-pointer:/view/type]"])
    errors = validate_view(view)
    if errors:
        raise ApiError("invalid_arguments", errors)
    return view


def _materialize(
    ws: Workspace, view: dict[str, Any], *, view_id: str, root: str | None, previous: str | None
) -> dict[str, Any]:
    """The view as Slack stores and returns it."""
    out: dict[str, Any] = {
        "id": view_id,
        "team_id": TEAM_ID,
        "type": view["type"],
        "blocks": with_generated_ids(view.get("blocks", [])),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "state": {"values": {}},
        "hash": ws.new_hash(),
        "clear_on_close": view.get("clear_on_close", False),
        "notify_on_close": view.get("notify_on_close", False),
        "close": copy.deepcopy(view.get("close")),
        "submit": copy.deepcopy(view.get("submit")),
        "previous_view_id": previous,
        "root_view_id": root or view_id,
        "app_id": APP_ID,
        "external_id": view.get("external_id", ""),
        "app_installed_team_id": TEAM_ID,
        "bot_id": BOT_ID,
    }
    if "title" in view:
        out["title"] = copy.deepcopy(view["title"])
    return out


def _check_external_id(ws: Workspace, view: dict[str, Any], *, own_id: str | None) -> None:
    external = view.get("external_id")
    if not external:
        return
    for record in [*ws.views.values(), *ws.homes.values()]:
        if record.view.get("external_id") == external and record.id != own_id:
            raise ApiError("duplicate_external_id")


def open_modals(ws: Workspace, user: str) -> list[ViewRecord]:
    """The user's modal stack, root first."""
    return [v for v in ws.views.values() if v.user == user and not v.closed]


def _trigger(p: Params) -> str:
    trigger = p.text("trigger_id") or p.text("interactivity_pointer")
    if not trigger:
        raise ApiError("invalid_arguments", ["[ERROR] missing required field: trigger_id"])
    return trigger


def views_open(ws: Workspace, p: Params) -> dict[str, Any]:
    trigger = _trigger(p)
    view = _checked_view(p, kind="modal")
    _check_external_id(ws, view, own_id=None)
    user = ws.exchange_trigger(trigger)
    for record in open_modals(ws, user):
        record.closed = True
    view_id = ws.next_id("V")
    stored = _materialize(ws, view, view_id=view_id, root=None, previous=None)
    ws.views[view_id] = ViewRecord(view_id, user, stored, [copy.deepcopy(stored)])
    return {"ok": True, "view": copy.deepcopy(stored)}


def views_push(ws: Workspace, p: Params) -> dict[str, Any]:
    trigger = _trigger(p)
    view = _checked_view(p, kind="modal")
    _check_external_id(ws, view, own_id=None)
    user = ws.exchange_trigger(trigger)
    return {"ok": True, "view": push(ws, user, view)}


def push(ws: Workspace, user: str, view: dict[str, Any]) -> dict[str, Any]:
    stack = open_modals(ws, user)
    if not stack:
        raise ApiError("invalid_arguments", ["[ERROR] no open modal to push onto"])
    if len(stack) >= MAX_STACK:
        raise ApiError("push_limit_reached")
    view_id = ws.next_id("V")
    stored = _materialize(ws, view, view_id=view_id, root=stack[0].id, previous=stack[-1].id)
    ws.views[view_id] = ViewRecord(view_id, user, stored, [copy.deepcopy(stored)], how="views.push")
    return copy.deepcopy(stored)


def _find(ws: Workspace, p: Params) -> ViewRecord:
    view_id, external = p.text("view_id"), p.text("external_id")
    if not view_id and not external:
        raise ApiError("invalid_arguments", ["[ERROR] view_id or external_id is required"])
    for record in [*ws.views.values(), *ws.homes.values()]:
        if record.id == view_id or (external and record.view.get("external_id") == external):
            if record.closed:
                raise ApiError("not_found")
            return record
    raise ApiError("not_found")


def replace_view(ws: Workspace, record: ViewRecord, view: dict[str, Any]) -> dict[str, Any]:
    """Stores a new version of `record` (same id, root and previous view, new hash).

    An update without `external_id` keeps the one the view had.
    """
    if not view.get("external_id") and record.view.get("external_id"):
        view = {**view, "external_id": record.view["external_id"]}
    stored = _materialize(
        ws,
        view,
        view_id=record.id,
        root=record.view.get("root_view_id"),
        previous=record.view.get("previous_view_id"),
    )
    record.view = stored
    record.versions.append(copy.deepcopy(stored))
    return copy.deepcopy(stored)


def views_update(ws: Workspace, p: Params) -> dict[str, Any]:
    record = _find(ws, p)
    view = _checked_view(p, kind=record.view["type"])
    if p.text("hash") and p.text("hash") != record.hash:
        raise ApiError("hash_conflict")
    _check_external_id(ws, view, own_id=record.id)
    return {"ok": True, "view": replace_view(ws, record, view)}


def views_publish(ws: Workspace, p: Params) -> dict[str, Any]:
    user = p.text("user_id") or ""
    if user not in ws.users:
        raise ApiError("invalid_arguments", ["invalid `user_id`"])
    view = _checked_view(p, kind="home")
    record = ws.homes.get(user)
    if record is not None and p.text("hash") and p.text("hash") != record.hash:
        raise ApiError("hash_conflict")
    _check_external_id(ws, view, own_id=record.id if record else None)
    if record is None:
        view_id = ws.next_id("V")
        stored = _materialize(ws, view, view_id=view_id, root=None, previous=None)
        record = ViewRecord(view_id, user, stored, [copy.deepcopy(stored)], how="views.publish")
        ws.homes[user] = record
        return {"ok": True, "view": copy.deepcopy(stored)}
    return {"ok": True, "view": replace_view(ws, record, view)}


def apply_submission_answer(ws: Workspace, view_id: str, answer: Any) -> None:
    """What Slack does with an app's HTTP answer to a view_submission.

    Empty answer or ``clear`` closes the modal (``clear`` closes the whole stack);
    ``update`` replaces it; ``push`` pushes a new one; ``errors`` keeps it open.
    An invalid view in ``update``/``push`` raises ApiError (Slack shows an error to the user).
    """
    record = ws.views.get(view_id)
    if record is None or record.closed:
        return
    action = answer.get("response_action") if isinstance(answer, dict) else None
    if action == "errors":
        return
    if action in ("update", "push"):
        view = answer.get("view")
        errors = validate_view(view) if isinstance(view, dict) else ["[ERROR] missing view"]
        if errors:
            raise ApiError("invalid_arguments", errors)
        if action == "update":
            replace_view(ws, record, view)
        else:
            push(ws, record.user, view)
        return
    stack = open_modals(ws, record.user)
    closing = stack if action == "clear" else [record]
    for item in closing:
        item.closed = True


METHODS = {
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
}
