"""Notifications that reach people: a team webhook, signed, and a receiver that checks the
signature; a receiver that is down gets the notification later from the outbox.

Run: python examples/notifications.py
"""

import hmac
import json
import os
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

from aftersales import ServiceDesk
from aftersales.plugins.webhook_notifier import SIGNATURE_HEADER, signature

SECRET = "shared-with-the-north-crew-chat"  # in production: set in the service's environment
os.environ["AFTERSALES_WEBHOOK_SECRET"] = SECRET
received: list[dict[str, object]] = []
down = True  # the receiver answers 503 until we say so


class Receiver(BaseHTTPRequestHandler):
    """What the far end does: check the signature over the exact body, drop repeats."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        good = signature(SECRET.encode(), body)
        if not hmac.compare_digest(self.headers[SIGNATURE_HEADER], good):
            self.send_response(401)
        elif down:
            self.send_response(503)
        else:
            document = json.loads(body)
            if all(r["delivery"] != document["delivery"] for r in received):
                received.append(document)
            self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{server.server_address[1]}/north-crew"

RULES = Path(__file__).resolve().parent.parent / "rules"
desk = ServiceDesk(RULES / "default.policy", notify={"webhook": {"teams": {"north": url}}})
desk.staff.add(id="cs1", name="Li", roles=["service_agent"])
desk.staff.add(id="e7", name="Chen", roles=["engineer"], team="north",
               email="chen@pumps.example")  # fmt: skip
t0 = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

case = desk.cases.report(customer={"name": "Hengli Mining"}, product={"model": "EX-350"},
                         fault="boom drifts down", severity="major", channel="phone",
                         by="cs1", at=t0)  # fmt: skip
desk.cases.respond(case.id, by="cs1", at=t0 + timedelta(minutes=5))
desk.cases.assign(case.id, engineer="e7", by="cs1", at=t0 + timedelta(minutes=10))

# The receiver was down: the assignment is made, its notification waits in the outbox.
[waiting] = [i for i in desk.notifications.pending() if i.plugin == "webhook"]
print(f"waiting: {waiting.notification['kind']}, try {waiting.attempts}: {waiting.last_error}")

down = False  # back up; the next tick (cron runs `aftersales sla tick`) delivers it
desk.sla.tick(now=t0 + timedelta(minutes=11))
[document] = received
notification = document["notification"]
assert isinstance(notification, dict)
print(f"received: {notification['subject']} (for {document['staff']})")
server.shutdown()
