"""Signed, expiring survey tokens: what a survey link carries.

A token is ``<payload>.<signature>``: the payload (base64url JSON: the case, a random nonce,
the expiry) and its HMAC-SHA256 under the desk's survey secret. The secret is the
environment variable ``AFTERSALES_SURVEY_SECRET`` when set (several desks on one store must
then share it), else a random one the desk makes once and keeps in its store. Changing a
byte of a token, or signing it with another secret, makes it refused; so does its expiry.
That a token is answered only once is the case's business (a case takes one survey answer).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import threading
from datetime import datetime, timezone

import attrs

from aftersales.core.errors import ConflictError, PermissionDenied, ValidationError
from aftersales.ports.storage import event_record
from aftersales.services.basis import Basis

SECRET_ENV = "AFTERSALES_SURVEY_SECRET"
SECRET_KIND = "desk_secret"
MAX_TOKEN = 1000


@attrs.frozen
class SurveyToken:
    """What a verified token says: the case it asks about, its nonce, when it expires."""

    case_id: str
    nonce: str
    expires: datetime
    round: int = 0  # the case's reopenings when the link was sent: each close has its own


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SurveyTokens:
    """Makes and checks survey tokens with the desk's secret."""

    def __init__(self, basis: Basis) -> None:
        self._basis = basis
        self._secret: bytes | None = None
        self._lock = threading.Lock()

    def _key(self) -> bytes:
        with self._lock:
            if self._secret is None:
                given = os.environ.get(SECRET_ENV)
                self._secret = given.encode("utf-8") if given else self._stored()
            return self._secret

    def _stored(self) -> bytes:
        """The store's own secret, made by the first desk that needed it."""
        storage = self._basis.storage
        for _ in range(3):
            record = storage.get(SECRET_KIND, "survey")
            if record is not None:
                return bytes.fromhex(str(record.data["secret"]))
            made = secrets.token_hex(32)
            try:
                with storage.transaction() as tx:
                    at = datetime.now(timezone.utc)
                    tx.append(SECRET_KIND, "survey", 0,
                              [event_record(1, "made", "", at, {})], {"secret": made})  # fmt: skip
            except ConflictError:  # another desk made it first: read theirs
                continue
            return bytes.fromhex(made)
        raise ConflictError("the survey secret could not be stored; try again")

    def make(self, case_id: str, expires: datetime, round: int = 0) -> str:
        payload = json.dumps(
            {"c": case_id, "n": secrets.token_urlsafe(12), "e": int(expires.timestamp()),
             "r": round},
            separators=(",", ":"),
        ).encode("utf-8")  # fmt: skip
        body = _b64(payload)
        mac = hmac.new(self._key(), body.encode("ascii"), hashlib.sha256).digest()
        return f"{body}.{_b64(mac)}"

    def read(self, token: object, now: datetime) -> SurveyToken:
        """The verified token; PermissionDenied when it was altered or signed elsewhere,
        ValidationError when it is not a token at all or has expired."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
            raise ValidationError("a survey token is the text after token= in the survey link")
        body, dot, sig = token.strip().partition(".")
        if not dot:
            raise ValidationError("this is not a survey token (it has no signature)")
        try:
            given = _unb64(sig)
            payload = _unb64(body)
        except (binascii.Error, ValueError):
            raise ValidationError("this is not a survey token (it is not base64)") from None
        wanted = hmac.new(self._key(), body.encode("ascii", "replace"), hashlib.sha256).digest()
        if not hmac.compare_digest(given, wanted):
            raise PermissionDenied(
                "the survey token's signature does not match: it was altered, or made by "
                "another desk's secret"
            )
        data = json.loads(payload)
        expires = datetime.fromtimestamp(int(data["e"]), timezone.utc)
        if now >= expires:
            raise ValidationError(
                f"the survey link expired at {expires.isoformat()}; ask for a new one"
            )
        return SurveyToken(str(data["c"]), str(data["n"]), expires, int(data.get("r", 0)))


__all__ = ["SECRET_ENV", "SurveyToken", "SurveyTokens"]
