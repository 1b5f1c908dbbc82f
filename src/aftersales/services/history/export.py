"""A case's events as timeline rows: what ``aftersales import`` reads back, so a desk's own
history can be replayed under another policy (and the replay checked against the desk)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from aftersales.core.installed_base import CASE_PARTS
from aftersales.core.model import CaseEvent

# event type -> (timeline action, the event data's fields it keeps)
_ACTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "responded": ("respond", ()),
    "assigned": ("assign", ("engineer", "instructions")),
    "reassigned": ("reassign", ("engineer", "reason", "instructions")),
    "queued": ("queue", ("team", "reason")),
    "unassigned": ("unassign", ("reason",)),
    "confirmed": ("confirm", ()),
    "contacted": ("contact", ("appointment",)),
    "arrived": ("arrive", ()),
    "diagnosed": ("diagnose", ("cause", "complexity")),
    "repaired": ("complete", ("actions", "result", "cause")),
    "resolved": ("resolve", ("way", "actions", "result", "cause")),
    "accepted": ("accept", ("signed_by",)),
    "rejected": ("reject", ("signed_by", "reason")),
    "released": ("release", ()),
    "delay_notified": ("notify_delay", ("milestone", "reason", "new_eta", "told", "channel")),
    "followed_up": ("follow_up", ("satisfaction", "comments")),
    "closed": ("close", ()),
    "reopened": ("reopen", ("reason",)),
    "cancelled": ("cancel", ("reason",)),
}


def timeline_rows(key: str, events: Iterable[CaseEvent]) -> Iterator[dict[str, Any]]:
    """The timeline rows of one case's events (``key``: the case's key in the file)."""
    for event in events:
        d = event.data
        row: dict[str, Any] = {"case": key, "time": event.at.isoformat(), "actor": event.by}
        if event.type == "reported":
            customer, product = d["customer"], d["product"]
            row.update(action="report", customer=customer.get("name"), tier=customer.get("tier"),
                       region=customer.get("region"), model=product.get("model"),
                       line=product.get("line"), serial=product.get("serial"), fault=d["fault"],
                       fault_code=d.get("fault_code"), severity=d["severity"],
                       channel=d["channel"], machine_down=d["machine_down"],
                       contact=d.get("contact"))  # fmt: skip
            row.update({f"custom.{k}": v for k, v in (d.get("custom") or {}).items()})
            base = {k: d[k] for k in CASE_PARTS if d.get(k)}
            if base:
                row["installed_base"] = json.dumps(base, ensure_ascii=False, sort_keys=True)
        elif event.type == "held":
            row.update(action="hold", reason=d["reason"].removeprefix("waiting for "))
        elif event.type == "safety_checked":
            row.update(action="checklist", items=";".join(d["items"]))
        elif event.type == "updated":
            changes = d["changes"]
            row.update(action="update", reason=d["reason"], severity=changes.get("severity"),
                       fault_code=changes.get("fault_code"))  # fmt: skip
        elif event.type in _ACTIONS:
            action, keep = _ACTIONS[event.type]
            row["action"] = action
            row.update({k: d.get(k) for k in keep})
            if event.type in ("repaired", "resolved") and d.get("parts_used"):
                row["parts"] = ";".join(f"{p['sku']}:{p['quantity']}" for p in d["parts_used"])
        else:  # a policy re-applied: no row of its own (the import runs under one policy)
            continue
        if event.by == "":  # the desk acting on a rule (close automatically)
            row["actor"] = None
        yield {k: ("" if v is None else str(v).lower() if isinstance(v, bool) else str(v))
               for k, v in row.items()}  # fmt: skip


__all__ = ["timeline_rows"]
