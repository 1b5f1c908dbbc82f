"""The HTTP API under load (issue 21): `aftersales serve` on a loopback port, 50 clients each
working cases through the workflow at a fixed pace (together the target rate), on SQLite and,
when a PostgreSQL URL is given, on PostgreSQL with two workers. Prints throughput and p50/p99
latency, then folds every case's events to check that no action was lost or done twice.

Run: python bench/http_load_bench.py [seconds] [clients] [requests/s] [postgresql://...]
     (defaults: 20, 50, 200; PostgreSQL from $AFTERSALES_TEST_POSTGRES if set)
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from aftersales import ServiceDesk
from aftersales.core.workflow import fold

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "rules" / "default.policy"
REPORT = {"customer": {"name": "Hengli Mining"}, "product": {"model": "EX-350"},
          "fault": "leak", "severity": "minor", "channel": "phone"}  # fmt: skip
STEPS = (("respond", {}), ("assign", {"engineer": "e7"}))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Client(threading.Thread):
    """Reports a case and moves it along, a request every ``1/rate`` seconds, until
    ``until``; keeps each request's latency and what it did."""

    def __init__(self, port: int, token: str, rate: float, until: float) -> None:
        super().__init__(daemon=True)
        self.port, self.token, self.gap, self.until = port, token, 1 / rate, until
        self.latencies: list[float] = []
        self.done: dict[str, list[str]] = {}  # case id -> the actions answered 200
        self.errors: list[str] = []

    def request(self, conn: http.client.HTTPConnection, method: str, path: str,
                body: dict[str, Any] | None, **headers: str) -> tuple[int, Any, str]:  # fmt: skip
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
                   **headers}  # fmt: skip
        began = time.perf_counter()
        conn.request(method, path, payload, headers)
        answer = conn.getresponse()
        data = answer.read()
        self.latencies.append(time.perf_counter() - began)
        return answer.status, json.loads(data) if data else None, answer.getheader("ETag") or ""

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        following = time.perf_counter()
        case: dict[str, Any] | None = None
        etag = ""
        step = 0
        while time.perf_counter() < self.until:
            following += self.gap
            try:
                if case is None or step == len(STEPS):
                    key = uuid.uuid4().hex
                    status, case, etag = self.request(conn, "POST", "/cases", REPORT,
                                                      **{"Idempotency-Key": key})  # fmt: skip
                    if status != 201:
                        detail = (case or {}).get("detail", "")[:120]
                        self.errors.append(f"report {status}: {detail}")
                        case = None
                    else:
                        self.done[case["id"]] = ["report"]
                    step = 0
                else:
                    name, body = STEPS[step]
                    status, _, tag = self.request(
                        conn, "POST", f"/cases/{case['number']}/{name}", body,
                        **{"If-Match": etag})  # fmt: skip
                    if status == 200:
                        self.done[case["id"]].append(name)
                        etag = tag
                        step += 1
                    else:
                        self.errors.append(f"{name} {status}")
            except (OSError, http.client.HTTPException) as exc:
                self.errors.append(type(exc).__name__)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            pause = following - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        conn.close()


def run(store: str, label: str, seconds: float, clients: int, rate: float, workers: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        config = Path(folder) / "aftersales.toml"
        config.write_text(f'policy = "{POLICY}"\nstorage = "{store}"\n[serve]\nport = {port}\n'
                          f"workers = {workers}\n", "utf-8")  # fmt: skip
        with ServiceDesk(POLICY, store) as desk:
            desk.staff.add(id="m1", name="Zhao", roles=["manager"])
            desk.staff.add(id="cs1", name="Lin", roles=["service_agent"])
            desk.staff.add(id="e7", name="Chen", roles=["engineer"])
            token = desk.tokens.issue("cs1", by="m1").token
        env = {**os.environ, "AFTERSALES_CONFIG": str(config)}
        server = subprocess.Popen([str(Path(sys.executable).parent / "aftersales"), "serve"],
                                  env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            for _ in range(200):
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                    conn.request("GET", "/health")
                    if conn.getresponse().status == 200:
                        break
                except OSError:
                    time.sleep(0.05)
            began = time.perf_counter()
            until = began + seconds
            team = [Client(port, token, rate / clients, until) for _ in range(clients)]
            for client in team:
                client.start()
            for client in team:
                client.join()
            took = time.perf_counter() - began
        finally:
            server.terminate()
            server.wait(timeout=30)
        latencies = sorted(x for c in team for x in c.latencies)
        errors = [e for c in team for e in c.errors]
        done = {k: v for c in team for k, v in c.done.items()}
        with ServiceDesk(POLICY, store) as desk:
            lost = doubled = 0
            for case_id, actions in done.items():
                events = desk.cases.history(case_id)
                kinds = [e.type for e in events]
                expected = ["reported", *("responded" if a == "respond" else "assigned"
                                          for a in actions[1:])]  # fmt: skip
                fold(events)
                lost += max(0, len(expected) - len(kinds))
                doubled += max(0, len(kinds) - len(expected))
            stored = len(desk.cases.find(limit=1_000_000))
        p50 = statistics.median(latencies) * 1000 if latencies else float("nan")
        p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan")
        count = len(latencies)
        print(f"{label}: {count:,} requests in {took:.1f} s = {count / took:.0f}/s "
              f"({clients} clients at {rate:g}/s together); p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
              f"{len(errors)} errors; {len(done)} cases answered, {stored} stored, "
              f"{lost} actions lost, {doubled} doubled")  # fmt: skip
        if errors:
            print(f"  errors: {sorted(set(errors))[:8]}")


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    rate = float(sys.argv[3]) if len(sys.argv) > 3 else 200.0
    postgres = sys.argv[4] if len(sys.argv) > 4 else os.environ.get("AFTERSALES_TEST_POSTGRES")
    with tempfile.TemporaryDirectory() as folder:
        run(f"sqlite:///{Path(folder) / 'load.db'}", "SQLite, 1 worker", seconds, clients,
            rate, 1)  # fmt: skip
    if postgres:
        schema = f"load_{uuid.uuid4().hex[:8]}"
        url = f"{postgres}{'&' if '?' in postgres else '?'}schema={schema}"
        run(url, "PostgreSQL, 2 workers", seconds, clients, rate, 2)
    else:
        print("PostgreSQL: not run (give a postgresql:// URL or set AFTERSALES_TEST_POSTGRES)")


if __name__ == "__main__":
    main()
