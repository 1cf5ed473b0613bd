"""The outbox worker: delivers owed Slack writes, in order per channel, exactly once.

Usage::

    worker = OutboxWorker(engine=engine, client=outbox_client(token, base_url),
                          workspace=workspace, clock=clock)
    worker.start()            # background dispatcher, woken by worker.wake() after commits
    worker.run_until_idle()   # or: deliver everything now (CLI, demo, tests)
    worker.stop()             # takes no more work; the items being sent finish

How it scales: a dispatcher hands the head of every channel with due work to a small thread
pool, one item per channel at a time, so channels proceed in parallel while each keeps its
order. Posts to one channel are paced (``Pace``: about one a second, as Slack allows, kept in
the store so replicas share it), so a big audit spreads out instead of collecting 429s.

How "exactly once" holds:
- only the worker that wins ``claim`` sends an item; a lease returns it if that worker dies;
  a send is only started while the lease has room for the whole HTTP timeout, so a lease
  never runs out under a request that is still in flight;
- an item is marked *in doubt* before it is sent, and what Slack accepted is marked sent
  right after; a post whose earlier attempt is in doubt (a crash, a lost answer, a 5xx) is
  first looked for in the channel by the key in its message metadata, and only posted if
  it is not there;
- 429 answers hold the whole channel (that channel only) until ``Retry-After`` has passed,
  and give the refused post's pace slot back; the dispatcher wakes when the hold ends;
  5xx and network errors back off; permanent errors (``channel_not_found`` …) are kept as
  failed, never lost.
"""

import logging
import os
import socket
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from sqlalchemy import Engine

from bot.common.clock import Clock, SystemClock
from bot.services import outbox as store
from bot.slack import metrics
from bot.slack.errors import PARENT_FAILED
from bot.slack.outbox_render import POST_KINDS, NotReady, OutboxRenderer
from bot.slack.pacing import SLACK_PACE, ChannelPacer, Pace
from bot.store.db import read_scope, session_scope
from bot.store.models import AuditThread, EscalationNotice, OutboxItem, Sample
from bot.store.models.trainer import Disagreement
from bot.workspace import Workspace

log = logging.getLogger(__name__)

# Slack answers these with ok:false when the fault is on its side; worth another try.
# Errors Slack documents as passing: "update_failed" (chat.update's internal failure) and
# "team_added_to_org" (a workspace migrating into an org) are retried like a 5xx.
TRANSIENT_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable",
                              "request_timeout", "ratelimited", "update_failed",
                              "team_added_to_org"})
MAX_BACKOFF = 300.0
CLIENT_TIMEOUT = 15  # seconds; a send starts only with this much lease (and margin) left
MAX_SLOT_WAIT = 5.0  # seconds a delivery thread waits for its channel's pace before deferring
DISPATCH_GATHER = 0.02  # seconds a woken dispatcher waits for more wakes before its pass


@dataclass
class PassResult:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    submitted: int = 0  # handed to the pool (some may be skipped: another worker had them)

    def count(self, outcome: str) -> None:
        if outcome in ("sent", "failed", "deferred"):
            setattr(self, outcome, getattr(self, outcome) + 1)


def outbox_client(token: str, base_url: str) -> WebClient:
    """A client without automatic retries: the outbox decides what is safe to resend."""
    return WebClient(token=token, base_url=base_url, timeout=CLIENT_TIMEOUT,
                     retry_handlers=[])


class OutboxWorker:
    def __init__(self, *, engine: Engine, client: WebClient, workspace: Workspace,
                 clock: Clock, timer: Clock | None = None,
                 lease: timedelta = timedelta(seconds=60), backoff_factor: float = 1.0,
                 pace: Pace = SLACK_PACE, threads: int = 8) -> None:
        self._engine = engine
        self._client = client
        # ``clock`` is business time (which week, which window a message shows); ``timer`` is
        # real time for leases, Retry-After and backoff, even when business time is fixed.
        self._renderer = OutboxRenderer(client=client, workspace=workspace, clock=clock)
        self._clock = timer or SystemClock()
        self._lease = lease
        # A send must end before the lease does, or a second worker could take the item
        # while the first is still sending: keep the HTTP timeout well inside the lease.
        client.timeout = max(1, min(int(client.timeout), int(lease.total_seconds() // 3)))
        self._send_timeout = float(client.timeout)
        # Host and pid in the lease owner tell an operator (and the replica tests) which
        # process holds an item.
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        # 5xx and network errors: 2 s, 4 s, 8 s … (factor 1.0), capped at MAX_BACKOFF.
        self._backoff = BackoffRetryIntervalCalculator(backoff_factor=backoff_factor)
        self._pacer = ChannelPacer(engine, pace)
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None
        # Channels with an item being delivered by this process, and per channel the last
        # item finished and when (a count of finishes): a head read from the store before
        # that item was marked done is stale and is not handed out again.
        self._lock = threading.Condition()
        self._in_flight: dict[str, int] = {}
        self._finished: dict[str, tuple[int, int]] = {}
        self._finishes = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- running -------------------------------------------------------------------------

    def start(self, *, interval: float = 1.0) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, args=(interval,),
                                        name="outbox-dispatcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Take no more work; wait (up to ``timeout``) for the items being sent to finish.

        Nothing is lost either way: an item not yet sent stays pending, and one whose send
        never finished is in doubt under a lease that hands it to the next worker.
        """
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def wake(self) -> None:
        self._wake.set()

    def _loop(self, interval: float) -> None:
        while not self._stop.is_set():
            wait = interval
            try:
                paced, held = self._dispatch(PassResult())
                wait = min(w for w in (wait, paced, held) if w is not None)
            except Exception:
                log.exception("outbox pass failed; trying again shortly")
            if self._wake.wait(max(wait, 0.005)) and not self._stop.is_set():
                # Woken by a commit or a finished send: let the wakes of a burst (a grade a
                # few ms) gather into one pass, one read of the channels' heads for them all.
                time.sleep(DISPATCH_GATHER)
            self._wake.clear()

    def run_until_idle(self, *, timeout: float = 120.0) -> store.DueSummary:
        """Deliver until nothing is pending (failed items stay), waiting out Retry-After."""
        deadline = time.monotonic() + timeout
        while True:
            self.drain_once(deadline=deadline)
            with read_scope(self._engine) as session:
                due = store.due_summary(session)
            if due.pending == 0 or time.monotonic() > deadline:
                return due
            wait = 0.05
            if due.next_due is not None:
                wait = max(0.05, (due.next_due - self._clock.now()).total_seconds())
            time.sleep(min(wait, 1.0))

    def drain_once(self, *, limit: int | None = None,
                   deadline: float | None = None) -> PassResult:
        """Deliver what is due now, channels in parallel, waiting out the pacing; return
        when nothing more is due (deferred items wait for their time) or after ``limit``
        deliveries."""
        result = PassResult()
        while deadline is None or time.monotonic() < deadline:
            budget = None if limit is None else limit - result.submitted
            if budget is not None and budget <= 0:
                break
            before = result.submitted
            paced, held = self._dispatch(result, budget=budget, stopping_ok=True)
            with self._lock:
                if not self._in_flight and paced is None and result.submitted == before:
                    break  # nothing in flight here, nothing due now, nothing waiting on pace
                # Woken by a delivery ending, or when a channel's pace or hold (a 429's
                # Retry-After) lets it go on: a channel never idles behind the others.
                waits = [w for w in (paced, held) if w is not None]
                self._lock.wait(timeout=min(waits) if waits else 0.5)
        self._wait_for_in_flight(deadline)
        return result

    # --- dispatching -----------------------------------------------------------------------

    def _dispatch(self, result: PassResult, *, budget: int | None = None,
                  stopping_ok: bool = False) -> tuple[float | None, float | None]:
        """Hand every channel whose head is due (and whose pace allows) to the pool.

        Returns the seconds until the next paced channel may post, and until the first held
        channel's head is due (a retry time), each None when there is none. The background
        loop stops handing out work once ``stop`` was called; an explicit drain does not.
        """
        with self._lock:
            read_at = self._finishes
        now = self._clock.now()
        with read_scope(self._engine) as session:  # never waits for SQLite's writer
            pending = store.pending_heads(session)
        heads = store.due_heads(pending, now=now)
        held_at = store.held_until(pending, now=now)
        held = None if held_at is None else max(0.0, (held_at - now).total_seconds())
        paced: float | None = None
        with self._lock:
            for head in heads:
                if budget is not None and budget <= 0:
                    break
                channel, item_id = head.channel, head.id or 0
                if channel in self._in_flight or self._stale(channel, item_id, read_at):
                    continue
                if head.kind in POST_KINDS:
                    # Only a look here: the slot itself is taken just before the request
                    # goes out (taken now, it could reach Slack late and bunch up).
                    wait = self._pacer.ready_in(channel)
                    if wait > 0:
                        paced = wait if paced is None else min(paced, wait)
                        continue
                if self._stop.is_set() and not stopping_ok:
                    break
                pool = self._pool or self._new_pool()
                self._in_flight[channel] = item_id
                result.submitted += 1
                future = pool.submit(self._deliver, head)
                future.add_done_callback(partial(self._done, channel=channel, item_id=item_id,
                                                 result=result))
                if budget is not None:
                    budget -= 1
        return paced, held

    def _stale(self, channel: str, item_id: int, read_at: int) -> bool:
        finished_id, finished_at = self._finished.get(channel, (0, 0))
        return finished_at > read_at and finished_id >= item_id

    def _new_pool(self) -> ThreadPoolExecutor:
        self._pool = ThreadPoolExecutor(max_workers=self._threads,
                                        thread_name_prefix="outbox")
        return self._pool

    def _done(self, future: "Future[str]", channel: str, item_id: int,
              result: PassResult) -> None:
        outcome = "skipped"
        if not future.cancelled():
            error = future.exception()
            if error is not None:
                log.error("outbox item %s: delivery crashed", item_id, exc_info=error)
            else:
                outcome = future.result()
        with self._lock:
            self._in_flight.pop(channel, None)
            if outcome in ("sent", "failed"):
                self._finishes += 1
                self._finished[channel] = (item_id, self._finishes)
            result.count(outcome)
            self._lock.notify_all()
        if outcome in ("sent", "failed", "deferred"):
            metrics.POSTS.labels(outcome=outcome).inc()
        self._wake.set()

    def _wait_for_in_flight(self, deadline: float | None) -> None:
        with self._lock:
            while self._in_flight:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return
                self._lock.wait(timeout=min(left or 1.0, 1.0))

    # --- one item --------------------------------------------------------------------------

    def _deliver(self, item: OutboxItem) -> str:
        now = self._clock.now()
        assert item.id is not None
        with session_scope(self._engine) as session:
            if not store.claim(session, item=item, owner=self.owner, now=now,
                               lease=self._lease):
                return "skipped"
        leased_until = time.monotonic() + self._lease.total_seconds()
        was_in_doubt = item.in_doubt
        slot_taken = False
        try:
            with read_scope(self._engine) as session:
                write = self._renderer.render(session, item)
                unchanged = self._renderer.shows_already(session, item, write)
            if unchanged:  # nothing new to show: no chat.update (Slack rate-limits it)
                self._record_sent(item, None, None)
                return "sent"
            if was_in_doubt and write.is_post:
                found = self._renderer.find_posted(item, write)
                if found is not None:
                    log.info("outbox item %s was already posted (ts %s)", item.dedupe_key, found)
                    self._record_sent(item, found, write.args.get("channel"),
                                      shown=write.shown)
                    return "sent"
            if write.is_post:
                if not self._slot_for(item.channel):
                    self._retry(item, after=MAX_SLOT_WAIT,
                                error="waiting for the channel's pace", in_doubt=was_in_doubt)
                    return "deferred"
                slot_taken = True
            if leased_until - time.monotonic() < self._send_timeout + 1:
                # Reconciling took most of the lease: sending now could outlive it and race
                # the next worker. Hand it back; the doubt stays as it was.
                self._retry(item, after=0.0, error="lease too short to send",
                            in_doubt=was_in_doubt)
                return "deferred"
            response = self._client.api_call(write.method, json=write.args)
            posted_in = response.get("channel") or write.args.get("channel")
        except NotReady as waiting:
            if waiting.failed_error is not None:
                # The parent failed for good: so does the reply, with the reason, until
                # someone fixes the cause and retries both. Nothing is dropped.
                with session_scope(self._engine) as session:
                    store.mark_failed(
                        session, item_id=item.id,
                        error=f"{PARENT_FAILED}{waiting.failed_error}",
                        in_doubt=was_in_doubt)
                return "failed"
            self._retry(item, after=0.5, error="waiting for the parent message",
                        in_doubt=was_in_doubt)
            return "deferred"
        except SlackApiError as error:
            return self._handle_api_error(item, error, was_in_doubt=was_in_doubt,
                                          slot_taken=slot_taken)
        except Exception as error:  # network failure: the post may or may not have landed
            log.warning("outbox item %s: %s", item.dedupe_key, error)
            self._retry(item, after=self._backoff_for(item), error=repr(error), in_doubt=True)
            return "deferred"
        self._record_sent(item, response.get("ts"), posted_in, shown=write.shown)
        return "sent"

    def _handle_api_error(self, item: OutboxItem, error: SlackApiError, *,
                          was_in_doubt: bool, slot_taken: bool = False) -> str:
        status = error.response.status_code
        code = error.response.get("error") if isinstance(error.response.data, dict) else None
        if status == 429:
            metrics.RATE_LIMITED.inc()
            retry_after = _retry_after_seconds(error.response.headers)
            log.info("rate limited in %s: holding the channel %ss", item.channel, retry_after)
            # The head waits out Retry-After, and with it this channel alone (for every
            # replica); the refused post's slot is returned, so once the wait is over the
            # channel goes on at its pace instead of one post behind.
            self._retry(item, after=retry_after, error="ratelimited", in_doubt=was_in_doubt)
            if slot_taken:
                self._pacer.give_back(item.channel)
            return "deferred"
        if status >= 500 or code in TRANSIENT_ERRORS:
            self._retry(item, after=self._backoff_for(item), error=f"HTTP {status} {code or ''}",
                        in_doubt=True)
            return "deferred"
        log.error("outbox item %s failed for good: %s", item.dedupe_key, code)
        with session_scope(self._engine) as session:
            store.mark_failed(session, item_id=item.id or 0, error=str(code or status),
                              in_doubt=was_in_doubt)
        return "failed"

    # --- helpers ---------------------------------------------------------------------------

    def _slot_for(self, channel: str) -> bool:
        """Takes the channel's next post slot (shared with every replica), waiting for it up
        to MAX_SLOT_WAIT seconds; False if other replicas keep it busy longer than that."""
        deadline = time.monotonic() + MAX_SLOT_WAIT
        while True:
            wait = self._pacer.take(channel)
            if wait == 0.0:
                return True
            if time.monotonic() + wait > deadline:
                return False
            time.sleep(wait)

    def _record_sent(self, item: OutboxItem, ts: str | None, channel: str | None, *,
                     shown: str | None = None) -> None:
        now = self._clock.now()
        with session_scope(self._engine) as session:
            store.mark_sent(session, item_id=item.id or 0, ts=ts, now=now)
            if shown is not None and item.kind in (store.OutboxKind.ESCALATION_NOTICE,
                                                   store.OutboxKind.ESCALATION_UPDATE):
                notice = session.get(EscalationNotice, item.ref_id)
                if notice is not None:
                    notice.shown = shown
                    session.add(notice)
            if ts is None:
                return
            if item.kind == store.OutboxKind.AUDIT_PARENT:
                thread = session.get(AuditThread, item.ref_id)
                if thread is not None:
                    thread.parent_ts = ts
                    session.add(thread)
            elif item.kind == store.OutboxKind.SAMPLE_POST:
                sample = session.get(Sample, item.ref_id)
                if sample is not None:
                    sample.message_ts = ts
                    session.add(sample)
            elif item.kind == store.OutboxKind.DISAGREEMENT_POST:
                disagreement = session.get(Disagreement, item.ref_id)
                if disagreement is not None:
                    disagreement.message_ts = ts
                    session.add(disagreement)
            elif item.kind == store.OutboxKind.ESCALATION_NOTICE:
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

