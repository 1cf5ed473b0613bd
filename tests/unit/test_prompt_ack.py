"""The listener pool hands the request's thread its answer when the listener acks
(``bot.fronts.prompt_ack``), not at Bolt's next 10 ms look."""

import threading

from slack_bolt import BoltContext

from bot.fronts.prompt_ack import AckingExecutor, prompt_ack

WAIT = 10.0  # generous: these tests wait on events, they do not time anything


def test_submit_returns_once_the_listener_has_acked_while_it_goes_on() -> None:
    release = threading.Event()
    steps: list[str] = []
    context = BoltContext()
    with AckingExecutor(max_workers=1) as pool:

        def listener() -> None:
            steps.append("stored")
            context.ack()
            release.wait(WAIT)  # the work after the ack
            steps.append("followed up")

        with prompt_ack(context) as ack:
            future = pool.submit(listener)
            assert ack.response is not None and ack.response.status == 200
            assert steps == ["stored"] and not future.done()
        release.set()
        future.result(WAIT)
    assert steps == ["stored", "followed up"]


def test_a_listener_that_ends_without_acking_releases_the_request() -> None:
    context = BoltContext()
    with AckingExecutor(max_workers=1) as pool, prompt_ack(context) as ack:
        future = pool.submit(lambda: None)
        assert future.done() and ack.response is None


def test_a_listener_that_never_acks_is_waited_for_only_until_the_ack_timeout() -> None:
    release = threading.Event()
    context = BoltContext()
    with AckingExecutor(max_workers=1, ack_timeout=0.05) as pool:
        with prompt_ack(context) as ack:
            future = pool.submit(lambda: release.wait(WAIT))
            assert not future.done() and ack.response is None
        release.set()


def test_only_the_requests_first_submission_waits() -> None:
    """Lazy listeners and later submissions (another request's, Socket Mode's) return at
    once, whatever they do."""
    release = threading.Event()
    context = BoltContext()
    with AckingExecutor(max_workers=3) as pool:
        with prompt_ack(context):
            first = pool.submit(context.ack)
            second = pool.submit(lambda: release.wait(WAIT))
            assert first.result(WAIT) is not None and not second.done()
        outside = pool.submit(lambda: release.wait(WAIT))
        assert not outside.done()
        release.set()
