"""``desk.staff``: the team, stored as events like everything else."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from aftersales.core.convert import from_dict, to_dict
from aftersales.core.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from aftersales.core.model import ROLES, Staff
from aftersales.services.cache import SnapshotCache

if TYPE_CHECKING:
    from aftersales.services.desk import ServiceDesk

KIND = "staff"


class StaffService:
    def __init__(self, desk: ServiceDesk) -> None:
        self.desk = desk
        self._cache = SnapshotCache(desk.storage, KIND, Staff, size=1024)

    def add(
        self,
        *,
        id: str,
        name: str,
        roles: Iterable[str],
        supervisor: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        at: datetime | None = None,
    ) -> Staff:
        """Add a team member. ``roles`` from ``service_agent``, ``engineer``, ``supervisor``,
        ``manager``, ``storekeeper``, ``finance``, ``director``."""
        if not isinstance(id, str) or not id.strip():
            raise ValidationError("a staff id must be non-empty text")
        if not isinstance(name, str) or not name.strip():
            raise ValidationError(f"staff {id}: the name must be non-empty text")
        roles = tuple(dict.fromkeys([roles] if isinstance(roles, str) else roles))
        unknown = [r for r in roles if r not in ROLES]
        if unknown or not roles:
            raise ValidationError(
                f"staff {id}: unknown role {', '.join(map(repr, unknown))}; roles are "
                + ", ".join(ROLES)
                if unknown
                else f"staff {id} needs at least one role: " + ", ".join(ROLES)
            )
        if supervisor is not None:
            if supervisor == id:
                raise ValidationError(f"staff {id} cannot supervise themselves")
            self.get(supervisor)
        when = self.desk.at(at)
        staff = Staff(id, name, roles, supervisor, email, phone, True, 1)
        self._write(staff, 0, "staff_added", when, id, to_dict(attrs.evolve(staff, version=0)))
        return staff

    def get(self, id: str) -> Staff:
        """The staff member ``id``; NotFound if there is none."""
        staff = self._cache.get(id)
        if staff is None:
            raise NotFound(f"no staff member {id!r}")
        return staff

    def list(self, *, role: str | None = None, active: bool | None = True) -> builtins.list[Staff]:
        """Team members in id order: by default the active ones; ``active=None`` for all."""
        members = [from_dict(Staff, r.data) for r in self.desk.storage.scan(KIND)]
        return [
            s
            for s in members
            if (role is None or role in s.roles) and (active is None or s.active == active)
        ]

    def deactivate(self, id: str, *, by: str | None = None, at: datetime | None = None) -> Staff:
        """Mark a member inactive: they keep their history but can no longer act."""
        staff = self.get(id)
        if not staff.active:
            raise ValidationError(f"staff {id} is already inactive")
        after = attrs.evolve(staff, active=False, version=staff.version + 1)
        self._write(after, staff.version, "staff_deactivated", self.desk.at(at), by or id, {})
        return after

    def actor(self, id: str) -> Staff:
        """The active staff member ``id``, for checking who acts."""
        if not isinstance(id, str) or not id:
            raise ValidationError("by= must name a staff member")
        staff = self.get(id)
        if not staff.active:
            raise PermissionDenied(f"staff {id} is inactive and cannot act")
        return staff

    def with_role(self, *roles: str) -> builtins.list[str]:
        """Ids of the active members holding any of ``roles``."""
        return [s.id for s in self.list() if s.has_role(*roles)]

    def _write(
        self, staff: Staff, expected: int, kind: str, at: datetime, by: str, data: dict[str, object]
    ) -> None:
        event = {
            "version": staff.version,
            "type": kind,
            "at": at.isoformat(),
            "by": by,
            "data": data,
        }
        try:
            with self.desk.storage.transaction() as tx:
                tx.append(KIND, staff.id, expected, [event], to_dict(staff))
        except ConflictError:
            if expected == 0:
                raise ConflictError(f"there is already a staff member {staff.id!r}") from None
            raise
