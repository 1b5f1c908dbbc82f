"""``desk.staff``: the staff directory with careers on top: promotions with the appraisals
behind them, and each member's whole record (training, appraisals, incidents) in one view.

It stands above the services whose records it gathers, so it is built last; the services
below ask the same directory (one cache) who acts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time
from decimal import Decimal
from typing import Any

import attrs

from aftersales.core import values
from aftersales.core.boundary import public_api
from aftersales.core.careers import Condition, Eligibility, StaffRecord, attendance
from aftersales.core.convert import to_dict
from aftersales.core.duration import Duration, Unit
from aftersales.core.errors import PermissionDenied, ValidationError, WorkflowError
from aftersales.core.model import Promotion, Staff
from aftersales.core.permissions import not_own
from aftersales.services.appraisals import AppraisalService
from aftersales.services.safety import SafetyService
from aftersales.services.staff import StaffDirectory, role_list
from aftersales.services.training import TrainingService


@public_api("desk.staff")
class StaffService(StaffDirectory):
    """The directory (every method of :class:`StaffDirectory`) and the career view."""

    def __init__(
        self,
        directory: StaffDirectory,
        *,
        training: TrainingService,
        safety: SafetyService,
        appraisals: AppraisalService,
    ) -> None:
        # the same directory, not a copy: one cache, so the services below see every change
        super().__init__(directory._basis, directory.levels, cache=directory._cache,
                         teams=directory._team_index)  # fmt: skip
        self._training = training
        self._safety = safety
        self._appraisals = appraisals

    def eligibility(self, id: str, *, at: datetime | None = None) -> Eligibility:
        """Whether ``id`` may be promoted at ``at``, judged on each condition of the policy's
        ``promote when``: the last N finalized months each graded at least a grade, N months
        in the current level (since the last promotion, else since joining), a valid
        certificate."""
        staff = self.get(id)
        when = self._basis.at(at)
        policy = self._basis.policy
        found = []
        for rule in policy.promotion:
            if rule.kind == "graded":
                found.append(self._graded(id, rule))
            elif rule.kind == "level":
                found.append(self._in_level(staff, rule, when))
            else:
                held = self._training.record(id).valid(str(rule.certificate), when)
                detail = ("none valid" if held is None else
                          f"valid until {held.expires_at:%Y-%m-%d}" if held.expires_at
                          else "valid")  # fmt: skip
                found.append(Condition(rule.text, held is not None, detail, rule.location))
        return Eligibility(id, tuple(found))

    def _graded(self, id: str, rule: Any) -> Condition:
        appraisal = self._basis.policy.appraisal
        assert appraisal is not None  # the policy refuses "graded" without an appraisal
        months = self._appraisals.history(id)[-rule.months :]
        detail = ", ".join(f"{m.period} {m.grade or 'ungraded'}" for m in months) or "none"
        if len(months) < rule.months:
            return Condition(rule.text, False, f"{len(months)} finalized month(s): {detail}",
                             rule.location)  # fmt: skip
        bar = appraisal.rank(rule.grade)
        met = all(m.grade is not None and m.grade in [g.name for g in appraisal.grades]
                  and appraisal.rank(m.grade) <= bar for m in months)  # fmt: skip
        return Condition(rule.text, met, detail, rule.location)

    def _in_level(self, staff: Staff, rule: Any, when: datetime) -> Condition:
        tz = self._basis.policy.tz
        if staff.promotions:
            since, what = staff.promotions[-1].at, f"{staff.level} since"
        elif staff.level_since is not None:
            since = datetime.combine(staff.level_since, time(), tz)
            what = f"{staff.level} since"
        else:
            since, what = self._joined(staff.id), "on the team since"
        ready = self._basis.policy.add(since, Duration(Decimal(rule.months), Unit.MONTH))
        detail = f"{what} {since.astimezone(tz):%Y-%m-%d}"
        return Condition(rule.text, ready <= when, detail, rule.location)

    def _joined(self, id: str) -> datetime:
        events = self._basis.storage.events("staff", id)
        return datetime.fromisoformat(events[0]["at"]) if events else self._basis.now()

    def promote(
        self,
        id: str,
        *,
        to: str,
        by: str,
        reason: str,
        roles: Iterable[str] = (),
        override: str | None = None,
        at: datetime | None = None,
    ) -> Staff:
        """Move a member up the ladder (a manager or director, not for themselves). The
        member's finalized appraisals are recorded with the promotion; ``roles`` grants the
        new level's permissions (for example ``supervisor``) in the same step.

        The policy's ``promote when`` must hold (:meth:`eligibility`); when it does not, the
        promotion is refused naming the unmet conditions, unless a manager ``override``s with
        a reason, recorded on the promotion with what was not met."""
        actor = self._career_manager(by, "staff.promote", "promote staff")
        staff = self.get(id)
        not_own(actor, id, "promote themselves")
        if not staff.active:
            raise ValidationError(f"staff {id} is inactive")
        rank = self._level(to)
        if staff.level is not None and rank <= self.levels.index(staff.level):
            raise ValidationError(
                f"{id} is {staff.level}; a promotion goes up the ladder "
                f"({' -> '.join(self.levels)}), not to {to}"
            )
        added = tuple(r for r in role_list(id, roles) if r not in staff.roles)
        reason = values.text(reason, "the reason for a promotion")
        when = self._basis.at(at)
        unmet = self.eligibility(id, at=when).unmet
        said = "; ".join(f"{c.text} ({c.detail}; {c.rule})" for c in unmet)
        if override is not None:
            override = values.text(override, "the reason for the override").strip()
            if not unmet:
                raise ValidationError(f"{id} is eligible for promotion; there is nothing to "
                                      "override")  # fmt: skip
            if not actor.has_role("manager"):
                raise PermissionDenied(f"{by} cannot override the promotion rules; only a "
                                       "manager can, with a reason")  # fmt: skip
        elif unmet:
            raise WorkflowError(
                f"{id} is not eligible for promotion: {said}; a manager may promote anyway "
                "with override= and the reason"
            )
        history = tuple(self._appraisals.history(id))
        promotion = Promotion(staff.level, to, when, by, reason.strip(), history, added,
                              tuple(c.text for c in unmet) if override else (),
                              override)  # fmt: skip
        after = attrs.evolve(staff, level=to, roles=(*staff.roles, *added),
                             promotions=(*staff.promotions, promotion),
                             version=staff.version + 1)  # fmt: skip
        self._members.save(staff, after, "promoted", by, when, to_dict(promotion))
        return after

    def record(self, id: str) -> StaffRecord:
        """Everything about a member in one view: level, promotions, rotations, training
        attended, assessments and certificates, finalized appraisals with their outcomes and
        reviews, and the incidents they reported or were involved in."""
        staff = self.get(id)
        training = self._training.record(id)
        appraisals = self._appraisals
        return StaffRecord(
            staff=staff,
            levels=self.levels,
            promotions=staff.promotions,
            rotations=staff.rotations,
            training=tuple(attendance(c, s, id) for c, s in self._training.sessions_of(id)),
            assessments=training.assessments,
            certificates=training.certificates,
            appraisals=tuple(appraisals.history(id)),
            outcomes=tuple(o for o in appraisals.outcomes() if o.staff_id == id),
            follow_ups=tuple(appraisals.follow_ups(id)),
            reviews=tuple(r for r in appraisals.reviews(open_only=False) if r.staff_id == id),
            incidents=tuple(
                i for i in self._safety.incidents() if i.reported_by == id or id in i.people
            ),
        )


__all__ = ["StaffService"]
