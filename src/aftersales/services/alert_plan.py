"""The SLA alerts of an open case, worked out ahead and kept in its index row.

Each clock of a case warns at the policy's levels and breaches at its deadline (or at the new
time a delay notice gives). Until the case's next action those instants do not move, unless
the case is on hold (held time pushes the deadlines on as it passes) or an action was dated
ahead of the clock. So the desk works them out once, with the action, and writes them as the
case's *alert plan*; a tick then sends what has come due from the plan alone, without reading
and decoding the case or doing calendar arithmetic again. A case that cannot be planned ahead
has no plan, and the tick reads it as before.

A plan is JSON: when it was made (the case's latest action, UTC text), the case's fields a
notification names, and each alert in the order the tick would raise them::

    {"made": "...", "case": [number, customer, engineer, reported_by],
     "alerts": [[at, key, kind, level, milestone, priority, target, rule, due], ...]}
"""

from __future__ import annotations

import json
from datetime import datetime

import attrs

from aftersales.core.model import Case
from aftersales.core.workflow import FINAL
from aftersales.ports.storage import utc_text


@attrs.frozen
class Alert:
    """One instant a clock raises a notification: a warning level, its breach, or the start
    of a callback clock (``callback:start``). ``key`` is what the ledger records it under."""

    at: datetime
    key: str
    kind: str  # sla_warning, sla_breach or callback_due
    level: str | None  # warn:75, breach; None for callback_due
    milestone: str
    priority: str
    target: str | None  # the target as the policy states it
    rule: str | None  # where in the policy
    due: str | None  # the clock's deadline (ISO text), as the notification says it


@attrs.frozen
class Addressee:
    """What a notification about a case names of it."""

    case_id: str
    number: str
    customer: str
    engineer: str | None
    reported_by: str

    @classmethod
    def of(cls, case: Case) -> Addressee:
        return cls(case.id, case.number, case.customer.name, case.engineer, case.reported_by)


def plannable(case: Case, now: datetime) -> bool:
    """Whether the case's alerts as read at ``now`` hold for every later moment until its
    next action: it is open, not on hold, and nothing in it is dated after ``now``."""
    return case.status not in FINAL and not case.on_hold and case.updated_at <= now


def encode(case: Case, made: datetime, alerts: list[Alert]) -> str:
    """The plan of ``case`` made at ``made`` (see the module's text)."""
    rows = [[a.at.isoformat(), a.key, a.kind, a.level, a.milestone, a.priority, a.target,
             a.rule, a.due] for a in alerts]  # fmt: skip
    head = [case.number, case.customer.name, case.engineer, case.reported_by]
    plan = {"made": utc_text(made), "case": head, "alerts": rows}
    return json.dumps(plan, ensure_ascii=False, separators=(",", ":"))


def decode(case_id: str, plan: str) -> tuple[str, Addressee, list[Alert]]:
    """When the plan was made (UTC text), whom its notifications name, and its alerts."""
    data = json.loads(plan)
    number, customer, engineer, reported_by = data["case"]
    alerts = [
        Alert(datetime.fromisoformat(at), key, kind, level, milestone, priority, target, rule,
              due)
        for at, key, kind, level, milestone, priority, target, rule, due in data["alerts"]
    ]  # fmt: skip
    return data["made"], Addressee(case_id, number, customer, engineer, reported_by), alerts


def next_at(alerts: list[Alert], now: datetime, sent: set[str]) -> datetime | None:
    """The first of ``alerts`` after ``now`` not sent yet: when a tick should look again."""
    return min((a.at for a in alerts if a.at > now and a.key not in sent), default=None)


__all__ = ["Addressee", "Alert", "decode", "encode", "next_at", "plannable"]
