"""The e-mail and webhook notifiers against real servers on localhost: an aiosmtpd SMTP
server (plain, and STARTTLS with login under a throwaway CA) and an http.server that records
what it is sent. Recipients come from the staff records; failures go back to the outbox."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from conftest import REPORT, RULES, add_team, at, run_to
from test_cli_cases import ok, run

from aftersales import OutboxSettings, ServiceDesk, ValidationError
from aftersales.cli.config import load_config
from aftersales.plugins.email_notifier import EmailNotifier, EmailSettings
from aftersales.plugins.webhook_notifier import WebhookNotifier, WebhookSettings, signature

SECRET = "s3cret-shared-with-the-erp"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# ---- an SMTP server ------------------------------------------------------------------------
class Mailbox:
    """aiosmtpd handler: keeps what it accepts; answers 451 to the first ``refuse`` mails."""

    def __init__(self, refuse: int = 0) -> None:
        self.refuse = refuse
        self.mails: list[tuple[list[str], Message]] = []
        self.refused = 0
        self.peers: list[tuple[str, int]] = []  # the client's address: one per connection

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse > 0:
            self.refuse -= 1
            self.refused += 1
            return "451 4.3.0 Mailbox busy, try again later"
        mail = message_from_bytes(envelope.content, policy=default_policy)
        self.peers.append(session.peer)
        self.mails.append((list(envelope.rcpt_tos), mail))
        return "250 OK"


def smtp_server(handler: Mailbox, port: int, **options: Any) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    return controller


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    server = smtp_server(box, port)
    yield box, port
    server.stop()


def mail_desk(tmp_path: Path, port: int, **settings: Any) -> ServiceDesk:
    email = {"host": "127.0.0.1", "port": port, "security": "none",
             "sender": "After-sales <desk@pumps.example>", **settings}  # fmt: skip
    desk = ServiceDesk(RULES / "default.policy", f"sqlite:///{tmp_path / 'desk.db'}",
                       notify={"email": email})  # fmt: skip
    add_team(desk)
    desk.staff.update("e7", by="m1", email="chen@pumps.example", team="north", at=at(0))
    return desk


def test_a_mail_reaches_the_recipient_at_the_address_on_their_staff_record(
    tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    desk = mail_desk(tmp_path, port, copy_to=["service-log@pumps.example"])
    case = run_to(desk, "assigned")
    [item] = [i for i in desk.storage.outbox("delivered") if i.plugin == "email"
              and i.notification["kind"] == "case_assigned"]  # fmt: skip
    [(rcpt, mail)] = [m for m in box.mails if m[1]["X-Aftersales-Kind"] == "case_assigned"]
    assert rcpt == ["chen@pumps.example", "service-log@pumps.example"]
    assert mail["To"] == "Chen <chen@pumps.example>, service-log@pumps.example"
    assert mail["From"] == "After-sales <desk@pumps.example>"
    assert mail["Subject"] == item.notification["subject"]
    assert mail["Message-ID"] == f"<{item.id}@pumps.example>"  # the same on every retry
    assert mail["X-Aftersales-Case"] == case.id
    body = mail.get_content()
    assert f"Case: {case.id}" in body and "Kind: case_assigned" in body


def test_names_and_subjects_in_any_script_and_with_line_breaks(
    tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    desk = mail_desk(tmp_path, port)
    desk.staff.add(id="e9", name="陈伟", roles=["engineer"], email="chen.wei@pumps.example",
                   at=at(0))  # fmt: skip
    case = desk.cases.report(**{**REPORT, "fault": "液压泵漏油\n停机"}, by="cs1", at=at(1))
    desk.cases.respond(case.id, by="cs1", at=at(2))
    desk.cases.assign(case.id, engineer="e9", by="cs1", at=at(3))
    [(rcpt, mail)] = [m for m in box.mails if m[1]["X-Aftersales-Kind"] == "case_assigned"]
    assert rcpt == ["chen.wei@pumps.example"]
    assert str(mail["To"]) == "陈伟 <chen.wei@pumps.example>"
    assert "液压泵漏油 停机" in str(mail["Subject"]) and "\n" not in str(mail["Subject"])


def test_recipients_without_an_address_get_no_mail_and_nothing_waits(
    tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    desk = mail_desk(tmp_path, port)
    desk.staff.update("e7", by="m1", email=None, at=at(1))
    run_to(desk, "assigned")
    assert box.mails == []
    assert [i for i in desk.notifications.pending() if i.plugin == "email"] == []


def test_kinds_limits_what_is_mailed(tmp_path: Path, mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    desk = mail_desk(tmp_path, port, kinds=["sla_breach"])
    run_to(desk, "assigned")
    assert box.mails == []
    # a test message checks the settings: it passes the filter, so "delivered" is true
    [item] = [i for i in desk.notifications.test("e7", at(9)) if i.plugin == "email"]
    assert item.status == "delivered" and len(box.mails) == 1


def test_starttls_and_login_with_the_password_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    logins: list[tuple[bytes, bytes]] = []

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                     data: Any) -> AuthResult:  # fmt: skip
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"pump-room-7", handled=False)

    box, port = Mailbox(), free_port()
    server = smtp_server(box, port, tls_context=server_context, require_starttls=True,
                         authenticator=authenticate, auth_require_tls=True)  # fmt: skip
    try:
        monkeypatch.setenv("DESK_SMTP_PASSWORD", "pump-room-7")
        desk = mail_desk(
            tmp_path, port, security="starttls", username="desk",
            password_env="DESK_SMTP_PASSWORD", ca_file=str(tmp_path / "ca.pem"),
        )  # fmt: skip
        run_to(desk, "assigned")
        assert logins == [(b"desk", b"pump-room-7")]
        assert [m["X-Aftersales-Kind"] for _, m in box.mails] == ["case_assigned"]

        # a wrong password is refused
        wrong = EmailNotifier(
            EmailSettings(host="127.0.0.1", port=port, username="desk",
                          ca_file=str(tmp_path / "ca.pem")), password="guess")  # fmt: skip
        with pytest.raises(Exception, match="535"):
            wrong.send(_any_mail())
        # without the CA the server's certificate is not trusted
        untrusted = EmailNotifier(EmailSettings(host="127.0.0.1", port=port), password=None)
        with pytest.raises(ssl.SSLError):
            untrusted.send(_any_mail())
    finally:
        server.stop()


def _any_mail() -> Any:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@pumps.example", "b@pumps.example", "hi"
    msg.set_content("hi")
    return msg


def test_a_server_that_refuses_and_comes_back_gets_the_mail_later(tmp_path: Path) -> None:
    port = free_port()
    desk = mail_desk(tmp_path, port)  # nothing listens on the port yet
    case = run_to(desk, "assigned")
    [waiting] = [i for i in desk.notifications.pending() if i.plugin == "email"]
    assert waiting.attempts == 1 and "ConnectionRefusedError" in (waiting.last_error or "")
    assert desk.cases.get(case.id).status == "assigned"  # the failure undid nothing

    box = Mailbox(refuse=1)  # back up, but busy once: "451 try again later"
    server = smtp_server(box, port)
    try:
        assert desk.notifications.deliver_due(at(10)) == []  # not due: backoff 30 s
        [busy] = [i for i in desk.notifications.deliver_due(at(11)) if i.plugin == "email"]
        assert busy.status == "pending" and "451" in (busy.last_error or "")
        assert busy.attempts == 2 and box.refused == 1
        [done] = [i for i in desk.notifications.deliver_due(at(13)) if i.plugin == "email"]
        assert done.status == "delivered" and done.attempts == 3
        assert len(box.mails) == 1 and box.mails[0][1]["Message-ID"] == f"<{done.id}@pumps.example>"
    finally:
        server.stop()


def test_one_connection_carries_the_mails_of_a_burst(
    tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    desk = mail_desk(tmp_path, port)
    for _ in range(3):
        desk.notifications.test("e7")
    assert len(box.mails) == 3 and len(set(box.peers)) == 1
    desk.plugins.get_plugin("email").close()
    desk.notifications.test("e7")
    assert len(set(box.peers)) == 2
    (tmp_path / "single").mkdir()
    single = mail_desk(tmp_path / "single", port, keep_open=0)
    for _ in range(2):
        single.notifications.test("e7")
    assert len(set(box.peers)) == 4  # keep_open = 0: a connection per mail


def test_a_kept_connection_the_server_dropped_is_replaced_without_a_failure(
    tmp_path: Path,
) -> None:
    port = free_port()
    first = smtp_server(Mailbox(), port)
    desk = mail_desk(tmp_path, port, keep_open=60)
    [item] = [i for i in desk.notifications.test("e7") if i.plugin == "email"]
    assert item.status == "delivered"
    first.stop()  # the server restarts while the notifier holds its connection
    box = Mailbox()
    second = smtp_server(box, port)
    try:
        [item] = [i for i in desk.notifications.test("e7") if i.plugin == "email"]
        assert item.status == "delivered" and item.attempts == 1 and len(box.mails) == 1
    finally:
        second.stop()


def test_a_server_that_never_comes_back_leaves_the_mail_failed(tmp_path: Path) -> None:
    port = free_port()
    email = {"host": "127.0.0.1", "port": port, "security": "none", "timeout": 2}
    desk = ServiceDesk(RULES / "default.policy", f"sqlite:///{tmp_path / 'desk.db'}",
                       notify={"email": email},
                       outbox=OutboxSettings(max_tries=2))  # fmt: skip
    add_team(desk)
    desk.staff.update("e7", by="m1", email="chen@pumps.example", at=at(0))
    run_to(desk, "assigned")
    desk.notifications.deliver_due(at(20))
    [failed] = [i for i in desk.notifications.failed() if i.plugin == "email"]
    assert failed.attempts == 2 and "ConnectionRefusedError" in (failed.last_error or "")


def test_email_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    def make(**email: Any) -> None:
        ServiceDesk(RULES / "default.policy", notify={"email": email})

    with pytest.raises(ValidationError, match=r"\[notify.email\]: password is never read from the "
                       "settings.*password_env"):  # fmt: skip
        make(username="desk", password="hunter2")
    with pytest.raises(ValidationError, match=r"\[notify.email\]: unknown setting 'hots'.*host"):
        make(hots="smtp.example.com")
    monkeypatch.delenv("AFTERSALES_SMTP_PASSWORD", raising=False)
    with pytest.raises(ValidationError, match="AFTERSALES_SMTP_PASSWORD holding the SMTP password"):
        make(username="desk")
    with pytest.raises(ValidationError, match="would send the password in clear"):
        make(username="desk", security="none")
    with pytest.raises(ValidationError, match="security"):
        make(security="ssl")
    with pytest.raises(ValidationError, match="kinds: a list of names is wanted"):
        make(kinds="sla_breach")
    with pytest.raises(ValidationError, match="sender 'desk' is not an e-mail address"):
        make(sender="desk")
    with pytest.raises(ValidationError, match="timeout must be more than 0"):
        make(timeout=0)
    with pytest.raises(ValidationError, match=r"\[notify.sms\]: no loaded plugin makes a notifier"
                       " 'sms'; the loaded plugins make: email, webhook"):  # fmt: skip
        ServiceDesk(RULES / "default.policy", notify={"sms": {}})
    monkeypatch.setenv("AFTERSALES_SMTP_PASSWORD", "pw")
    notifier = EmailNotifier.from_settings({"username": "desk", "host": "smtp.example.com"})
    assert "pw" not in repr(notifier) and notifier.settings.port_number == 587


# ---- an HTTP server ------------------------------------------------------------------------
class Hooks(ThreadingHTTPServer):
    """Records every POST; answers 503 to the first ``fail``, waits ``delay`` s before each."""

    def __init__(self, fail: int = 0, delay: float = 0.0) -> None:
        super().__init__(("127.0.0.1", 0), HookHandler)
        self.fail, self.delay = fail, delay
        self.answer = 204
        self.posts: list[tuple[str, dict[str, str], bytes]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class HookHandler(BaseHTTPRequestHandler):
    server: Hooks

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.posts.append((self.path, dict(self.headers), body))
        time.sleep(self.server.delay)
        failing = self.server.fail > 0
        self.server.fail -= failing
        self.send_response(503 if failing else self.server.answer)
        if self.server.answer in (301, 302, 307):
            self.send_header("Location", f"{self.server.url}/moved")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def hooks() -> Iterator[Hooks]:
    server = Hooks()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def hook_desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **settings: Any) -> ServiceDesk:
    monkeypatch.setenv("AFTERSALES_WEBHOOK_SECRET", SECRET)
    desk = ServiceDesk(RULES / "default.policy", f"sqlite:///{tmp_path / 'desk.db'}",
                       notify={"webhook": settings})  # fmt: skip
    add_team(desk)
    desk.staff.update("e7", by="m1", team="north", email="chen@pumps.example", at=at(0))
    desk.staff.update("e8", by="m1", team="south", at=at(0))
    return desk


def test_a_signed_json_post_to_the_url_and_to_the_recipients_team(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hooks: Hooks
) -> None:
    teams = {"north": f"{hooks.url}/north", "south": f"{hooks.url}/south"}
    desk = hook_desk(tmp_path, monkeypatch, url=f"{hooks.url}/all", teams=teams)
    case = run_to(desk, "assigned")
    assigned = [p for p in hooks.posts if p[1]["X-Aftersales-Event"] == "case_assigned"]
    assert sorted(path for path, _, _ in assigned) == ["/all", "/north"]  # e7 is in north
    _, headers, body = assigned[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Aftersales-Signature"], expected)
    assert headers["X-Aftersales-Signature"] == signature(SECRET.encode(), body)
    assert headers["Content-Type"] == "application/json"
    document = json.loads(body)
    [item] = [i for i in desk.storage.outbox("delivered") if i.plugin == "webhook"
              and i.notification["kind"] == "case_assigned"]  # fmt: skip
    assert document["delivery"] == headers["X-Aftersales-Delivery"] == item.id
    assert document["notification"]["case_id"] == case.id
    assert document["notification"]["recipients"] == ["e7"]
    assert document["staff"] == [{"id": "e7", "name": "Chen", "email": "chen@pumps.example",
                                  "phone": None, "team": "north"}]  # fmt: skip


def test_a_webhook_that_fails_the_first_tries_gets_the_notification_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hooks: Hooks
) -> None:
    hooks.fail = 2
    desk = hook_desk(tmp_path, monkeypatch, teams={"north": f"{hooks.url}/north"})
    run_to(desk, "assigned")
    [waiting] = [i for i in desk.notifications.pending() if i.plugin == "webhook"]
    assert waiting.attempts == 1 and f"POST {hooks.url}/... (team north): 503" in (
        waiting.last_error or ""
    )
    [again] = desk.notifications.deliver_due(at(11))  # 30 s after the first try
    assert again.status == "pending" and again.attempts == 2
    [done] = desk.notifications.deliver_due(at(12))  # 60 s after the second
    assert done.status == "delivered" and done.attempts == 3
    deliveries = {headers["X-Aftersales-Delivery"] for _, headers, _ in hooks.posts}
    assert len(hooks.posts) == 3 and deliveries == {done.id}  # one id: receivers drop repeats


def test_a_slow_webhook_times_out_and_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hooks: Hooks
) -> None:
    hooks.delay = 1.0
    desk = hook_desk(tmp_path, monkeypatch, url=hooks.url, timeout=0.2)
    run_to(desk, "assigned")
    [waiting] = [i for i in desk.notifications.pending() if i.plugin == "webhook"
                 and i.notification["kind"] == "case_assigned"]  # fmt: skip
    assert "timed out" in (waiting.last_error or "")


def test_a_webhook_nobody_listens_on_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = hook_desk(tmp_path, monkeypatch, url=f"http://127.0.0.1:{free_port()}/hook")
    run_to(desk, "assigned")
    [waiting] = [i for i in desk.notifications.pending() if i.plugin == "webhook"
                 and i.notification["kind"] == "case_assigned"]  # fmt: skip
    assert "ConnectionRefusedError" in (waiting.last_error or "")


@pytest.mark.parametrize("status", [301, 302, 307])
def test_a_redirect_is_a_failure_not_a_delivery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hooks: Hooks, status: int
) -> None:
    """urllib would follow it with a bodiless GET; the operator should fix the URL instead."""
    hooks.answer = status
    desk = hook_desk(tmp_path, monkeypatch, url=f"{hooks.url}/old")
    run_to(desk, "assigned")
    [waiting] = [i for i in desk.notifications.pending() if i.plugin == "webhook"
                 and i.notification["kind"] == "case_assigned"]  # fmt: skip
    assert f"POST {hooks.url}/...: {status}" in (waiting.last_error or "")
    assert [path for path, _, _ in hooks.posts] == ["/old"]  # nothing sent to /moved


def test_errors_do_not_show_the_secret_part_of_a_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hooks: Hooks
) -> None:
    hooks.fail = 1
    desk = hook_desk(tmp_path, monkeypatch, url=f"{hooks.url}/services/T0001/B0002/s3cr3tT0ken?k=v")
    run_to(desk, "assigned")
    [waiting] = [i for i in desk.notifications.pending() if i.plugin == "webhook"]
    assert "s3cr3t" not in (waiting.last_error or "") and "T0001" not in (waiting.last_error or "")
    assert f"POST {hooks.url}/...: 503" in (waiting.last_error or "")


def test_recipients_in_no_configured_team_post_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hooks: Hooks
) -> None:
    desk = hook_desk(tmp_path, monkeypatch, teams={"south": hooks.url})
    run_to(desk, "assigned")  # to e7, who is in north
    assert hooks.posts == []
    assert [i for i in desk.notifications.pending() if i.plugin == "webhook"] == []


def test_webhook_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    def make(**webhook: Any) -> None:
        ServiceDesk(RULES / "default.policy", notify={"webhook": webhook})

    monkeypatch.delenv("AFTERSALES_WEBHOOK_SECRET", raising=False)
    with pytest.raises(ValidationError, match="AFTERSALES_WEBHOOK_SECRET holding the webhook's"):
        make(url="https://erp.example.com/hook")
    monkeypatch.setenv("AFTERSALES_WEBHOOK_SECRET", SECRET)
    with pytest.raises(ValidationError, match="secret is never read from the settings"):
        make(url="https://erp.example.com/hook", secret="abc")
    with pytest.raises(ValidationError, match="nowhere to post"):
        make()
    with pytest.raises(ValidationError, match="'ftp://x' is not an http:// or https:// URL"):
        make(url="ftp://x")
    with pytest.raises(ValidationError, match="the URL of team 'north'"):
        make(teams={"north": "north-crew"})
    notifier = WebhookNotifier(WebhookSettings(url="https://erp.example.com/hook"), secret="k")
    assert "k" not in repr(notifier).replace("hook", "")
    with pytest.raises(ValidationError, match="secret is empty"):
        WebhookNotifier(WebhookSettings(url="https://erp.example.com/hook"), secret="")


# ---- configured in aftersales.toml, used from the command line -----------------------------
def test_aftersales_toml_configures_the_notifiers_and_the_outbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mailbox: tuple[Mailbox, int], hooks: Hooks
) -> None:
    box, port = mailbox
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AFTERSALES_WEBHOOK_SECRET", SECRET)
    (tmp_path / "aftersales.toml").write_text(f"""\
policy = "{RULES / 'default.policy'}"
storage = "sqlite:///desk.db"

[notify]
max_tries = 3
backoff_seconds = 10

[notify.email]
host = "127.0.0.1"
port = {port}
security = "none"
sender = "desk@pumps.example"

[notify.webhook.teams]
north = "{hooks.url}/north"
""", "utf-8")  # fmt: skip
    ok("staff", "add", "m1", "--name", "Zhao", "--role", "manager")
    ok("staff", "add", "e7", "--name", "Chen", "--role", "engineer", "--team", "north")
    out = ok("staff", "update", "e7", "--by", "m1", "--email", "chen@pumps.example")
    assert "email chen@pumps.example" in out and "team north" in out
    out = ok("notifications", "test", "e7")
    assert "email: delivered" in out and "webhook: delivered" in out
    [(rcpt, mail)] = box.mails
    assert (
        rcpt == ["chen@pumps.example"]
        and mail["Subject"] == "aftersales: a test notification for Chen"
    )
    [(path, _, body)] = hooks.posts
    assert path == "/north" and json.loads(body)["notification"]["kind"] == "test"

    hooks.fail = 5  # now the webhook is down: the test says so and exits 1
    code, out, _ = run("notifications", "test", "e7")
    assert code == 1 and "webhook: not delivered: WebhookError: POST" in out and "503" in out
    pending = json.loads(ok("notifications", "pending", "--format", "json"))
    assert [(p["plugin"], p["attempts"]) for p in pending] == [("webhook", 1)]
    out = ok("staff", "update", "e7", "--by", "m1", "--email", "")  # "" clears it
    assert "email -" in out and "team north" in out
    # [notify] backoff_seconds = 10 and max_tries = 3 came from the file
    config = load_config(str(tmp_path / "aftersales.toml"))
    assert config.outbox == OutboxSettings(max_tries=3, backoff=timedelta(seconds=10))


def test_bad_notify_settings_are_reported_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    head = f'policy = "{RULES / "default.policy"}"\nstorage = "sqlite:///desk.db"\n'
    for table, message in [
        ('[notify.email]\nusername = "desk"\npassword = "hunter2"\n',
         "[notify.email]: password is never read from the settings"),
        ("[notify]\nretries = 3\n", "[notify] has no setting 'retries'"),
        ('[notify]\nbackoff_seconds = "soon"\n', "backoff_seconds is a number of seconds"),
        ("[notify]\nmax_tries = 0\n", "max_tries must be from 1 to 1,000"),
        ('[notify.fax]\nnumber = "1"\n', "no loaded plugin makes a notifier 'fax'"),
    ]:  # fmt: skip
        (tmp_path / "aftersales.toml").write_text(head + table, "utf-8")
        code, _, err = run("case", "list")
        assert code == 1 and message in err and "Traceback" not in err, err


def test_the_settings_shown_in_the_guide_are_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    guide = (Path(__file__).parent.parent / "docs" / "guide.md").read_text("utf-8")
    [block] = [b for b in guide.split("```toml\n")[1:] if "[notify.email]" in b]
    head = f'policy = "{RULES / "default.policy"}"\nstorage = "memory://"\n'
    (tmp_path / "aftersales.toml").write_text(head + block.split("```")[0], "utf-8")
    monkeypatch.setenv("AFTERSALES_SMTP_PASSWORD", "pw")
    monkeypatch.setenv("AFTERSALES_WEBHOOK_SECRET", SECRET)
    config = load_config(str(tmp_path / "aftersales.toml"))
    assert config.notify["email"]["ca_file"] == str(tmp_path / "certs" / "relay-ca.pem")
    desk = ServiceDesk(config.policy, config.storage, notify=config.notify, outbox=config.outbox)
    email, webhook = desk.plugins.get_plugin("email"), desk.plugins.get_plugin("webhook")
    assert email.settings.port_number == 587 and email.settings.kinds == (
        "sla_breach",
        "case_assigned",
    )
    assert sorted(webhook.settings.teams) == ["north", "south"]
