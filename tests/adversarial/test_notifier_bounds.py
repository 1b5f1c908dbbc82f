"""An action returns once its transaction commits, within OutboxSettings.deliver_within of
the slowest notification, whatever a notifier does (issue 13: a trickling server or a
sleeping plugin held assign for a minute)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from conftest import REPORT, RULES, T0, add_team

from aftersales import OutboxSettings, ServiceDesk, hookimpl
from aftersales.testing import Outbox

FAST = OutboxSettings(deliver_within=timedelta(seconds=0.5))


class Sleeper:
    name = "sleeper"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0

    @hookimpl
    def aftersales_notify(self, notification: object) -> None:
        self.calls += 1
        self.release.wait(60)


def test_a_sleeping_notifier_does_not_hold_the_action() -> None:
    sleeper, outbox = Sleeper(), Outbox()
    desk = ServiceDesk(RULES / "default.policy", "memory://", plugins=[sleeper, outbox],
                       outbox=FAST)  # fmt: skip
    add_team(desk)
    started = time.perf_counter()
    case = desk.cases.report(**REPORT, by="cs1", at=T0)
    desk.cases.respond(case.id, by="cs1", at=T0)
    desk.cases.assign(case.id, engineer="e7", by="cs1", at=T0)
    elapsed = time.perf_counter() - started
    sleeper.release.set()
    assert elapsed < 10, elapsed  # three actions; 180 s before
    assert desk.cases.get(case.id).status == "assigned"
    assert desk.notifications.pending()  # what the sleeper held stays queued for the tick
    later = desk.notifications.deliver_due(T0 + timedelta(minutes=10))
    assert later and all(i.status == "delivered" for i in later)


@pytest.fixture
def trickler() -> Iterator[int]:
    """An HTTP server that answers one byte a second, for ever."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            threading.Thread(target=drip, args=(conn,), daemon=True).start()

    def drip(conn: socket.socket) -> None:
        with conn:
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 600:
                if stop.is_set():
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    server.close()


def test_a_trickling_webhook_does_not_hold_the_action(
    trickler: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", "k")
    desk = ServiceDesk(
        RULES / "default.policy",
        "memory://",
        outbox=FAST,
        notify={"webhook": {"url": f"http://127.0.0.1:{trickler}/hook", "timeout": 5,
                            "secret_env": "HOOK_SECRET"}},
    )  # fmt: skip
    add_team(desk)
    started = time.perf_counter()
    case = desk.cases.report(**REPORT, by="cs1", at=T0)
    desk.cases.respond(case.id, by="cs1", at=T0)
    assert time.perf_counter() - started < 10  # each byte within the socket timeout: a minute+
    assert desk.cases.get(case.id).status == "responded"


def test_a_forked_desk_still_delivers(tmp_path: object) -> None:
    """The courier thread does not survive a fork; the child's deliveries get their own."""
    import os

    if not hasattr(os, "fork"):
        pytest.fail("this test needs os.fork (Linux)")
    sleeper = Sleeper()
    sleeper.release.set()  # delivers at once
    desk = ServiceDesk(RULES / "default.policy", "memory://", plugins=[sleeper], outbox=FAST)
    add_team(desk)
    desk.notifications.test("e7", T0)  # the parent's courier starts
    assert sleeper.calls == 1
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one more delivery, then report how long it took
        started = time.perf_counter()
        items = desk.notifications.test("e7", T0)
        delivered = all(i.status == "delivered" for i in items)
        os.write(write, f"{time.perf_counter() - started:.3f} {sleeper.calls}".encode())
        os._exit(0 if delivered else 1)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    elapsed, calls = os.read(read, 100).decode().split()
    assert status == 0
    assert float(elapsed) < FAST.deliver_within.total_seconds()  # no wait for a dead thread
    assert int(calls) == 2  # the child's notifier was called, in the child


def test_a_delivery_that_breaks_reaches_the_caller_and_the_courier_carries_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An error in the delivery code itself (not in a notifier, whose errors are recorded)
    is raised in the caller, as before the courier, and later deliveries still run."""
    from aftersales.services.notifications import NotificationService

    sleeper = Sleeper()
    sleeper.release.set()
    desk = ServiceDesk(RULES / "default.policy", "memory://", plugins=[sleeper], outbox=FAST)
    add_team(desk)
    original = NotificationService._deliver_one

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in delivery")

    monkeypatch.setattr(NotificationService, "_deliver_one", broken)
    with pytest.raises(Exception, match="a bug in delivery"):
        desk.notifications.test("e7", T0)
    monkeypatch.setattr(NotificationService, "_deliver_one", original)
    started = time.perf_counter()
    items = desk.notifications.test("e7", T0)
    assert time.perf_counter() - started < FAST.deliver_within.total_seconds()
    assert [i.status for i in items if i.plugin == "sleeper"] == ["delivered"]
