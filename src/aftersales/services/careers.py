"""``desk.staff``: the staff directory with careers on top: promotions with the appraisals
behind them, and each member's whole record (training, appraisals, incidents) in one view.

It stands above the services whose records it gathers, so it is built last; the services
below ask the same directory (one cache) who acts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import attrs

from aftersales.core import values
from aftersales.core.boundary import public_api
from aftersales.core.careers import StaffRecord, attendance
from aftersales.core.convert import to_dict
from aftersales.core.errors import ValidationError
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

    def promote(
        self,
        id: str,
        *,
        to: str,
        by: str,
        reason: str,
        roles: Iterable[str] = (),
        at: datetime | None = None,
    ) -> Staff:
        """Move a member up the ladder (a manager or director, not for themselves). The
        member's finalized appraisals are recorded with the promotion; ``roles`` grants the
        new level's permissions (for example ``supervisor``) in the same step."""
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
        history = tuple(self._appraisals.history(id))
        promotion = Promotion(staff.level, to, when, by, reason.strip(), history, added)
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
            reviews=tuple(r for r in appraisals.reviews(open_only=False) if r.staff_id == id),
            incidents=tuple(
                i for i in self._safety.incidents() if i.reported_by == id or id in i.people
            ),
        )


__all__ = ["StaffService"]
