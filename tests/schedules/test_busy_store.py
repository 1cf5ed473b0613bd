"""A busy store is a wait, not a failure: jobs retry it, and it is told apart from a store
that cannot be used (issue 10)."""

import logging
import threading

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from bot.store.db import is_busy
from schedules.escalation_check import run_escalation_check
from schedules.retry import when_busy
from tests.support.busy_store import impatient, store_locked
from tests.support.harness import RunningBot


def _hold_lock(engine: Engine, released: threading.Event, held: threading.Event) -> None:
    with store_locked(engine, table="trainer_state"):
        held.set()
        released.wait(30)


def test_a_store_held_by_another_writer_is_busy_not_broken(engine: Engine):
    quick = impatient(engine)
    released, held = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(engine, released, held))
    holder.start()
    try:
        held.wait(10)
        with pytest.raises(OperationalError) as caught, quick.begin() as connection:
            connection.execute(text("SELECT count(*) FROM trainer_state FOR UPDATE")
                               if quick.url.get_backend_name() != "sqlite"
                               else text("DELETE FROM trainer_state WHERE 1 = 0"))
    finally:
        released.set()
        holder.join()
        quick.dispose()
    assert is_busy(caught.value)
    assert not is_busy(OperationalError("connect", {}, Exception("connection refused")))


def test_a_job_that_finds_the_store_busy_retries_and_runs(bot: RunningBot, caplog):
    bot.ctx.engine = impatient(bot.ctx.engine)
    released, held = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(bot.ctx.engine, released, held))
    holder.start()
    held.wait(10)
    timer = threading.Timer(0.8, released.set)  # the other writer commits a moment later
    timer.start()
    caplog.set_level(logging.WARNING, logger="schedules.retry")
    try:
        summary = when_busy(lambda: run_escalation_check(bot.ctx, now=bot.ctx.clock.now()),
                            first_wait=0.5)
    finally:
        released.set()
        holder.join()
        timer.cancel()
    assert summary.outcomes  # every trainer was checked
    assert "the database is busy" in caplog.text


def test_a_job_gives_up_on_a_store_that_stays_busy_and_says_it_is_busy(bot: RunningBot):
    bot.ctx.engine = impatient(bot.ctx.engine)
    released, held = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(bot.ctx.engine, released, held))
    holder.start()
    held.wait(10)
    try:
        with pytest.raises(OperationalError) as caught:
            when_busy(lambda: run_escalation_check(bot.ctx, now=bot.ctx.clock.now()),
                      attempts=2, first_wait=0.1)
    finally:
        released.set()
        holder.join()
    assert is_busy(caught.value)
