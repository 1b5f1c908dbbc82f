"""``aftersales.toml``: which policy and which store the command works on.

```toml
policy  = "rules/default.policy"       # relative paths are relative to this file
storage = "sqlite:///aftersales.db"    # any URL a storage plugin serves

[careers]
levels = ["engineer", "senior_engineer", "supervisor", "manager"]   # the ladder, lowest first

[notify]                 # the outbox: how patiently failed notifications are retried
max_tries = 8
backoff_seconds = 30     # the first retry's wait; doubles each time, up to an hour
deliver_within_seconds = 5   # the longest an action waits on one notification; then the tick

[notify.email]           # a notifier per table: settings in aftersales.plugins.email_notifier
host = "smtp.example.com"
username = "aftersales@example.com"   # the password: $AFTERSALES_SMTP_PASSWORD, never here

[notify.webhook]         # aftersales.plugins.webhook_notifier; secret: $AFTERSALES_WEBHOOK_SECRET
url = "https://erp.example.com/hooks/aftersales"

[messages]               # what customers are sent (docs/customers.md)
templates = "templates"  # the company's own (a copy of the shipped ones); default: shipped
survey_url = "https://service.example.com/survey?token={token}"
```

Looked up as ``--config PATH``, else ``$AFTERSALES_CONFIG``, else ``./aftersales.toml`` if
there is one; without a file the defaults above apply, relative to the working directory.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs

from aftersales.core.errors import ValidationError
from aftersales.core.model import DEFAULT_LEVELS
from aftersales.services.customer_messages import MessageSettings
from aftersales.services.notifications import OutboxSettings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

DEFAULT_POLICY = "rules/default.policy"
DEFAULT_STORAGE = "sqlite:///aftersales.db"
KNOWN_KEYS = ("policy", "storage", "careers", "notify", "messages", "serve")
SERVE_KEYS = ("host", "port", "workers")
MESSAGE_KEYS = ("templates", "survey_url")
OUTBOX_KEYS = ("max_tries", "backoff_seconds", "deliver_within_seconds")
PATH_SETTINGS = ("ca_file",)  # notifier settings that are files: relative to aftersales.toml


@attrs.frozen
class ServeSettings:
    """``[serve]``: where ``aftersales serve`` listens, and how many worker processes."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1


@attrs.frozen
class Config:
    policy: Path
    storage: str
    source: Path | None = None
    levels: tuple[str, ...] = DEFAULT_LEVELS
    notify: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    outbox: OutboxSettings = attrs.field(factory=OutboxSettings)
    messages: MessageSettings = attrs.field(factory=MessageSettings)
    serve: ServeSettings = attrs.field(factory=lambda: ServeSettings())


def _sqlite_relative_to(url: str, base: Path) -> str:
    """A relative ``sqlite:///file`` URL made relative to ``base`` (the config's folder)."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        return prefix + str((base / url[len(prefix) :]).resolve())
    return url


def load_config(path: str | None) -> Config:
    """The configuration at ``path`` (None: ./aftersales.toml if present, else defaults)."""
    if path is None:
        found = Path("aftersales.toml")
        if not found.is_file():
            if not Path(DEFAULT_POLICY).is_file():
                raise ValidationError(
                    f"no aftersales.toml in {Path.cwd()} (and no {DEFAULT_POLICY} to use "
                    "without one): run the command in the folder that holds aftersales.toml, "
                    "or give its path with --config FILE"
                )
            return Config(Path(DEFAULT_POLICY), DEFAULT_STORAGE)
        file = found
    else:
        file = Path(path)
    try:
        data: dict[str, Any] = tomllib.loads(file.read_text("utf-8"))
    except OSError as exc:
        raise ValidationError(f"cannot read {file}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"{file}: not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - set(KNOWN_KEYS))
    if unknown:
        raise ValidationError(
            f"{file}: unknown setting {unknown[0]!r}; known: {', '.join(KNOWN_KEYS)}"
        )
    base = file.resolve().parent
    policy = data.get("policy", DEFAULT_POLICY)
    storage = data.get("storage", DEFAULT_STORAGE)
    if not isinstance(policy, str) or not isinstance(storage, str):
        raise ValidationError(f"{file}: policy and storage are text")
    careers = data.get("careers", {})
    levels = careers.get("levels", list(DEFAULT_LEVELS)) if isinstance(careers, dict) else None
    if not isinstance(levels, list) or not all(isinstance(x, str) for x in levels):
        raise ValidationError(f'{file}: [careers] levels is a list of names, e.g. ["engineer", '
                              '"senior_engineer", "supervisor", "manager"]')  # fmt: skip
    notify, outbox = _notify(file, data.get("notify", {}), base)
    messages = _messages(file, data.get("messages", {}), base)
    serve = _serve(file, data.get("serve", {}))
    return Config(base / policy, _sqlite_relative_to(storage, base), file, tuple(levels),
                  notify, outbox, messages, serve)  # fmt: skip


def _serve(file: Path, table: Any) -> ServeSettings:
    if not isinstance(table, dict):
        raise ValidationError(f"{file}: serve is a table: [serve]")
    unknown = sorted(set(table) - set(SERVE_KEYS))
    if unknown:
        raise ValidationError(
            f"{file}: [serve] has no setting {unknown[0]!r}; it has {', '.join(SERVE_KEYS)}"
        )
    host = table.get("host", "127.0.0.1")
    port, workers = table.get("port", 8000), table.get("workers", 1)
    if not isinstance(host, str) or not host:
        raise ValidationError(f'{file}: [serve] host is text: "127.0.0.1" or "0.0.0.0"')
    for name, value, top in (("port", port, 65535), ("workers", workers, 64)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            raise ValidationError(f"{file}: [serve] {name} is a whole number from 1 to {top}")
    return ServeSettings(host, port, workers)


def _messages(file: Path, table: Any, base: Path) -> MessageSettings:
    """``[messages]``: the company's templates folder (relative to the file) and survey page."""
    if not isinstance(table, dict):
        raise ValidationError(f"{file}: messages is a table: [messages]")
    unknown = sorted(set(table) - set(MESSAGE_KEYS))
    if unknown:
        raise ValidationError(
            f"{file}: [messages] has no setting {unknown[0]!r}; it has {', '.join(MESSAGE_KEYS)}"
        )
    templates = table.get("templates")
    url = table.get("survey_url", MessageSettings().survey_url)
    if (templates is not None and not isinstance(templates, str)) or not isinstance(url, str):
        raise ValidationError(f"{file}: [messages] templates and survey_url are text")
    try:
        return MessageSettings(None if templates is None else str(base / templates), url)
    except ValidationError as exc:
        raise ValidationError(f"{file}: [messages] {exc}") from exc


def _notify(file: Path, table: Any, base: Path) -> tuple[dict[str, dict[str, Any]], OutboxSettings]:
    """``[notify]``: the outbox's settings, and one table per notifier (checked by the
    notifier's plugin when the desk makes it)."""
    if not isinstance(table, dict):
        raise ValidationError(f"{file}: notify is a table: [notify]")
    notifiers = {k: dict(v) for k, v in table.items() if isinstance(v, dict)}
    plain = {k: v for k, v in table.items() if not isinstance(v, dict)}
    unknown = sorted(set(plain) - set(OUTBOX_KEYS))
    if unknown:
        raise ValidationError(
            f"{file}: [notify] has no setting {unknown[0]!r}; it has {', '.join(OUTBOX_KEYS)}, "
            "and a table per notifier ([notify.email], [notify.webhook], ...)"
        )
    for settings in notifiers.values():
        for key in PATH_SETTINGS:
            if isinstance(settings.get(key), str):
                settings[key] = str(base / settings[key])
    default = OutboxSettings()
    try:
        backoff = plain.get("backoff_seconds", default.backoff.total_seconds())
        if (
            isinstance(backoff, bool)
            or not isinstance(backoff, (int, float))
            or not 0 < backoff <= 3600  # also refuses NaN and inf
        ):
            raise ValidationError(
                f"backoff_seconds is a number of seconds above 0 and at most 3600, not {backoff!r}"
            )
        within = plain.get("deliver_within_seconds", default.deliver_within.total_seconds())
        if (
            isinstance(within, bool)
            or not isinstance(within, (int, float))
            or not 0 < within <= 600
        ):
            raise ValidationError(
                "deliver_within_seconds is a number of seconds above 0 and at most 600, "
                f"not {within!r}"
            )
        outbox = OutboxSettings(
            plain.get("max_tries", default.max_tries),
            timedelta(seconds=backoff),
            timedelta(seconds=within),
        )
    except ValidationError as exc:
        raise ValidationError(f"{file}: [notify] {exc}") from exc
    return notifiers, outbox


__all__ = ["Config", "load_config"]
