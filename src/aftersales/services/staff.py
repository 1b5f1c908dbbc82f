"""The staff directory: the team, stored as events like everything else, their levels on the
desk's ladder and their job rotations. The bottom of the services: every other one asks it
who acts. ``desk.staff`` is this plus the career view above it (:mod:`.careers`)."""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterable
from datetime import date, datetime

import attrs

from aftersales.core import values
from aftersales.core.boundary import public_api
from aftersales.core.convert import to_dict
from aftersales.core.errors import (
    NotFound,
    PermissionDenied,
    ValidationError,
    WorkflowError,
)
from aftersales.core.model import ROLES, Rotation, Staff
from aftersales.core.permissions import permit
from aftersales.core.values import shown
from aftersales.services.basis import Basis
from aftersales.services.cache import SnapshotCache
from aftersales.services.repository import Repository

KIND = "staff"


def role_list(id: str, roles: Iterable[str]) -> tuple[str, ...]:
    listed = [roles] if isinstance(roles, str) else values.items(roles, f"staff {id}: roles")
    if len(listed) > len(ROLES) * 2 or not all(isinstance(r, str) for r in listed):
        raise ValidationError(f"staff {id}: roles is a list of roles, from: " + ", ".join(ROLES))
    found = tuple(dict.fromkeys(listed))
    unknown = [r for r in found if r not in ROLES]
    if unknown:
        raise ValidationError(
            f"staff {id}: unknown role {', '.join(map(repr, unknown))}; roles are "
            + ", ".join(ROLES)
        )
    return found


_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")


def _language(value: object) -> str | None:
    """A language tag (``en``, ``zh-CN``), or None."""
    if value is None:
        return None
    if not isinstance(value, str) or not _LANGUAGE.fullmatch(value):
        raise ValidationError(f"language is a tag such as en or zh-CN, not {shown(value)}")
    return value


class _Keep:
    """The default of :meth:`StaffDirectory.update`'s fields: leave the value as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()


def _contact(
    id: str, *, email: str | None, phone: str | None, team: str | None
) -> tuple[str | None, str | None, str | None]:
    """Contact details checked: text or None, an e-mail address with one ``@``; blank is None."""
    out: list[str | None] = [values.email(email, f"staff {id}: email")]
    for label, value in (("phone", phone), ("team", team)):
        if isinstance(value, str) and not value.strip():
            value = None  # blank clears it
        out.append(values.name(value, f"staff {id}: {label}", required=False))
    return out[0], out[1], out[2]


@attrs.define
class TeamIndex:
    """Each team's active members as last read (None: read again when asked)."""

    teams: dict[str, tuple[Staff, ...]] | None = None


@public_api("desk.staff")
class StaffDirectory:
    """Who is on the team, with which roles, and who may act."""

    def __init__(
        self,
        basis: Basis,
        levels: tuple[str, ...],
        *,
        cache: SnapshotCache[Staff] | None = None,
        teams: TeamIndex | None = None,
    ) -> None:
        self._basis = basis
        self.levels = levels
        self._cache = cache or SnapshotCache(basis.storage, KIND, Staff, size=8192)
        self._members = Repository(basis.storage, KIND, Staff, "staff member")
        # the active members of each team, read once (queueing a case asks it every time),
        # shared with the career view built on this directory, so a change by either is seen
        self._team_index = teams or TeamIndex()

    def add(
        self,
        *,
        id: str,
        name: str,
        roles: Iterable[str],
        supervisor: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        level: str | None = None,
        team: str | None = None,
        language: str | None = None,
        level_since: date | None = None,
        at: datetime | None = None,
    ) -> Staff:
        """Add a team member. ``roles`` from ``service_agent``, ``engineer``, ``supervisor``,
        ``manager``, ``storekeeper``, ``finance``, ``director``; ``level`` a step of the
        desk's career ladder (``desk.levels``), if they are on it, and ``level_since`` the
        day they reached it (for ``promote when ... months in level``; default: ``at``);
        ``email`` is where the e-mail notifier writes to them, ``team`` which team's webhook
        hears about them."""
        id = values.name(id, "a staff id")
        name = values.name(name, f"staff {id}: the name")
        roles = role_list(id, roles)
        if not roles:
            raise ValidationError(f"staff {id} needs at least one role: " + ", ".join(ROLES))
        if level is not None:
            self._level(level)
        if supervisor is not None:
            if supervisor == id:
                raise ValidationError(f"staff {id} cannot supervise themselves")
            self.get(supervisor)
        email, phone, team = _contact(id, email=email, phone=phone, team=team)
        when = self._basis.at(at)
        if level_since is not None:
            level_since = values.day(level_since, "level_since")
            if level is None:
                raise ValidationError(f"staff {id}: level_since needs the level they reached")
            if level_since > when.astimezone(self._basis.policy.tz).date():
                raise ValidationError(
                    f"staff {id}: level_since {level_since} is after {when:%Y-%m-%d}"
                )
        staff = Staff(id, name, roles, supervisor, email, phone, True, 1, level, team=team,
                      language=_language(language), level_since=level_since)  # fmt: skip
        self._members.create(
            staff, "staff_added", id, when, to_dict(attrs.evolve(staff, version=0))
        )
        known = self._team_index.teams
        if known is not None and team is not None:  # a new member joins a team as read
            known[team] = (*known.get(team, ()), staff)
        return staff

    def get(self, id: str) -> Staff:
        """The staff member ``id``; NotFound if there is none."""
        staff = self._cache.get(id)
        if staff is None:
            raise NotFound(f"no staff member {shown(id)}")
        return staff

    def list(self, *, role: str | None = None, active: bool | None = True) -> builtins.list[Staff]:
        """Team members in id order: by default the active ones; ``active=None`` for all."""
        members = self._members.all(self._cache.decode)
        return [
            s
            for s in members
            if (role is None or role in s.roles) and (active is None or s.active == active)
        ]

    def update(
        self,
        id: str,
        *,
        by: str,
        email: str | _Keep | None = KEEP,
        phone: str | _Keep | None = KEEP,
        team: str | _Keep | None = KEEP,
        language: str | _Keep | None = KEEP,
        at: datetime | None = None,
    ) -> Staff:
        """Change a member's contact details, team or language; ``None`` clears one, a
        left-out one stays. ``by`` is the member themselves, or a supervisor or manager."""
        staff = self.get(id)
        actor = self.actor(by)
        permit(actor, "staff.update", f"change staff {id}'s details", related=actor.id == id)
        new_email, new_phone, new_team = _contact(
            id,
            email=staff.email if isinstance(email, _Keep) else email,
            phone=staff.phone if isinstance(phone, _Keep) else phone,
            team=staff.team if isinstance(team, _Keep) else team,
        )
        new_language = staff.language if isinstance(language, _Keep) else _language(language)
        after = attrs.evolve(staff, email=new_email, phone=new_phone, team=new_team,
                             language=new_language, version=staff.version + 1)  # fmt: skip
        fields = ("email", "phone", "team", "language")
        changes: dict[str, object] = {
            k: getattr(after, k) for k in fields if getattr(after, k) != getattr(staff, k)
        }
        if not changes:
            return staff
        self._team_index.teams = None
        self._members.save(staff, after, "staff_updated", by, self._basis.at(at), changes)
        return after

    def deactivate(self, id: str, *, by: str, at: datetime | None = None) -> Staff:
        """Mark a member inactive: they keep their history but can no longer act. ``by`` is
        a manager; the last active manager cannot be deactivated (nobody could undo it)."""
        staff = self.get(id)
        actor = permit(self.actor(by), "staff.deactivate", f"deactivate staff {id}")
        if not staff.active:
            raise ValidationError(f"staff {id} is already inactive")
        if staff.has_role("manager") and self.with_role("manager") == [id]:
            raise WorkflowError(
                f"{id} is the last active manager; add or reactivate another manager first"
            )
        after = attrs.evolve(staff, active=False, version=staff.version + 1)
        self._team_index.teams = None
        self._members.save(staff, after, "staff_deactivated", actor.id, self._basis.at(at), {})
        return after

    def reactivate(self, id: str, *, by: str, at: datetime | None = None) -> Staff:
        """Let an inactive member act again (a manager, never the member themselves)."""
        staff = self.get(id)
        # an inactive member cannot act, so not on their own record
        actor = permit(self.actor(by), "staff.reactivate", f"reactivate staff {id}")
        if staff.active:
            raise ValidationError(f"staff {id} is active already")
        after = attrs.evolve(staff, active=True, version=staff.version + 1)
        self._team_index.teams = None
        self._members.save(staff, after, "staff_reactivated", actor.id, self._basis.at(at), {})
        return after

    # -- careers ---------------------------------------------------------------------------------
    def rotate(
        self,
        id: str,
        *,
        to: str,
        start: datetime,
        by: str,
        end: datetime | None = None,
        reason: str | None = None,
        at: datetime | None = None,
    ) -> Staff:
        """Record a job rotation (a manager or director): ``to`` the assignment (the parts
        store, a region, the hotline) from ``start`` until ``end`` (None: open). Rotations of
        one member do not overlap."""
        self._career_manager(by, "staff.rotate", "rotate staff")
        staff = self.get(id)
        to = values.name(to, "a rotation's assignment")
        reason = values.text(reason, "a rotation's reason", required=False)
        begin = self._basis.at(start)
        finish = None if end is None else self._basis.at(end)
        if finish is not None and finish <= begin:
            raise ValidationError(f"a rotation ends after it starts ({begin:%Y-%m-%d})")
        for other in staff.rotations:
            if (other.end is None or begin < other.end) and (
                finish is None or other.start < finish
            ):
                until = "open" if other.end is None else f"{other.end:%Y-%m-%d}"
                raise ValidationError(
                    f"{id} is on rotation to {other.assignment} from {other.start:%Y-%m-%d} "
                    f"({until}) then; end it first (desk.staff.end_rotation)"
                )
        rotation = Rotation(to.strip(), begin, by, finish, reason)
        rotations = tuple(sorted((*staff.rotations, rotation), key=lambda r: r.start))
        after = attrs.evolve(staff, rotations=rotations, version=staff.version + 1)
        self._team_index.teams = None
        self._members.save(staff, after, "rotated", by, self._basis.at(at), to_dict(rotation))
        return after

    def end_rotation(self, id: str, *, end: datetime, by: str, at: datetime | None = None) -> Staff:
        """End the member's open rotation at ``end``."""
        self._career_manager(by, "staff.end_rotation", "end rotations")
        staff = self.get(id)
        current = next((r for r in staff.rotations if r.end is None), None)
        if current is None:
            raise ValidationError(f"{id} has no open rotation")
        finish = self._basis.at(end)
        if finish <= current.start:
            raise ValidationError(f"a rotation ends after it starts ({current.start:%Y-%m-%d})")
        ended = attrs.evolve(current, end=finish)
        rotations = tuple(ended if r is current else r for r in staff.rotations)
        after = attrs.evolve(staff, rotations=rotations, version=staff.version + 1)
        self._team_index.teams = None
        self._members.save(staff, after, "rotation_ended", by, self._basis.at(at),
                    {"assignment": current.assignment, "end": finish.isoformat()})  # fmt: skip
        return after

    def _level(self, level: str) -> int:
        if level not in self.levels:
            raise ValidationError(
                f"unknown level {shown(level)}; the ladder is {' -> '.join(self.levels)}"
            )
        return self.levels.index(level)

    def _career_manager(self, by: str, action: str, what: str) -> Staff:
        return permit(self.actor(by), action, what)

    def actor(self, id: str) -> Staff:
        """The active staff member ``id``, for checking who acts."""
        if not isinstance(id, str) or not id:
            raise ValidationError("by= must name a staff member")
        staff = self.get(id)
        if not staff.active:
            raise PermissionDenied(f"staff {id} is inactive and cannot act")
        return staff

    def team(self, name: str) -> tuple[Staff, ...]:
        """The active members of team ``name`` (empty if it has none). Read from the store
        once and again after this desk changes a member, or when asked for a team it has not
        seen (a member another desk process just added)."""
        known = self._team_index.teams
        if known is None or name not in known:
            teams: dict[str, builtins.list[Staff]] = {}
            for member in self.list():
                if member.team is not None:
                    teams.setdefault(member.team, []).append(member)
            known = self._team_index.teams = {t: tuple(m) for t, m in teams.items()}
        return known.get(name, ())

    def teams(self) -> builtins.list[str]:
        """The teams with an active member, by name."""
        self.team("")  # reads the directory if it was never read
        return sorted(self._team_index.teams or {})

    def with_role(self, *roles: str) -> builtins.list[str]:
        """Ids of the active members holding any of ``roles``."""
        return [s.id for s in self.list() if s.has_role(*roles)]
