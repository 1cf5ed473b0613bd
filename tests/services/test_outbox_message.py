"""One-off messages through the outbox: owed once per key, delivered as a DM."""

from sqlmodel import Session, select

from bot.services.outbox import enqueue_message, failed_deliveries
from bot.slack.errors import fix_for
from bot.store.db import session_scope
from bot.store.models import OutboxItem
from tests.support.factories import NURSE
from tests.support.harness import RunningBot


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


def test_a_message_to_a_bot_is_kept_failed_with_what_to_fix(bot: RunningBot):
    bot.sandbox.add_user("U0OTHERBOT", "otherbot", is_bot=True)  # e.g. listed as a manager
    with session_scope(bot.ctx.engine) as session:
        enqueue_message(session, to="U0OTHERBOT", text="Weekly digest",
                        dedupe_key="digest:U0OTHERBOT:2026-W48", now=bot.ctx.clock.now())
    bot.deliver()
    with Session(bot.ctx.engine) as session:
        [failure] = failed_deliveries(session)
    assert failure.error == "cannot_dm_bot" and "auditbot.toml" in fix_for(failure.error)
