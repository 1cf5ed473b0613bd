"""The outbox worker: delivers owed Slack writes, in order per channel, exactly once.

Usage::

    worker = OutboxWorker(engine=engine, client=outbox_client(token, base_url),
                          workspace=workspace, clock=clock)
    worker.start()            # background thread, woken by worker.wake() after commits
    worker.run_until_idle()   # or: deliver everything now (CLI, demo, tests)

How "exactly once" holds:
- only the worker that wins ``claim`` sends an item; a lease returns it if that worker dies;
- an item is marked *in doubt* before it is sent, and what Slack accepted is marked sent
  right after; a post whose earlier attempt is in doubt (a crash, a lost answer, a 5xx) is
  first looked for in the channel by the key in its message metadata, and only posted if
  it is not there;
- 429 answers hold the whole channel until ``Retry-After`` has passed; 5xx and network
  errors back off; permanent errors (``channel_not_found`` …) are kept as failed, never lost.
"""

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import Clock, SystemClock
from bot.db import session_scope
from bot.models import AuditThread, Escalation, EscalationNotice, OutboxItem, Sample, TrainerState
from bot.services import outbox as store
from bot.services.outbox import OutboxKind
from bot.slack.cards import escalation_card, parent_message, sample_message
from bot.slack.escalation_blocks import escalation_closed, escalation_notice, watch_fyi
from bot.slack.ids import OUTBOX_EVENT_TYPE
from bot.workspace import Workspace

log = logging.getLogger(__name__)

# Slack answers these with ok:false when the fault is on its side; worth another try.
TRANSIENT_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable",
                              "request_timeout", "ratelimited"})
MAX_BACKOFF = 300.0
# How far back to look for a post in doubt: it was sent moments ago, so the newest pages.
FIND_PAGES = 5


@dataclass(frozen=True)
class SlackWrite:
    method: str
    args: dict
    is_post: bool
    thread_ts: str | None = None


class NotReady(Exception):
    """The item depends on another that has not been delivered yet (a reply's parent)."""

    def __init__(self, failed_error: str | None = None) -> None:
        super().__init__(failed_error)
        self.failed_error = failed_error


@dataclass
class PassResult:
    sent: int = 0
    deferred: int = 0
    failed: int = 0


def outbox_client(token: str, base_url: str) -> WebClient:
    """A client without automatic retries: the outbox decides what is safe to resend."""
    return WebClient(token=token, base_url=base_url, timeout=15, retry_handlers=[])


class OutboxWorker:
    def __init__(self, *, engine: Engine, client: WebClient, workspace: Workspace,
                 clock: Clock, timer: Clock | None = None,
                 lease: timedelta = timedelta(seconds=60), backoff_factor: float = 1.0) -> None:
        self._engine = engine
        self._client = client
        self._workspace = workspace
        # ``clock`` is business time (which week, which window a message shows); ``timer`` is
        # real time for leases, Retry-After and backoff, even when business time is fixed.
        self._business_clock = clock
        self._clock = timer or SystemClock()
        self._lease = lease
        self._owner = f"worker-{uuid.uuid4().hex[:12]}"
        # 5xx and network errors: 2 s, 4 s, 8 s … (factor 1.0), capped at MAX_BACKOFF.
        self._backoff = BackoffRetryIntervalCalculator(backoff_factor=backoff_factor)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- running -------------------------------------------------------------------------

    def start(self, *, interval: float = 1.0) -> None:
        self._thread = threading.Thread(target=self._loop, args=(interval,),
                                        name="outbox-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    def _loop(self, interval: float) -> None:
        while not self._stop.is_set():
            try:
                self.drain_once()
            except Exception:
                log.exception("outbox pass failed; trying again shortly")
            self._wake.wait(interval)
            self._wake.clear()

    def run_until_idle(self, *, timeout: float = 120.0) -> store.DueSummary:
        """Deliver until nothing is pending (failed items stay), waiting out Retry-After."""
        deadline = time.monotonic() + timeout
        while True:
            self.drain_once()
            with Session(self._engine) as session:
                due = store.due_summary(session)
            if due.pending == 0 or time.monotonic() > deadline:
                return due
            wait = 0.05
            if due.next_due is not None:
                wait = max(0.05, (due.next_due - self._clock.now()).total_seconds())
            time.sleep(min(wait, 1.0))

    # --- one pass --------------------------------------------------------------------------

    def drain_once(self, *, limit: int | None = None) -> PassResult:
        """One pass over the channels with due items; at most ``limit`` deliveries."""
        result = PassResult()
        with Session(self._engine, expire_on_commit=False) as session:
            heads = store.channel_heads(session, now=self._clock.now())
        for head in heads:
            self._drain_channel(head, result, limit)
        return result

    def _drain_channel(self, item: OutboxItem | None, result: PassResult,
                       limit: int | None) -> None:
        while item is not None:
            if limit is not None and result.sent + result.failed + result.deferred >= limit:
                return
            outcome = self._deliver(item)
            if outcome == "sent":
                result.sent += 1
            elif outcome == "failed":
                result.failed += 1
            else:
                result.deferred += 1
                return  # the channel waits behind this item, so order is kept
            with Session(self._engine, expire_on_commit=False) as session:
                item = store.next_in_channel(session, channel=item.channel, after_id=item.id or 0)
            if item is not None and item.attempts and item.next_attempt_at > self._clock.now():
                return

    def _deliver(self, item: OutboxItem) -> str:
        now = self._clock.now()
        assert item.id is not None
        with session_scope(self._engine) as session:
            if not store.claim(session, item=item, owner=self._owner, now=now,
                               lease=self._lease):
                return "skipped"
        was_in_doubt = item.in_doubt
        try:
            with Session(self._engine) as session:
                write = self._render(session, item)
            if was_in_doubt and write.is_post:
                found = self._find_posted(item, write)
                if found is not None:
                    log.info("outbox item %s was already posted (ts %s)", item.dedupe_key, found)
                    self._record_sent(item, found, write.args.get("channel"))
                    return "sent"
            response = self._client.api_call(write.method, json=write.args)
            posted_in = response.get("channel") or write.args.get("channel")
        except NotReady as waiting:
            if waiting.failed_error is not None:
                # The parent failed for good: so does the reply, with the reason, until
                # someone fixes the cause and retries both. Nothing is dropped.
                with session_scope(self._engine) as session:
                    store.mark_failed(session, item_id=item.id,
                                      error=f"parent message failed: {waiting.failed_error}")
                return "failed"
            self._retry(item, after=0.5, error="waiting for the parent message",
                        in_doubt=was_in_doubt)
            return "deferred"
        except SlackApiError as error:
            return self._handle_api_error(item, error, was_in_doubt=was_in_doubt)
        except Exception as error:  # network failure: the post may or may not have landed
            log.warning("outbox item %s: %s", item.dedupe_key, error)
            self._retry(item, after=self._backoff_for(item), error=repr(error), in_doubt=True)
            return "deferred"
        self._record_sent(item, response.get("ts"), posted_in)
        return "sent"

    def _handle_api_error(self, item: OutboxItem, error: SlackApiError, *,
                          was_in_doubt: bool) -> str:
        status = error.response.status_code
        code = error.response.get("error") if isinstance(error.response.data, dict) else None
        if status == 429:
            retry_after = _retry_after_seconds(error.response.headers)
            log.info("rate limited in %s: holding the channel %ss", item.channel, retry_after)
            self._retry(item, after=retry_after, error="ratelimited", in_doubt=was_in_doubt)
            return "deferred"
        if status >= 500 or code in TRANSIENT_ERRORS:
            self._retry(item, after=self._backoff_for(item), error=f"HTTP {status} {code or ''}",
                        in_doubt=True)
            return "deferred"
        log.error("outbox item %s failed for good: %s", item.dedupe_key, code)
        with session_scope(self._engine) as session:
            store.mark_failed(session, item_id=item.id or 0, error=str(code or status))
        return "failed"

    # --- helpers ---------------------------------------------------------------------------

    def _render(self, session: Session, item: OutboxItem) -> SlackWrite:
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
        if kind == OutboxKind.WATCH_FYI:
            state = session.get(TrainerState, item.ref_id)
            assert state is not None
            text, blocks = watch_fyi(
                trainer=state.trainer, task_name=self._workspace.task_type(state.task_type).name,
                score=state.score, graded=state.graded,
                threshold=self._workspace.task_type(state.task_type).policy.pass_threshold)
            return _post(self._dm_channel(item.channel), text, blocks, metadata)
        return self._render_escalation(session, item, kind, metadata)

    def _render_sample(self, session: Session, item: OutboxItem, kind: OutboxKind,
                       metadata: dict) -> SlackWrite:
        sample = session.get(Sample, item.ref_id)
        assert sample is not None
        thread = session.get(AuditThread, sample.thread_id)
        assert thread is not None
        text, blocks = sample_message(session, self._workspace, sample.id or 0)
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

    def _render_escalation(self, session: Session, item: OutboxItem, kind: OutboxKind,
                           metadata: dict) -> SlackWrite:
        notice = session.get(EscalationNotice, item.ref_id)
        assert notice is not None
        escalation = session.get(Escalation, notice.escalation_id)
        assert escalation is not None
        card = escalation_card(session, self._workspace, escalation,
                               now=self._business_clock.now(), permalink=self._permalink)
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
        try:
            return self._client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
        except SlackApiError:
            return None

    def _find_posted(self, item: OutboxItem, write: SlackWrite) -> str | None:
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
            for message in page.get("messages", []):
                payload = (message.get("metadata") or {}).get("event_payload") or {}
                if payload.get("key") == item.dedupe_key:
                    return message.get("ts")
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return None

    def _record_sent(self, item: OutboxItem, ts: str | None, channel: str | None) -> None:
        now = self._clock.now()
        with session_scope(self._engine) as session:
            store.mark_sent(session, item_id=item.id or 0, ts=ts, now=now)
            if ts is None:
                return
            if item.kind == OutboxKind.AUDIT_PARENT:
                thread = session.get(AuditThread, item.ref_id)
                if thread is not None:
                    thread.parent_ts = ts
                    session.add(thread)
            elif item.kind == OutboxKind.SAMPLE_POST:
                sample = session.get(Sample, item.ref_id)
                if sample is not None:
                    sample.message_ts = ts
                    session.add(sample)
            elif item.kind == OutboxKind.ESCALATION_NOTICE:
                notice = session.get(EscalationNotice, item.ref_id)
                if notice is not None:
                    notice.message_ts, notice.channel = ts, channel
                    session.add(notice)

    def _retry(self, item: OutboxItem, *, after: float, error: str, in_doubt: bool) -> None:
        at = self._clock.now() + timedelta(seconds=after)
        with session_scope(self._engine) as session:
            store.retry_later(session, item_id=item.id or 0, at=at, error=error,
                              in_doubt=in_doubt)

    def _backoff_for(self, item: OutboxItem) -> float:
        return min(MAX_BACKOFF, self._backoff.calculate_sleep_duration(item.attempts))


def _post(channel: str, text: str, blocks: list[dict], metadata: dict, *,
          thread_ts: str | None = None) -> SlackWrite:
    args = {"channel": channel, "text": text, "blocks": blocks, "metadata": metadata,
            "unfurl_links": False}
    if thread_ts:
        args["thread_ts"] = thread_ts
    return SlackWrite("chat.postMessage", args, is_post=True, thread_ts=thread_ts)


def _retry_after_seconds(headers: dict) -> float:
    for name in ("Retry-After", "retry-after"):
        value = headers.get(name)
        if isinstance(value, list):
            value = value[0] if value else None
        if value is not None:
            try:
                return max(1.0, float(value))
            except ValueError:
                break
    return 1.0
