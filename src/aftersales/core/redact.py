"""Secrets never shown: URLs with their password (and secret-looking query values) masked.

Every error, log line, ``repr`` and outbox entry that names a store or an endpoint goes
through :func:`url` (docs/limits.md, "Secrets")."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
_SECRET_KEYS = ("password", "passwd", "pwd", "secret", "token", "key", "sig", "signature",
                "auth", "credential", "sslpassword")  # fmt: skip


def url(value: object) -> str:
    """``value`` as text with any password and secret-looking query value masked."""
    text = value if isinstance(value, str) else repr(value)
    if "://" not in text and "@" not in text and "=" not in text:
        return text
    try:
        parts = urlsplit(text)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, host = netloc.rpartition("@")
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:{MASK}@{host}" if ":" in userinfo else f"{user}@{host}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode(
                [(k, MASK if any(s in k.lower() for s in _SECRET_KEYS) else v) for k, v in pairs],
                safe="*",
            )
        if netloc == parts.netloc and query == parts.query:
            return text  # nothing secret: as written (urlunsplit would drop "///")
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:  # not a URL after all (a bad port, brackets): show nothing of it
        return "<a URL that cannot be read>"


def password_of(value: str) -> str | None:
    """The password a URL carries, if any (to scrub it from a driver's own messages)."""
    try:
        return urlsplit(value).password
    except ValueError:
        return None


_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):[^@/\s]*@", re.I)


def scrub(text: str, *secrets: str | None) -> str:
    """``text`` with every occurrence of each non-empty secret masked, and any password
    written into a URL within it (``scheme://user:password@``)."""
    text = _USERINFO.sub(rf"\g<scheme>\g<user>:{MASK}@", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


__all__ = ["MASK", "password_of", "scrub", "url"]
