"""One member's whole record: career, training, appraisals and safety, in one view."""

from __future__ import annotations

import attrs

from aftersales.core.appraisal import DismissalReview, FollowUp, Outcome
from aftersales.core.model import PeriodResult, Promotion, Rotation, Staff
from aftersales.core.safety import Incident
from aftersales.core.training import Assessment, Certificate, Course, Session


@attrs.frozen
class Attendance:
    """A training session a member was enrolled in, and whether they came."""

    course: str
    title: str
    area: str
    session: str
    starts_at: str
    hours: str
    attended: bool | None  # None: not held yet


@attrs.frozen
class StaffRecord:
    """``desk.staff.record(staff_id)``: everything the desk knows about a member."""

    staff: Staff
    levels: tuple[str, ...]  # the desk's career ladder, lowest first
    promotions: tuple[Promotion, ...]
    rotations: tuple[Rotation, ...]
    training: tuple[Attendance, ...]
    assessments: tuple[Assessment, ...]
    certificates: tuple[Certificate, ...]
    appraisals: tuple[PeriodResult, ...]  # finalized months
    outcomes: tuple[Outcome, ...]  # rewards and improvement plans
    follow_ups: tuple[FollowUp, ...]  # what they set in motion, and whether it was done
    reviews: tuple[DismissalReview, ...]
    incidents: tuple[Incident, ...]  # reported by the member or involving them

    @property
    def level(self) -> str | None:
        return self.staff.level


@attrs.frozen
class Condition:
    """One condition of the policy's ``promote when``, judged for a member."""

    text: str  # as the policy means it: "the last 3 finalized months graded at least good"
    met: bool
    detail: str  # what the record shows: "2026-09 pass, 2026-10 good, 2026-11 good"
    rule: str  # the policy's line


@attrs.frozen
class Eligibility:
    """Whether a member may be promoted now, condition by condition (no ``promote when``
    in the policy: no conditions, eligible)."""

    staff_id: str
    conditions: tuple[Condition, ...] = ()

    @property
    def eligible(self) -> bool:
        return all(c.met for c in self.conditions)

    @property
    def unmet(self) -> tuple[Condition, ...]:
        return tuple(c for c in self.conditions if not c.met)


def attendance(course: Course, session: Session, staff_id: str) -> Attendance:
    return Attendance(course.id, course.title, course.area, session.id,
                      session.starts_at.isoformat(), str(session.hours),
                      (staff_id in session.attended) if session.held else None)  # fmt: skip


__all__ = ["Attendance", "Condition", "Eligibility", "StaffRecord", "attendance"]
