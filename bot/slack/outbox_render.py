"""What an outbox item says in Slack, rendered from the store when it is delivered.

Usage (the delivery worker does this for each claimed item)::

    renderer = OutboxRenderer(client=client, workspace=workspace, clock=business_clock)
    with Session(engine) as session:
        write = renderer.render(session, item)   # SlackWrite("chat.postMessage", {...})
    found_ts = renderer.find_posted(item, write)  # for a post in doubt: already there?

Rendering at delivery time (not when the item was owed) means a late update shows the
latest state. An item that depends on another one not yet delivered raises ``NotReady``.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from sqlmodel import Session

from bot.common.clock import Clock
from bot.services import outbox as store
from bot.services.feedback import feedback_of
from bot.services.grading import load_sample
from bot.services.outbox import OutboxKind
from bot.slack.cards import disagreement_message, escalation_card, parent_message, record_message
from bot.slack.escalation_blocks import escalation_closed, escalation_notice, watch_fyi
from bot.slack.feedback_blocks import feedback_dm
from bot.slack.ids import OUTBOX_EVENT_TYPE
from bot.slack.links import permalinks_for
from bot.store.models import (
    AuditThread,
    Escalation,
    EscalationNotice,
    OutboxItem,
    TrainerState,
)
from bot.store.models.trainer import Disagreement
from bot.workspace import Workspace

# How far back to look for a post in doubt: it was sent moments ago, so the newest pages.
FIND_PAGES = 5
# Kinds that post a new message (paced per channel); the others update one in place.
POST_KINDS = frozenset({OutboxKind.AUDIT_PARENT, OutboxKind.SAMPLE_POST,
                        OutboxKind.ESCALATION_NOTICE, OutboxKind.ESCALATION_CLOSED,
                        OutboxKind.WATCH_FYI, OutboxKind.MESSAGE,
                        OutboxKind.DISAGREEMENT_POST, OutboxKind.TRAINER_FEEDBACK})


@dataclass(frozen=True)
class SlackWrite:
    method: str
    args: dict
    is_post: bool
    thread_ts: str | None = None

    @property
    def shown(self) -> str:
        """A digest of what the message shows (its text and blocks), to compare with the
        one last sent."""
        content = json.dumps([self.args.get("text"), self.args.get("blocks")],
                             sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(content.encode("utf-8")).hexdigest()


class NotReady(Exception):
    """The item depends on another that has not been delivered yet (a reply's parent)."""

    def __init__(self, failed_error: str | None = None) -> None:
        super().__init__(failed_error)
        self.failed_error = failed_error


class OutboxRenderer:
    def __init__(self, *, client: WebClient, workspace: Workspace, clock: Clock) -> None:
        self._client = client
        self._workspace = workspace
        self._clock = clock  # business time: which week, which window a message shows

    def render(self, session: Session, item: OutboxItem) -> SlackWrite:
        metadata = {"event_type": OUTBOX_EVENT_TYPE,
                    "event_payload": {"key": item.dedupe_key}}
        kind = OutboxKind(item.kind)
        if kind == OutboxKind.AUDIT_PARENT:
            thread = session.get(AuditThread, item.ref_id)
            assert thread is not None
            text, blocks = parent_message(self._workspace, thread)
            return _post(thread.channel, text, blocks, metadata)
        if kind in (OutboxKind.SAMPLE_POST, OutboxKind.SAMPLE_UPDATE):
            return self._render_sample(session, item, kind, metadata)
        if kind == OutboxKind.MESSAGE:
            content = json.loads(item.payload_json or "{}")
            return _post(self._dm_channel(item.channel), content.get("text", ""),
                         content.get("blocks") or [], metadata)
        if kind in (OutboxKind.DISAGREEMENT_POST, OutboxKind.DISAGREEMENT_UPDATE):
            return self._render_disagreement(session, item, kind, metadata)
        if kind == OutboxKind.WATCH_FYI:
            state = session.get(TrainerState, item.ref_id)
            assert state is not None
            task_type = self._workspace.task_type(state.task_type)
            text, blocks = watch_fyi(
                trainer=state.trainer, task_name=task_type.name, score=state.score,
                graded=state.graded, threshold=task_type.policy.pass_threshold)
            return _post(self._dm_channel(item.channel), text, blocks, metadata)
        if kind == OutboxKind.TRAINER_FEEDBACK:
            feedback = feedback_of(session, self._workspace, feedback_id=item.ref_id,
                                   now=self._clock.now())
            if feedback is None:
                text, blocks = "Your audit feedback is no longer available.", []
            else:
                linked = [*feedback.items, *(n.sample for n in feedback.clarity_notes)]
                links = {(s.channel, s.message_ts): self._permalink(s.channel, s.message_ts)
                         for s in linked if s.message_ts}
                text, blocks = feedback_dm(feedback, links=links)
            return _post(self._dm_channel(item.channel), text, blocks, metadata)
        return self._render_escalation(session, item, kind, metadata)

    @staticmethod
    def shows_already(session: Session, item: OutboxItem, write: SlackWrite) -> bool:
        """True for an escalation update whose message already shows what it would write."""
        if item.kind != OutboxKind.ESCALATION_UPDATE:
            return False
        notice = session.get(EscalationNotice, item.ref_id)
        return notice is not None and notice.shown == write.shown

    def find_posted(self, item: OutboxItem, write: SlackWrite) -> str | None:
        """Look in the channel for a message carrying this item's key; its ts if found."""
        channel = write.args["channel"]
        cursor = None
        for _ in range(FIND_PAGES):
            if write.thread_ts:
                page = self._client.conversations_replies(
                    channel=channel, ts=write.thread_ts, include_all_metadata=True,
                    limit=200, cursor=cursor)
            else:
                page = self._client.conversations_history(
                    channel=channel, include_all_metadata=True, limit=200, cursor=cursor)
            messages: list[dict[str, Any]] = page.get("messages", [])
            for message in messages:
                payload = (message.get("metadata") or {}).get("event_payload") or {}
                if payload.get("key") == item.dedupe_key:
                    return message.get("ts")
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return None

    def _render_sample(self, session: Session, item: OutboxItem, kind: OutboxKind,
                       metadata: dict) -> SlackWrite:
        record = load_sample(session, item.ref_id)
        sample, thread = record.sample, record.thread
        text, blocks = record_message(session, self._workspace, record)
        if kind == OutboxKind.SAMPLE_POST:
            if thread.parent_ts is None:
                raise NotReady(store.failure_of(
                    session, kind=OutboxKind.AUDIT_PARENT, ref_id=thread.id or 0))
            return _post(thread.channel, text, blocks, metadata, thread_ts=thread.parent_ts)
        if sample.message_ts is None:
            raise NotReady(store.failure_of(
                session, kind=OutboxKind.SAMPLE_POST, ref_id=sample.id or 0))
        return SlackWrite("chat.update", {"channel": thread.channel, "ts": sample.message_ts,
                          "text": text, "blocks": blocks}, is_post=False)

    def _render_disagreement(self, session: Session, item: OutboxItem, kind: OutboxKind,
                             metadata: dict) -> SlackWrite:
        row = session.get(Disagreement, item.ref_id)
        assert row is not None
        text, blocks = disagreement_message(self._workspace, row)
        if kind == OutboxKind.DISAGREEMENT_POST:
            return _post(row.channel, text, blocks, metadata)
        if row.message_ts is None:
            raise NotReady(store.failure_of(
                session, kind=OutboxKind.DISAGREEMENT_POST, ref_id=row.id or 0))
        return SlackWrite("chat.update", {"channel": row.channel, "ts": row.message_ts,
                          "text": text, "blocks": blocks}, is_post=False)

    def _render_escalation(self, session: Session, item: OutboxItem, kind: OutboxKind,
                           metadata: dict) -> SlackWrite:
        notice = session.get(EscalationNotice, item.ref_id)
        assert notice is not None
        escalation = session.get(Escalation, notice.escalation_id)
        assert escalation is not None
        card = escalation_card(session, self._workspace, escalation,
                               now=self._clock.now(), permalink=self._permalink)
        if kind == OutboxKind.ESCALATION_NOTICE:
            text, blocks = escalation_notice(card)
            return _post(self._dm_channel(notice.target), text, blocks, metadata)
        if notice.message_ts is None or notice.channel is None:
            raise NotReady(store.failure_of(
                session, kind=OutboxKind.ESCALATION_NOTICE, ref_id=notice.id or 0))
        if kind == OutboxKind.ESCALATION_UPDATE:
            text, blocks = escalation_notice(card)
            return SlackWrite("chat.update", {"channel": notice.channel,
                              "ts": notice.message_ts, "text": text, "blocks": blocks},
                              is_post=False)
        text, blocks = escalation_closed(card)
        return _post(notice.channel, text, blocks, metadata)

    def _dm_channel(self, target: str) -> str:
        """People get a DM; its channel id is needed to find a post in doubt later."""
        if target[:1] not in ("U", "W"):
            return target
        return str(self._client.conversations_open(users=target)["channel"]["id"])

    def _permalink(self, channel: str, ts: str) -> str | None:
        # A message is posted once: a link left out because Slack was busy (429, 5xx) would
        # be missing for good, so the write waits (Retry-After, backoff) and renders again.
        return permalinks_for(self._client).of(channel, ts, raise_when_busy=True)


def _post(channel: str, text: str, blocks: list[dict], metadata: dict, *,
          thread_ts: str | None = None) -> SlackWrite:
    args = {"channel": channel, "text": text, "blocks": blocks, "metadata": metadata,
            "unfurl_links": False}
    if thread_ts:
        args["thread_ts"] = thread_ts
    return SlackWrite("chat.postMessage", args, is_post=True, thread_ts=thread_ts)
