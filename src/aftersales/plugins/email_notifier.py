"""The e-mail notifier: each notification as a plain-text mail to its recipients' addresses
(from their staff records), through any SMTP server, with the standard library's ``smtplib``;
a customer's message (``notification.to`` by ``email``) as its rendered text, with its
attachments, to that customer's contact alone. It returns ``"email"`` for those: the
receipt that tells the desk the message reached the customer's mail server.

Configure it in ``aftersales.toml`` (or ``ServiceDesk(notify={"email": {...}})``)::

    [notify.email]
    host = "smtp.example.com"
    security = "starttls"            # "starttls" (default), "tls" (SMTPS) or "none"
    port = 587                        # default: 587, 465 for "tls", 25 for "none"
    username = "aftersales@example.com"
    password_env = "AFTERSALES_SMTP_PASSWORD"   # the password's environment variable
    sender = "After-sales <aftersales@example.com>"
    copy_to = ["service-log@example.com"]       # also receives every mail
    kinds = ["sla_breach", "case_assigned"]   # only these (and test); default: all
    timeout = 10                      # seconds per connection
    ca_file = "certs/relay-ca.pem"    # trust this CA too (a company relay's own)
    keep_open = 10                    # seconds a connection waits for the next mail; 0: not

The password is only ever read from the environment. A failed delivery (server down, a
``4xx`` answer, a refused recipient) raises, and the desk's outbox tries again with backoff;
the mail's ``Message-ID`` is the outbox item's id, the same on every try, so a mail system
that saw the first try can drop the repeat.
"""

from __future__ import annotations

import base64
import logging
import smtplib
import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from email import charset, encoders, errors
from email.header import Header
from email.headerregistry import Address
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

import attrs

from aftersales.core.errors import ValidationError
from aftersales.core.model import Notification, Staff
from aftersales.plugins.notifier_settings import from_environment, positive, read_settings
from aftersales.ports.hookspecs import NotifierRegistrar, hookimpl

logger = logging.getLogger("aftersales.notify.email")

SECURITY = ("starttls", "tls", "none")
_UTF8 = charset.Charset("utf-8")
_UTF8.body_encoding = charset.QP  # readable in the raw mail, unlike base64
PORTS = {"starttls": 587, "tls": 465, "none": 25}


@attrs.frozen(kw_only=True)
class EmailSettings:
    """Where and how the e-mail notifier sends; every field has a default."""

    host: str = "localhost"
    port: int | None = None
    security: str = attrs.field(default="starttls", validator=attrs.validators.in_(SECURITY))
    username: str | None = None
    password_env: str = "AFTERSALES_SMTP_PASSWORD"
    sender: str = "aftersales@localhost"
    copy_to: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    timeout: float = attrs.field(default=10.0, validator=positive)
    ca_file: str | None = None
    keep_open: float = attrs.field(default=10.0, validator=attrs.validators.ge(0))

    def __attrs_post_init__(self) -> None:
        if self.username and self.security == "none":
            raise ValidationError(
                'username is set but security = "none" would send the password in clear '
                'text; use security = "starttls" or "tls"'
            )
        if "@" not in parseaddr(self.sender)[1]:
            raise ValidationError(f"sender {self.sender!r} is not an e-mail address")

    @property
    def port_number(self) -> int:
        return self.port if self.port is not None else PORTS[self.security]


class EmailNotifier:
    """Sends notifications by e-mail. ``password`` defaults to the environment variable that
    ``settings.password_env`` names (read once, when the notifier is made); it is needed
    only with a ``username``."""

    name = "email"

    def __init__(self, settings: EmailSettings | None = None, *, password: str | None = None):
        self.settings = settings or EmailSettings()
        if self.settings.username and password is None:
            password = from_environment(
                self.settings.password_env, f"the SMTP password of {self.settings.username}"
            )
        self._password = password
        self._context: ssl.SSLContext | None = None
        self._lock = threading.Lock()  # one connection, one mail on it at a time
        self._client: smtplib.SMTP | None = None
        self._used = 0.0

    @property
    def context(self) -> ssl.SSLContext:
        """The TLS context, made once: loading the trusted CAs costs ~20 ms, per mail that
        was most of the time."""
        if self._context is None:
            self._context = ssl.create_default_context(cafile=self.settings.ca_file)
        return self._context

    @classmethod
    def from_settings(cls, data: Mapping[str, Any]) -> EmailNotifier:
        """A notifier from a ``[notify.email]`` table."""
        return cls(read_settings(EmailSettings, data, {"password": "password_env"}))

    def __repr__(self) -> str:  # never the password
        s = self.settings
        return f"EmailNotifier({s.security}://{s.host}:{s.port_number}, sender={s.sender!r})"

    @hookimpl
    def aftersales_notify(
        self, notification: Notification, staff: Sequence[Staff], delivery: str
    ) -> str | None:
        # `aftersales notifications test` checks the settings: it goes through any filter,
        # so a test that says delivered has sent something
        wanted = self.settings.kinds
        if wanted and notification.kind not in wanted and notification.kind != "test":
            return None
        if notification.to is not None:  # a customer's message: theirs alone, by e-mail
            if notification.to.channel != "email":
                return None
            self.send(self.customer_message(notification, delivery))
            return "email"
        to = []
        for member in staff:
            if not member.email:
                continue
            address = _address(member)
            if address is None:  # one bad record never costs the others their mail
                logger.warning("%s: staff %s has an address that cannot be mailed, skipped",
                               notification.kind, member.id)  # fmt: skip
                continue
            to.append(address)
        to += [a for a in self.settings.copy_to if a not in to]
        if not to:
            logger.info("%s: none of %s has an e-mail address", notification.kind,
                        ", ".join(notification.recipients) or "(nobody)")  # fmt: skip
            return None
        self.send(self.message(notification, to, delivery))
        return None

    def customer_message(self, notification: Notification, delivery: str) -> Message:
        """The mail of a customer's message: the rendered text, the attachments (the repair
        report), to the contact alone (``copy_to`` is for staff mail, not customers')."""
        to = notification.to
        assert to is not None
        name = "".join(ch for ch in " ".join(to.name.split()) if ch.isprintable())
        try:
            Address(addr_spec=to.address)
        except (ValueError, IndexError, errors.HeaderParseError):
            raise ValueError(f"{to.address!r} cannot be mailed") from None
        text = MIMEText(notification.text or notification.subject, "plain", "utf-8")
        msg: Message
        if notification.attachments:
            msg = MIMEMultipart()
            msg.attach(text)
            for item in notification.attachments:
                maintype, _, subtype = item.content_type.partition("/")
                part = MIMEBase(maintype, subtype or "octet-stream")
                # decoded and encoded again: the outbox's base64 is one line, and SMTP
                # servers refuse lines over 998 characters (encode_base64 wraps at 76)
                part.set_payload(base64.b64decode(item.content))
                encoders.encode_base64(part)
                part.add_header("Content-Disposition", "attachment", filename=item.filename)
                msg.attach(part)
        else:
            msg = text
        subject = " ".join(notification.subject.split())
        msg["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")  # type: ignore[assignment]  # folded right, unlike its encode()
        msg["From"] = self.settings.sender
        msg["To"] = formataddr((name, to.address))
        msg["Date"] = format_datetime(notification.at or datetime.now(timezone.utc))
        domain = parseaddr(self.settings.sender)[1].rpartition("@")[2]
        msg["Message-ID"] = f"<{delivery}@{domain}>"
        msg["X-Aftersales-Kind"] = notification.kind
        msg["Content-Language"] = to.language
        return msg

    def message(self, notification: Notification, to: Sequence[str], delivery: str) -> Message:
        """The mail for ``notification``: its subject, then the case and the details."""
        lines = [notification.subject, ""]
        if notification.case_id:
            lines.append(f"Case: {notification.case_id}")
        lines.append(f"Kind: {notification.kind}")
        lines += [f"{key}: {_text(value)}" for key, value in sorted(notification.data.items())]
        # the compat32 Message, not EmailMessage: parsing every header the new way cost
        # ~1.9 ms a mail, 14x this; formataddr encodes the names, Header the subject
        msg = Message()
        msg.set_payload("\n".join(lines) + "\n", _UTF8)  # also sets the MIME headers
        subject = " ".join(notification.subject.split())  # a fault text's line breaks
        msg["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")  # type: ignore[assignment]  # folded right, unlike its encode()
        msg["From"] = self.settings.sender
        msg["To"] = ", ".join(to)
        msg["Date"] = format_datetime(notification.at or datetime.now(timezone.utc))
        domain = parseaddr(self.settings.sender)[1].rpartition("@")[2]
        msg["Message-ID"] = f"<{delivery}@{domain}>"
        msg["X-Aftersales-Kind"] = notification.kind
        if notification.case_id:
            msg["X-Aftersales-Case"] = notification.case_id
        return msg

    def send(self, msg: Message) -> None:
        """Hand ``msg`` to the server; raises on anything short of every recipient taken.

        The connection is kept for the next mail if that comes within ``keep_open`` seconds
        (a tick mails many at once; a connection and its TLS handshake per mail cost more
        than the mail). One the server has closed meanwhile is replaced, once, silently."""
        with self._lock:
            client = self._client
            self._client = None
            if client is not None and time.monotonic() - self._used <= self.settings.keep_open:
                try:
                    self._keep(client, msg)
                    return
                except Exception as exc:
                    if not _stale(exc):
                        raise
                    # the server hung up while the connection waited: a new one below
            elif client is not None:
                _quit(client)
            self._keep(self._connect(), msg)

    def close(self) -> None:
        """Close the kept connection now (it is also replaced when stale, and closed with
        the process)."""
        with self._lock:
            if self._client is not None:
                _quit(self._client)
                self._client = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        client: smtplib.SMTP
        if s.security == "tls":
            client = smtplib.SMTP_SSL(s.host, s.port_number, timeout=s.timeout,
                                      context=self.context)  # fmt: skip
        else:
            client = smtplib.SMTP(s.host, s.port_number, timeout=s.timeout)
        try:
            if s.security == "starttls":
                client.starttls(context=self.context)
            if s.username and self._password is not None:
                client.login(s.username, self._password)
        except BaseException:
            _quit(client)
            raise
        return client

    def _keep(self, client: smtplib.SMTP, msg: Message) -> None:
        """Send on ``client``, then keep it (or close it, with ``keep_open = 0``)."""
        try:
            refused = client.send_message(msg)
        except BaseException:
            _quit(client)  # mid-transaction state unknown: start clean next time
            raise
        if refused:
            lasting = {a: r for a, r in refused.items() if 500 <= r[0] < 600}
            if len(lasting) < len(refused):  # a temporary refusal: the retry sends to all
                _quit(client)  # again (at least once)
                raise smtplib.SMTPRecipientsRefused(refused)
            # the others have the mail; a retry would not change a lasting refusal
            logger.warning("mail %s: the server refused %s for good", msg["Message-ID"],
                           ", ".join(f"{a} ({r[0]})" for a, r in lasting.items()))  # fmt: skip
        if self.settings.keep_open > 0:
            self._client, self._used = client, time.monotonic()
        else:
            _quit(client)


def _address(member: Staff) -> str | None:
    """``Name <address>`` for ``member``, or None when the stored address cannot be one. A
    name is flattened to one line of printable text (records stored before names were
    checked may hold line breaks, which would break the header)."""
    name = "".join(ch for ch in " ".join(member.name.split()) if ch.isprintable())
    try:
        Address(addr_spec=member.email or "")
    except (ValueError, IndexError, errors.HeaderParseError):
        return None
    return formataddr((name, member.email or ""))


def _stale(exc: Exception) -> bool:
    """Whether ``exc`` says a kept connection was closed by the server (421: closing)."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code == 421
    return isinstance(exc, (smtplib.SMTPServerDisconnected, ConnectionError))


def _quit(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(map(_text, value))
    if isinstance(value, dict):
        return "; ".join(f"{k} {_text(v)}" for k, v in value.items())
    return "-" if value is None else str(value)


@hookimpl
def aftersales_notifiers(register: NotifierRegistrar) -> None:
    register("email", EmailNotifier.from_settings)


__all__ = ["EmailNotifier", "EmailSettings"]
