"""The App Home's change feed and marks: every change committed is read once, whatever the
order of commits, and a Home marked while it is being published is published again."""

from datetime import timedelta

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from bot.services.home_feed import (
    dirty_viewers,
    mark_homes_dirty,
    mark_published,
    record_viewer,
    take_feed,
)
from bot.services.outbox import OutboxKind, enqueue, enqueue_update
from bot.store.db import current_revisions, downgrade, head_revisions, session_scope, upgrade
from bot.workspace import Workspace
from tests.conftest import NOW
from tests.support.consistency_setup import audited
from tests.support.factories import CLINICAL_CHANNEL, LEGAL_CHANNEL, MANAGER, TRAINER1, TRAINER2


def _owe_sample_update(session: Session, sample_id: int, channel: str) -> None:
    enqueue(session, kind=OutboxKind.SAMPLE_UPDATE, ref_id=sample_id, channel=channel,
            dedupe_key=f"{OutboxKind.SAMPLE_UPDATE}:{sample_id}:test", now=NOW)


def _owe_update(engine: Engine, sample_id: int) -> bool:
    with session_scope(engine) as session:
        return enqueue_update(session, kind=OutboxKind.SAMPLE_UPDATE, ref_id=sample_id,
                              channel=CLINICAL_CHANNEL, now=NOW)


def _read(engine: Engine, workspace: Workspace) -> set[str]:
    with session_scope(engine) as session:
        return take_feed(session, workspace)


def test_a_change_committed_after_a_newer_one_was_read_is_still_read(
        engine: Engine, workspace: Workspace):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite writers take the database lock at BEGIN: ids commit in order")
    with Session(engine, expire_on_commit=False) as session:
        clinical = audited(session, workspace)
        legal = audited(session, workspace, trainer=TRAINER2, task_type="legal")
    _read(engine, workspace)  # the audit's own posts
    with Session(engine) as slow:
        _owe_sample_update(slow, clinical[0].id or 0, CLINICAL_CHANNEL)  # has its id, open
        with session_scope(engine) as fast:
            _owe_sample_update(fast, legal[0].id or 0, LEGAL_CHANNEL)  # a newer id, committed
        first = _read(engine, workspace)
        slow.commit()
    second = _read(engine, workspace)
    assert TRAINER2 in first and TRAINER1 not in first
    assert TRAINER1 in second and TRAINER2 not in second
    assert _read(engine, workspace) == set()


def test_a_change_folded_into_an_update_already_read_is_read_again(
        engine: Engine, workspace: Workspace):
    """A second grade shares the first one's waiting update (a busy channel), after the
    refresher read that update: the Homes must still learn of the second grade."""
    with Session(engine, expire_on_commit=False) as session:
        clinical = audited(session, workspace)
    _read(engine, workspace)
    assert _owe_update(engine, clinical[0].id or 0) is True  # the first grade's
    assert TRAINER1 in _read(engine, workspace)
    assert _owe_update(engine, clinical[0].id or 0) is False  # the second folds in
    assert TRAINER1 in _read(engine, workspace)
    assert _read(engine, workspace) == set()


def test_two_readers_at_once_split_the_changes(engine: Engine, workspace: Workspace):
    with Session(engine, expire_on_commit=False) as session:
        audited(session, workspace)
    with session_scope(engine) as first_reader:
        first = take_feed(first_reader, workspace)
        if engine.dialect.name == "postgresql":  # SQLite's second reader would wait
            with session_scope(engine) as second_reader:
                assert take_feed(second_reader, workspace) == set()  # rows locked: skipped
    assert TRAINER1 in first
    assert _read(engine, workspace) == set()


def test_the_upgrade_keeps_the_old_read_position(engine: Engine, workspace: Workspace):
    """Migration 0009: rows up to the old position stay read, the rest are read next."""
    with Session(engine, expire_on_commit=False) as session:
        audited(session, workspace)
        legal = audited(session, workspace, trainer=TRAINER2, task_type="legal")
    downgrade(engine, "0008")
    with engine.begin() as connection:
        read_up_to = connection.execute(text(
            "SELECT MIN(id) - 1 FROM outbox WHERE ref_id = :thread AND kind = 'audit_parent'"),
            {"thread": legal[0].thread_id}).scalar_one()
        connection.execute(text("UPDATE home_feed SET last_outbox_id = :id"), {"id": read_up_to})
    upgrade(engine)
    assert current_revisions(engine) == head_revisions()
    unread = _read(engine, workspace)
    assert TRAINER2 in unread and TRAINER1 not in unread


def test_a_home_marked_again_while_it_was_published_stays_marked(engine: Engine):
    with session_scope(engine) as session:
        record_viewer(session, user=MANAGER, now=NOW)
        mark_homes_dirty(session, users={MANAGER}, now=NOW)
    with Session(engine) as session:
        [seen] = dirty_viewers(session)  # the refresher takes the Home and builds it...
    with session_scope(engine) as session:  # ...while /audit away changes what it shows
        mark_homes_dirty(session, users={MANAGER}, now=NOW + timedelta(seconds=1))
    with session_scope(engine) as session:
        mark_published(session, user=MANAGER, seen=seen, now=NOW + timedelta(seconds=2))
    with Session(engine) as session:
        [again] = dirty_viewers(session)
    assert (again.user, again.since) == (MANAGER, NOW)  # still due, and first in line
    with session_scope(engine) as session:
        mark_published(session, user=MANAGER, seen=again, now=NOW + timedelta(seconds=3))
    with Session(engine) as session:
        assert dirty_viewers(session) == []
