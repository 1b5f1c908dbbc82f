"""Safety records: the tool register and incident reports."""

from __future__ import annotations

from datetime import datetime

import attrs

SEVERITIES = ("near_miss", "minor", "serious", "fatal")


def _tuple(values: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen
class Tool:
    """A registered tool: when it was last inspected, and who has it."""

    id: str
    name: str
    last_inspected: datetime
    holder: str | None = None  # the engineer it is checked out to
    version: int = 0


@attrs.frozen
class Action:
    """A corrective action of an incident, tracked to completion."""

    description: str
    owner: str
    done_at: datetime | None = None


@attrs.frozen
class Incident:
    id: str
    happened_at: datetime
    reported_at: datetime
    reported_by: str
    severity: str
    description: str
    people: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    case_id: str | None = None
    late: bool = False  # reported after the policy's "report incidents within"
    actions: tuple[Action, ...] = ()
    version: int = 0
    # the policy's ``incident SEVERITY to ROLES, investigate within ...`` line, if one
    # covers the severity: the roles told at once and the deadline of the investigation
    # and its corrective actions
    rule: str | None = None
    told: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    due: datetime | None = None
    findings: str | None = None  # the investigation's, once it is recorded
    investigated_by: str | None = None
    investigated_at: datetime | None = None

    @property
    def open_actions(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.done_at is None)

    @property
    def closed(self) -> bool:
        """Investigated, and every corrective action done."""
        return self.findings is not None and not self.open_actions

    def overdue(self, now: datetime) -> bool:
        """Past its deadline and not closed."""
        return self.due is not None and self.due <= now and not self.closed


__all__ = ["SEVERITIES", "Action", "Incident", "Tool"]
