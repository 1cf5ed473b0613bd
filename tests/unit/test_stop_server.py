"""Stopping the HTTP front: run() returns at once, and a second stop is harmless."""

import threading

from flask import Flask

from bot.fronts.web import make_server, stop_server


def test_stop_makes_run_return_and_a_second_stop_does_not_raise():
    server = make_server(Flask("stop-test"), host="127.0.0.1", port=0)
    loop = threading.Thread(target=server.run, daemon=True)
    loop.start()
    stop_server(server)
    loop.join(5)
    assert not loop.is_alive()
    stop_server(server)  # its wake-up pipe is closed now: nothing to do, no OSError
