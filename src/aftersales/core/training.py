"""Training: the annual plan (courses, sessions, attendance), assessments weighted per the
policy, and certificates with their validity."""

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
    retake_session: str | None = None  # the planned session the member was enrolled in


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


AREAS = ("product_knowledge", "repair_skills", "customer_service", "safety")
METHODS = ("internal", "external", "on_site")


def _ids(values: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen
class Session:
    """One scheduled run of a course: who is enrolled and, once held, who attended."""

    id: str  # "<course>/<n>"
    starts_at: datetime
    hours: Decimal
    trainer: str
    place: str | None = None
    enrolled: tuple[str, ...] = attrs.field(default=(), converter=_ids)
    attended: tuple[str, ...] = attrs.field(default=(), converter=_ids)
    held: bool = False  # attendance was recorded

    @property
    def absent(self) -> tuple[str, ...]:
        return tuple(s for s in self.enrolled if self.held and s not in self.attended)


@attrs.frozen
class PlanWarning:
    """Something a year's plan leaves out that the policy's ``plan covers`` names."""

    year: int
    area: str
    message: str
    rule: str  # the policy's line


@attrs.frozen
class CourseReport:
    """How well one course of a year's plan worked: sessions held, who was enrolled and
    came, and the assessments of the certificate it prepares for taken that year by those
    enrolled, from their first session of it on (``retakes``: attempts after the first)."""

    course: str
    title: str
    area: str
    sessions: int
    held: int
    enrolled: int
    attended: int
    assessed: int
    passed: int
    retakes: int

    @property
    def attendance_rate(self) -> Decimal | None:
        return _rate(self.attended, self.enrolled)

    @property
    def pass_rate(self) -> Decimal | None:
        return _rate(self.passed, self.assessed)


def _rate(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1")) if whole else None


@attrs.frozen
class Course:
    """A course of the annual training plan."""

    id: str
    title: str
    year: int
    area: str  # one of AREAS
    method: str  # one of METHODS
    trainer: str  # a staff id or an outside trainer's name
    certificate: str | None = None  # the certificate it prepares for (retakes are booked here)
    sessions: tuple[Session, ...] = ()
    version: int = 0

    def session(self, session_id: str) -> Session | None:
        return next((s for s in self.sessions if s.id == session_id), None)


__all__ = [
    "AREAS",
    "METHODS",
    "Assessment",
    "Certificate",
    "Course",
    "CourseReport",
    "PlanWarning",
    "Session",
    "TrainingRecord",
]
