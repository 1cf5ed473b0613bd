"""One-off messages through the outbox: owed once per key, delivered as a DM."""

from sqlmodel import Session, select

from bot.db import session_scope
from bot.models import OutboxItem
from bot.services.outbox import enqueue_message
from tests.factories import NURSE
from tests.harness import RunningBot


def test_a_message_owed_twice_under_one_key_is_sent_once(bot: RunningBot):
    now = bot.ctx.clock.now()
    for _ in range(2):
        with session_scope(bot.ctx.engine) as session:
            enqueue_message(session, to=NURSE, text="3 samples wait for you",
                            dedupe_key="nudge:U0NURSE01:2026-11-23", now=now)
    bot.deliver()
    assert [m.text for m in bot.sandbox.dms(NURSE)] == ["3 samples wait for you"]
    with Session(bot.ctx.engine) as session:
        assert [o.status for o in session.exec(select(OutboxItem)).all()] == ["sent"]
