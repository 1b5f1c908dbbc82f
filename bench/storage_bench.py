"""Actions/s on SQLite and PostgreSQL with 1 and 4 writer processes, and the outbox's
delivery rate, measured side by side in one run; then the delivery rate through the
e-mail notifier (to an aiosmtpd server on localhost, if installed) and the webhook notifier
(to an http.server on localhost) beside the in-process sink.

Run: AFTERSALES_TEST_POSTGRES=postgresql://user@host/db python bench/storage_bench.py [cases]
(without the variable, PostgreSQL is left out and says so).
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from desk_bench import DEFAULT, ENGINEERS, T0, lifecycle

from aftersales import Notification, ServiceDesk, hookimpl
from aftersales.plugins.email_notifier import EmailNotifier, EmailSettings
from aftersales.plugins.webhook_notifier import WebhookNotifier, WebhookSettings


class Sink:
    name = "bench-sink"

    @hookimpl
    def aftersales_notify(self, notification: Notification) -> None:
        pass


def fresh(url: str) -> str:
    if url.startswith("postgresql"):
        return f"{url}{'&' if '?' in url else '?'}schema=b_{uuid.uuid4().hex[:10]}"
    return f"sqlite:///{tempfile.mkdtemp()}/bench.db"


def seed_team(url: str) -> None:
    desk = ServiceDesk(DEFAULT, url, entry_points=False)
    desk.staff.add(id="cs1", name="Lin", roles=["service_agent"], at=T0)
    desk.staff.add(id="m1", name="Zhao", roles=["manager"], at=T0)
    for e in ENGINEERS:
        desk.staff.add(id=e, name=e, roles=["engineer"], at=T0)
    desk.close()


def writer(url: str, worker: int, cases: int, ready: Any) -> tuple[int, float, float]:
    """One writer's actions and when it started and ended (wall clock, comparable across
    processes): timed from the moment every writer is warm (imported, desk open), so the
    rate is the store's, not interpreter start-up's."""
    desk = ServiceDesk(DEFAULT, url, entry_points=False)
    ready.wait()
    started = time.time()
    actions = sum(lifecycle(desk, worker * 100_000 + i, T0 + timedelta(hours=i))
                  for i in range(cases))  # fmt: skip
    ended = time.time()
    desk.close()
    return actions, started, ended


def actions_per_second(base: str, writers: int, cases: int) -> float:
    url = fresh(base)
    seed_team(url)
    spawn = multiprocessing.get_context("spawn")
    with spawn.Manager() as manager, ProcessPoolExecutor(writers, mp_context=spawn) as pool:
        ready = manager.Barrier(writers)
        done = list(pool.map(writer, [url] * writers, range(writers), [cases] * writers,
                             [ready] * writers))  # fmt: skip
    total = sum(n for n, _, _ in done)
    return total / (max(e for _, _, e in done) - min(s for _, s, _ in done))


def delivery_rate(base: str, n: int, notifier: object | None = None) -> float:
    url = fresh(base)
    desk = ServiceDesk(DEFAULT, url, plugins=[notifier or Sink()], entry_points=False)
    desk.plugins.unregister(name="aftersales.plugins.log_notifier")
    desk.staff.add(id="e0", name="E0", roles=["engineer"], email="e0@pumps.example",
                   team="north", at=T0)  # fmt: skip
    notes = [Notification("bench", None, ("e0",), f"n{i}", {}, T0) for i in range(n)]
    items = desk.notifications.stage(notes, T0 - timedelta(hours=1))  # due at once
    with desk.storage.transaction() as tx:
        tx.enqueue(items)
    started = time.perf_counter()
    tried = desk.notifications.deliver_due(T0)
    elapsed = time.perf_counter() - started
    assert len(tried) == len(items) and all(i.status == "delivered" for i in tried)
    return len(tried) / elapsed


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Mailbox:
    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        return "250 OK"


def notifier_rates(n: int) -> None:
    """Notifications/s through each built-in network notifier, beside the in-process sink."""
    rates = {"in-process sink": delivery_rate("sqlite://", n)}
    http = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{http.server_address[1]}/hook"
    hook = WebhookNotifier(WebhookSettings(teams={"north": url}), secret="bench")
    rates["webhook (http.server)"] = delivery_rate("sqlite://", n, hook)
    http.shutdown()
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        print("e-mail: install aiosmtpd (the test extra) to include it")
    else:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        smtp = Controller(_Mailbox(), hostname="127.0.0.1", port=port)
        smtp.start()
        mail = EmailNotifier(EmailSettings(host="127.0.0.1", port=port, security="none"))
        rates["e-mail (aiosmtpd)"] = delivery_rate("sqlite://", n, mail)
        smtp.stop()
    sink = rates["in-process sink"]
    for name, rate in rates.items():
        print(f"{name:<24}{rate:>10,.0f} n/s  {sink / rate:>6.1f}x the sink's time")


def main() -> None:
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    backends = {"SQLite": "sqlite://"}
    pg = os.environ.get("AFTERSALES_TEST_POSTGRES")
    if pg:
        backends["PostgreSQL"] = pg
    else:
        print("PostgreSQL: set AFTERSALES_TEST_POSTGRES to include it")
    print(f"{'backend':<12}{'1 writer':>14}{'4 writers':>14}{'outbox':>16}")
    rows = {}
    for name, url in backends.items():
        one = actions_per_second(url, 1, cases)
        four = actions_per_second(url, 4, cases)
        rate = delivery_rate(url, 5000)
        rows[name] = (one, four, rate)
        print(f"{name:<12}{one:>10,.0f} a/s{four:>10,.0f} a/s{rate:>10,.0f} n/s")
    if len(rows) == 2:
        s, p = rows["SQLite"], rows["PostgreSQL"]
        print(f"PostgreSQL / SQLite: 1 writer {p[0] / s[0]:.2f}x, 4 writers {p[1] / s[1]:.2f}x, "
              f"outbox {p[2] / s[2]:.2f}x")  # fmt: skip
    notifier_rates(1000)


if __name__ == "__main__":
    main()
