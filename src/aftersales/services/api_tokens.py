"""``desk.tokens``: API tokens, one per staff member and purpose, for the HTTP API.

A token is shown once, when issued: ``as_<id>_<secret>``. The store keeps only its SHA-256
(the secret is 32 random bytes, so a fast hash is enough: nobody can guess through it), who
it acts as, when it expires and whether it was revoked. A request's token decides who acts
(``by=``); the desk's own permission checks then apply unchanged.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import attrs

from aftersales.core import values
from aftersales.core.boundary import public_api
from aftersales.core.errors import PermissionDenied, ValidationError
from aftersales.core.model import Staff
from aftersales.core.permissions import permit
from aftersales.core.values import shown
from aftersales.services.basis import Basis
from aftersales.services.repository import Repository
from aftersales.services.staff import StaffDirectory

KIND = "api_token"
PREFIX = "as_"
MAX_DAYS = 366 * 2
"""The longest a token is valid: two years; issue a new one before it ends."""


@attrs.frozen
class ApiToken:
    """A token as stored: never the secret, only its hash."""

    id: str
    staff: str
    name: str
    digest: str
    issued_at: datetime
    issued_by: str
    expires: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    version: int = 1

    def valid_at(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires


@attrs.frozen
class IssuedToken:
    """What ``issue`` returns: the record and the token itself, shown this once."""

    token: str
    record: ApiToken


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@public_api("desk.tokens")
class ApiTokenService:
    """Issue, list, revoke and check API tokens."""

    def __init__(self, basis: Basis, *, staff: StaffDirectory) -> None:
        self._basis = basis
        self._staff = staff
        self._records = Repository(basis.storage, KIND, ApiToken, "API token")

    def issue(
        self,
        staff_id: str,
        *,
        by: str,
        name: str = "api",
        valid_for: timedelta = timedelta(days=90),
        at: datetime | None = None,
    ) -> IssuedToken:
        """A new token acting as ``staff_id`` (a manager issues them, or a member their
        own), valid for ``valid_for`` (at most two years). The token is in the result only:
        keep it, it cannot be shown again."""
        actor = self._staff.actor(by)
        member = self._staff.actor(values.key(staff_id, "staff id"))
        permit(actor, "tokens.issue", "issue API tokens", related=actor.id == member.id)
        if not isinstance(valid_for, timedelta) or not (
            timedelta(minutes=1) <= valid_for <= timedelta(days=MAX_DAYS)
        ):
            raise ValidationError(
                f"valid_for is a timedelta from a minute to {MAX_DAYS} days, not {shown(valid_for)}"
            )
        when = self._basis.at(at)
        token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        record = ApiToken(token_id, member.id, values.name(name, "name"), _digest(secret), when,
                          actor.id, when + valid_for)  # fmt: skip
        self._records.create(record, "issued", actor.id, when, {"staff": member.id})
        return IssuedToken(f"{PREFIX}{token_id}_{secret}", record)

    def list(self, *, staff: str | None = None) -> builtins.list[ApiToken]:
        """The tokens (of one member), oldest first: never their secrets."""
        found = [t for t in self._records.all() if staff is None or t.staff == staff]
        return sorted(found, key=lambda t: (t.issued_at, t.id))

    def revoke(self, token_id: str, *, by: str, at: datetime | None = None) -> ApiToken:
        """Revoke a token (a manager, or the member it acts as): refused from now on."""
        actor = self._staff.actor(by)
        before = self._records.get(values.key(token_id, "token id"))
        permit(actor, "tokens.revoke", "revoke API tokens", related=actor.id == before.staff)
        if before.revoked_at is not None:
            return before
        when = self._basis.at(at)
        after = attrs.evolve(before, revoked_at=when, revoked_by=actor.id,
                             version=before.version + 1)  # fmt: skip
        return self._records.save(before, after, "revoked", actor.id, when)

    def staff_of(self, token: object, now: datetime | None = None) -> Staff:
        """The active staff member a presented token acts as; PermissionDenied for a token
        that is malformed, unknown, altered, revoked or expired (one message for all, so a
        caller learns nothing about which), or whose member left."""
        refused = PermissionDenied("the API token is not valid; ask a manager for a new one")
        if not isinstance(token, str) or not token.startswith(PREFIX) or len(token) > 200:
            raise refused
        token_id, _, secret = token[len(PREFIX) :].partition("_")
        if not token_id or not secret or not token_id.isalnum():
            raise refused
        record = self._records.find(token_id)
        if record is None or not hmac.compare_digest(record.digest, _digest(secret)):
            raise refused
        if not record.valid_at(self._basis.at(now)):
            raise refused
        member = self._staff.get(record.staff)
        if not member.active:
            raise refused
        return member


__all__ = ["ApiToken", "ApiTokenService", "IssuedToken"]
