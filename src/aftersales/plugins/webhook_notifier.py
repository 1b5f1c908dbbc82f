"""The webhook notifier: each notification as a signed JSON ``POST`` to a URL that gets every
one, and to the URL of each team its recipients belong to (``team`` in their staff
records), with the standard library's ``urllib``.

Configure it in ``aftersales.toml`` (or ``ServiceDesk(notify={"webhook": {...}})``)::

    [notify.webhook]
    url = "https://erp.example.com/hooks/aftersales"   # every notification (optional)
    secret_env = "AFTERSALES_WEBHOOK_SECRET"           # the shared secret's variable
    timeout = 10                                       # seconds per request
    kinds = ["sla_warning", "sla_breach"]            # only these (and test); default: all
    customer_channels = ["sms", "chat"]                # customers' messages it posts (default)

    [notify.webhook.teams]                             # team -> URL
    north = "https://chat.example.com/hooks/north-crew"
    south = "https://chat.example.com/hooks/south-crew"

Each request carries ``X-Aftersales-Signature: sha256=<hex>``, the HMAC-SHA256 of the exact
body bytes under the shared secret (compare it with :func:`signature` and
``hmac.compare_digest``), ``X-Aftersales-Delivery`` (the same on every retry of one
notification, so a receiver can drop repeats) and ``X-Aftersales-Event`` (the kind). An
answer other than 2xx (a redirect too: update the URL), a refused connection or a timeout
raises, and the desk's outbox tries again with backoff; when one of several URLs failed, the
retry posts to all of them again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import attrs

from aftersales.core import redact
from aftersales.core.convert import to_dict
from aftersales.core.errors import ValidationError
from aftersales.core.model import Notification, Staff
from aftersales.plugins.notifier_settings import from_environment, positive, read_settings
from aftersales.ports.hookspecs import NotifierRegistrar, hookimpl

logger = logging.getLogger("aftersales.notify.webhook")
SIGNATURE_HEADER = "X-Aftersales-Signature"


def _http_url(where: str, url: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number raises here, not at delivery
    except ValueError:
        raise ValidationError(f"{where} {redact.url(url)!r} is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError(f"{where} {redact.url(url)!r} is not an http:// or https:// URL")
    if "@" in parts.netloc:
        raise ValidationError(
            f"{where} {redact.url(url)!r} carries a user name or password; the receiver "
            "checks the X-Aftersales-Signature made with the shared secret instead"
        )


@attrs.frozen(kw_only=True)
class WebhookSettings:
    """Where the webhook notifier posts; ``url`` or ``teams`` (or both) is needed."""

    url: str | None = None
    teams: dict[str, str] = attrs.field(factory=dict)
    secret_env: str = "AFTERSALES_WEBHOOK_SECRET"
    timeout: float = attrs.field(default=10.0, validator=positive)
    kinds: tuple[str, ...] = ()
    # customers' messages by these channels are posted to ``url`` (an SMS or chat gateway
    # behind it sends them); a 2xx answer is the receipt that they reached the customer
    customer_channels: tuple[str, ...] = ("sms", "chat")

    def __attrs_post_init__(self) -> None:
        if not self.url and not self.teams:
            raise ValidationError(
                'nowhere to post: set url = "https://..." or a [notify.webhook.teams] table'
            )
        if self.url:
            _http_url("url", self.url)
        for team, url in self.teams.items():
            _http_url(f"the URL of team {team!r}", url)


def signature(secret: bytes, body: bytes) -> str:
    """The ``X-Aftersales-Signature`` value for ``body``: ``sha256=`` and the hex HMAC."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class WebhookError(Exception):
    """One or more of a notification's URLs did not take it."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would re-send a redirected POST as a bodiless GET and call a 200 delivered;
    # a moved endpoint is a settings error an operator should see
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects())


class WebhookNotifier:
    """Posts notifications as JSON. ``secret`` defaults to the environment variable that
    ``settings.secret_env`` names (read once, when the notifier is made); there is no
    unsigned mode."""

    name = "webhook"

    def __init__(self, settings: WebhookSettings, *, secret: str | bytes | None = None):
        self.settings = settings
        if secret is None:
            secret = from_environment(settings.secret_env, "the webhook's shared secret")
        self._secret = secret.encode("utf-8") if isinstance(secret, str) else secret
        if not self._secret:
            raise ValidationError("the webhook's shared secret is empty")

    @classmethod
    def from_settings(cls, data: Mapping[str, Any]) -> WebhookNotifier:
        """A notifier from a ``[notify.webhook]`` table."""
        return cls(read_settings(WebhookSettings, data, {"secret": "secret_env"}))

    def __repr__(self) -> str:  # never the secret
        shown = None if self.settings.url is None else self._shown(self.settings.url)
        return f"WebhookNotifier(url={shown!r}, teams={sorted(self.settings.teams)})"

    def targets(self, staff: Sequence[Staff]) -> list[str]:
        """The URLs a notification to ``staff`` goes to, each once."""
        urls = [self.settings.url] if self.settings.url else []
        urls += [self.settings.teams[s.team] for s in staff if s.team in self.settings.teams]
        return list(dict.fromkeys(urls))

    def _shown(self, url: str) -> str:
        """``url`` without its path and query (chat webhooks carry their token there, and
        errors go to logs and ``aftersales notifications failed``), and whose it is."""
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
        teams = [t for t, u in self.settings.teams.items() if u == url]
        whose = f" (team {', '.join(teams)})" if teams else ""
        return f"{parts.scheme}://{parts.hostname}{port}/...{whose}"

    @staticmethod
    def body(notification: Notification, staff: Sequence[Staff], delivery: str) -> bytes:
        """The JSON document posted: the delivery id, the notification and its recipients."""
        people = [{"id": s.id, "name": s.name, "email": s.email, "phone": s.phone,
                   "team": s.team} for s in staff]  # fmt: skip
        document = {"delivery": delivery, "notification": to_dict(notification), "staff": people}
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")

    @hookimpl
    def aftersales_notify(
        self, notification: Notification, staff: Sequence[Staff], delivery: str
    ) -> str | None:
        # `aftersales notifications test` checks the settings: it goes through any filter,
        # so a test that says delivered has sent something
        wanted = self.settings.kinds
        if wanted and notification.kind not in wanted and notification.kind != "test":
            return None
        customer = notification.to
        if customer is not None and customer.channel not in self.settings.customer_channels:
            return None
        urls = self.targets(staff)
        if not urls:
            return None
        body = self.body(notification, staff, delivery)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "aftersales-webhook",
            SIGNATURE_HEADER: signature(self._secret, body),
            "X-Aftersales-Delivery": delivery,
            "X-Aftersales-Event": notification.kind,
        }
        failures = []
        for url in urls:
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            try:
                with _opener.open(request, timeout=self.settings.timeout) as answer:
                    answer.read()
            except urllib.error.HTTPError as exc:
                failures.append(f"POST {self._shown(url)}: {exc.code} {exc.reason}")
            except (OSError, ValueError) as exc:  # refused, unreachable, timed out
                reason = getattr(exc, "reason", exc)
                failures.append(f"POST {self._shown(url)}: {type(reason).__name__}: {reason}")
        if failures:
            raise WebhookError("; ".join(failures))
        return None if customer is None else customer.channel


@hookimpl
def aftersales_notifiers(register: NotifierRegistrar) -> None:
    register("webhook", WebhookNotifier.from_settings)


__all__ = ["SIGNATURE_HEADER", "WebhookError", "WebhookNotifier", "WebhookSettings", "signature"]
