"""Stock reads over a large ledger: 10 000 parts, 1 000 000 movements on SQLite.

Run: python bench/parts_bench.py [parts] [movements]   (defaults: 10 000 and 1 000 000)
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from aftersales import ServiceDesk, to_dict
from aftersales.core.parts import Movement, Part, apply

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime.fromisoformat("2026-01-05T08:00+08:00")
LOCATIONS = ["WH", "BIN-A", "BIN-B", "VAN1", "VAN2"]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    total = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    per_part = total // count
    rng = random.Random(4)
    with tempfile.TemporaryDirectory() as tmp:
        desk = ServiceDesk(ROOT / "rules" / "default.policy", f"sqlite:///{Path(tmp) / 'p.db'}",
                           entry_points=False)  # fmt: skip
        started = time.perf_counter()
        batch = 200
        for first in range(0, count, batch):
            with desk.storage.transaction() as tx:
                for i in range(first, min(count, first + batch)):
                    part = Part(f"P{i:05d}", f"Part {i}", f"cat{i % 40}",
                                rng.randint(1, 500) * 1, reorder_point=5,
                                reorder_quantity=20)  # fmt: skip
                    events = [{"version": 1, "type": "part_added", "at": T0.isoformat(),
                               "by": "sk1", "data": to_dict(part)}]  # fmt: skip
                    part = Part(**{**vars_of(part), "version": 1})
                    at = T0
                    for n in range(per_part - 1):
                        at += timedelta(minutes=rng.randint(1, 300))
                        if n % 2 == 0 or not part.on_hand:
                            m = Movement(part.sku, part.version + 1, "received", at, "sk1",
                                         rng.randint(1, 20), location="WH")  # fmt: skip
                        else:
                            where = rng.choice([loc for loc, q in part.on_hand.items() if q])
                            to = rng.choice([loc for loc in LOCATIONS if loc != where])
                            m = Movement(part.sku, part.version + 1, "transferred", at, "sk1",
                                         rng.randint(1, part.on_hand[where]), location=where,
                                         to_location=to)  # fmt: skip
                        part = apply(part, m)
                        stamp = m.at.isoformat()
                        events.append({"version": m.version, "type": m.type, "at": stamp,
                                       "by": "sk1", "data": to_dict(m)})  # fmt: skip
                    tx.append("part", part.sku, 0, events, to_dict(part))
        seeded = time.perf_counter() - started
        skus = [f"P{rng.randrange(count):05d}" for _ in range(200)]
        started = time.perf_counter()
        seen = sum(desk.parts.part(sku).total for sku in skus)
        one = (time.perf_counter() - started) / len(skus)
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            value, _ = desk.parts.valuation()
            best = min(best, time.perf_counter() - started)
        rows = [
            (f"on-hand of one part ({per_part} movements each)", f"{one * 1000:.2f} ms",
             f"mean of 200 random parts ({seen:,} units); target < 5 ms"),
            (f"valuation of {count:,} parts", f"{best * 1000:,.0f} ms",
             f"best of 3; value {value}; target < 2 s"),
            (f"seeding {count * per_part:,} movements", f"{seeded:.0f} s", "setup"),
        ]  # fmt: skip
        width = max(len(r[0]) for r in rows)
        for name, result, note in rows:
            print(f"{name:<{width}}  {result:>10}  {note}")
        desk.close()


def vars_of(part: Part) -> dict[str, object]:
    return {f: getattr(part, f) for f in ("sku", "name", "category", "unit_cost", "unit",
            "specification", "reorder_point", "reorder_quantity", "shelf_life_days",
            "product_lines", "on_hand", "reserved")}  # fmt: skip


if __name__ == "__main__":
    main()
