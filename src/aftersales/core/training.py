"""Training records: assessments weighted per the policy, certificates with their validity."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import attrs


@attrs.frozen
class Assessment:
    """One attempt at a certificate's assessment."""

    certificate: str
    parts: dict[str, Decimal]  # the policy's assessment parts: theory, practical, ...
    score: Decimal
    passed: bool
    attempt: int
    at: datetime
    by: str
    retake_allowed: bool = False  # a failed attempt that may be taken again


@attrs.frozen
class Certificate:
    name: str
    issued_at: datetime
    expires_at: datetime | None

    def valid_at(self, when: datetime) -> bool:
        return self.issued_at <= when and (self.expires_at is None or when < self.expires_at)


@attrs.frozen
class TrainingRecord:
    """One staff member's assessments and certificates."""

    staff_id: str
    assessments: tuple[Assessment, ...] = ()
    certificates: tuple[Certificate, ...] = ()
    version: int = 0

    def valid(self, name: str, when: datetime) -> Certificate | None:
        """The staff member's certificate ``name`` valid at ``when``, if any."""
        return next((c for c in reversed(self.certificates) if c.name == name and c.valid_at(when)),
                    None)  # fmt: skip


__all__ = ["Assessment", "Certificate", "TrainingRecord"]
