"""Message updates through the outbox: folded while one waits, never lost to a worker
that renders before the change commits."""

import threading
import time
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.common.clock import FixedClock
from bot.services.outbox import PENDING, OutboxKind, claim, enqueue_update
from bot.store.db import session_scope
from bot.store.models import OutboxItem

KIND, REF, TARGET = OutboxKind.ESCALATION_UPDATE, 7, "U0LEAD0001"
LEASE = timedelta(minutes=2)


def _owe_update(engine: Engine, clock: FixedClock) -> bool:
    with session_scope(engine) as session:
        return enqueue_update(session, kind=KIND, ref_id=REF, channel=TARGET, now=clock.now())


def _pending(engine: Engine) -> list[OutboxItem]:
    with Session(engine, expire_on_commit=False) as session:
        return list(session.exec(
            select(OutboxItem).where(OutboxItem.status == PENDING).order_by(OutboxItem.id)))


def _claim(engine: Engine, item: OutboxItem, clock: FixedClock, owner: str = "worker") -> bool:
    with session_scope(engine) as session:
        return claim(session, item=item, owner=owner, now=clock.now(), lease=LEASE)


def test_changes_while_an_update_waits_share_it(engine: Engine, clock: FixedClock):
    assert _owe_update(engine, clock) is True
    assert _owe_update(engine, clock) is False
    assert len(_pending(engine)) == 1


def test_a_change_after_the_update_was_claimed_gets_its_own(engine: Engine, clock: FixedClock):
    _owe_update(engine, clock)
    [first] = _pending(engine)
    assert _claim(engine, first, clock)
    assert _owe_update(engine, clock) is True
    assert [i.dedupe_key for i in _pending(engine)] == [
        f"{KIND}:{REF}:1", f"{KIND}:{REF}:2"]


def test_a_worker_cannot_claim_the_update_a_change_in_progress_folded_into(
        engine: Engine, clock: FixedClock):
    """The race CI once hit: the escalation climbed while its waiting update was being
    claimed, so the update showed the old level and the climb owed none of its own."""
    _owe_update(engine, clock)
    [waiting] = _pending(engine)
    claimed_at: list[str] = []
    committed = threading.Event()

    def worker() -> None:
        # Claims until it wins (PostgreSQL skips a held row; SQLite waits for the lock);
        # notes whether the change had committed by then.
        deadline = time.monotonic() + 30
        while not _claim(engine, waiting, clock) and time.monotonic() < deadline:
            time.sleep(0.05)
        claimed_at.append("after commit" if committed.is_set() else "before commit")

    with session_scope(engine) as change:
        assert enqueue_update(change, kind=KIND, ref_id=REF, channel=TARGET,
                              now=clock.now()) is False  # folded into the waiting one
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join(0.5)  # long enough for an unheld row to be claimed
        committed.set()  # just before the commit: a claim cannot win in between
    thread.join(35)
    assert claimed_at == ["after commit"]
    assert len(_pending(engine)) == 1  # the one update, now claimed after the change
