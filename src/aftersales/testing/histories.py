"""Synthetic service histories in the timeline format, of any length, for benchmarks and for
tests of the history readers (``aftersales replay``, ``desk.history``).

The cases follow ``rules/lift-trucks.policy``'s world: most are visited (report, respond,
assign, confirm, contact with an appointment, arrive, diagnose, complete, the customer's
signature, a callback for most, close), some wait on hold for parts, some are rejected once
and repaired again, some are fixed by phone. Reports arrive through a year's working hours;
the rows are written case by case (as an export lists them) or, with ``interleaved``, in
time order (as an audit trail lists them).
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from aftersales.services.history.timeline import COLUMNS

_ZONE = ZoneInfo("Europe/Berlin")
_START = datetime(2025, 1, 6, 8, 0, tzinfo=_ZONE)
_CUSTOMERS = [("Kaufland Logistik", "gold"), ("Bauhaus Depot", "standard"),
              ("Rhenus Lager", "platinum"), ("Metro Cash", "standard")]  # fmt: skip
_FAULTS = [("mast will not lift", "HYD-LIFT", "major"),
           ("display shows E12", "ELEC-E12", "minor"),
           ("hydraulic leak", "HYD-LEAK", "critical"),
           ("brake squeals", "BRK-01", "minor")]  # fmt: skip


def _case(n: int, rng: random.Random, at: datetime) -> list[dict[str, str]]:
    key = f"G-{n:07d}"
    customer, tier = rng.choice(_CUSTOMERS)
    fault, code, severity = rng.choice(_FAULTS)
    agent, engineer = f"Agent {rng.randrange(8)}", f"Engineer {rng.randrange(40)}"
    rows: list[dict[str, str]] = []

    def row(action: str, actor: str, minutes: float, **fields: str) -> None:
        nonlocal at
        at += timedelta(minutes=minutes)  # in UTC: local arithmetic would skip DST hours
        local = at.astimezone(_ZONE).isoformat(timespec="minutes")
        rows.append({"case": key, "time": local, "action": action, "actor": actor, **fields})

    row("report", agent, 0, customer=customer, tier=tier, model="LT-25", serial=f"S{n}",
        fault=fault, fault_code=code, severity=severity,
        machine_down=rng.choice(["true", "false"]))  # fmt: skip
    if rng.random() < 0.2:  # fixed on the phone
        row("resolve", agent, rng.uniform(5, 90), way="phone", actions="guided a reset",
            result="runs")  # fmt: skip
        row("accept", agent, rng.uniform(1, 30), signed_by="the driver")
        row("close", agent, rng.uniform(60, 3000))
        return rows
    row("respond", agent, rng.uniform(2, 60))
    row("assign", agent, rng.uniform(2, 120), engineer=engineer)
    row("confirm", engineer, rng.uniform(5, 120))
    visit = (at + timedelta(hours=rng.uniform(2, 60))).astimezone(_ZONE)
    row("contact", engineer, rng.uniform(5, 60), appointment=visit.isoformat(timespec="minutes"))
    row("arrive", engineer, max((visit - at).total_seconds() / 60 + rng.uniform(-20, 90), 1))
    row("diagnose", engineer, rng.uniform(10, 90), cause="worn seal",
        complexity=rng.choice(["simple", "simple", "complex"]))  # fmt: skip
    if rng.random() < 0.15:
        row("hold", engineer, rng.uniform(5, 30), reason="parts")
        row("release", engineer, rng.uniform(120, 4000))
    row("complete", engineer, rng.uniform(30, 400), actions="replaced the seal", result="holds")
    if rng.random() < 0.1:  # the customer rejects it once
        row("reject", engineer, rng.uniform(5, 60), signed_by="Mr Kaya", reason="still leaks")
        row("complete", engineer, rng.uniform(60, 600), actions="new seal", result="dry")
    row("accept", engineer, rng.uniform(5, 60), signed_by="Mr Kaya")
    if rng.random() < 0.7:
        row("follow_up", agent, rng.uniform(600, 4000), satisfaction=str(rng.randint(2, 5)))
    row("close", agent, rng.uniform(5, 600))
    return rows


def write_history(
    path: str | Path, events: int, *, seed: int = 1, interleaved: bool = False
) -> int:
    """Write a synthetic history of about ``events`` rows to ``path`` (CSV); returns the
    rows written. With ``interleaved`` the rows are in time order, cases mixed."""
    rng = random.Random(seed)
    written = n = 0
    at = _START.astimezone(timezone.utc)
    pending: list[dict[str, str]] = []
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, COLUMNS, extrasaction="ignore")
        writer.writeheader()
        while written < events:
            n += 1
            at += timedelta(minutes=rng.expovariate(1 / 6))  # a report every 6 minutes
            if at.astimezone(_ZONE).hour >= 17:  # the next working morning
                at = (
                    (at.astimezone(_ZONE) + timedelta(days=1))
                    .replace(hour=8)
                    .astimezone(timezone.utc)
                )
            rows = _case(n, rng, at)
            written += len(rows)
            if interleaved:
                pending += rows
            else:
                writer.writerows(rows)
        if interleaved:  # by instant: the offsets change with daylight saving
            pending.sort(key=lambda r: datetime.fromisoformat(r["time"]))
            writer.writerows(pending)
    return written


__all__ = ["write_history"]
