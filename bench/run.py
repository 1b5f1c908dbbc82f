"""Benchmarks for issue 2, each measured side by side in one run. Prints a table.

Run: make bench   (or: python bench/run.py)
"""

from __future__ import annotations

import bisect
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from startup_bench import FIRST_LOAD

from aftersales import Duration, WorkCalendar, load_policy

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "rules" / "default.policy"
ROWS: list[tuple[str, str, str]] = []
# a quick pass (tests/test_benches.py): every bench runs, at a size that proves nothing
QUICK = os.environ.get("AFTERSALES_BENCH_QUICK") == "1"
MANY = 2_000 if QUICK else 100_000


def best(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(1 if QUICK else repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def row(name: str, value: str, note: str = "") -> None:
    ROWS.append((name, value, note))


# ---- loading ------------------------------------------------------------------------------
def bench_loading() -> None:
    firsts = [
        # the snippet imports load_policy before its timer: `import aftersales` alone no
        # longer imports the parser's modules (they load with the first public name used)
        float(subprocess.check_output([sys.executable, "-c", FIRST_LOAD, str(DEFAULT), "shipped"]))
        for _ in range(2 if QUICK else 7)
    ]
    row(
        "load default.policy, first in a fresh process",
        f"{statistics.median(firsts) * 1000:.1f} ms",
        "median of 7; parser tables included, import excluded; target < 25 ms",
    )
    load_policy(DEFAULT)
    n = 50
    repeated = best(lambda: [load_policy(DEFAULT) for _ in range(n)]) / n
    row("load default.policy, repeated", f"{repeated * 1000:.2f} ms", "target < 5 ms")


# ---- priority decisions -----------------------------------------------------------------------
def hand_written(case: dict) -> str:
    if case.get("severity") == "critical" or (
        case.get("machine_down")
        and (case.get("customer") or {}).get("tier") in ("gold", "platinum")
    ):
        return "urgent"
    return "general"


def bench_priorities() -> None:
    policy = load_policy(DEFAULT)
    rng = random.Random(7)
    cases = [
        {
            "severity": rng.choice(["critical", "major", "minor"]),
            "machine_down": rng.random() < 0.4,
            "customer": {"tier": rng.choice(["gold", "platinum", "silver", "standard"])},
        }
        for _ in range(MANY)
    ]
    decide = policy.priority_for
    assert all(decide(c).name == hand_written(c) for c in cases[:5000])
    ours = best(lambda: [decide(c) for c in cases])
    hand = best(lambda: [hand_written(c) for c in cases])
    row(
        "100k priority decisions: compiled policy",
        f"{ours * 1000:.0f} ms",
        f"{ours / hand:.2f}x hand-written; target <= 1.5x",
    )
    row("100k priority decisions: hand-written function", f"{hand * 1000:.0f} ms", "1.00x")
    try:
        import rule_engine
    except ImportError:
        row("100k priority decisions: rule-engine", "not installed", "pip install '.[bench]'")
        return
    rule = rule_engine.Rule(
        'severity == "critical" or (machine_down and customer["tier"] in ["gold", "platinum"])'
    )

    def with_rule_engine() -> None:
        for c in cases:
            "urgent" if rule.matches(c) else "general"

    slow = best(with_rule_engine, repeat=1)
    row(
        "100k priority decisions: rule-engine",
        f"{slow * 1000:.0f} ms",
        f"{slow / hand:.1f}x hand-written",
    )


# ---- working time -------------------------------------------------------------------------------
class HandBisect:
    """A hand-written bisect calendar: the same periods, no validation or policy layer."""

    def __init__(self, cal) -> None:
        spans = cal._cover(2025, 2029)
        self.starts, self.ends, self.cum, self.cum_end = (
            spans.starts,
            spans.ends,
            spans.cum,
            spans.cum_end,
        )
        self.tz = cal.tz

    def worked(self, ts: float) -> float:
        i = bisect.bisect_right(self.starts, ts) - 1
        if i < 0:
            return 0.0
        return self.cum[i] + (ts - self.starts[i]) if ts < self.ends[i] else self.cum_end[i]

    def add_seconds(self, start: datetime, seconds: float) -> datetime:
        ts = start.timestamp()
        k = bisect.bisect_right(self.ends, ts)
        target = self.worked(ts) + seconds
        j = bisect.bisect_left(self.cum_end, target, k)
        return datetime.fromtimestamp(self.starts[j] + target - self.cum[j], self.tz)

    def between(self, a: datetime, b: datetime) -> timedelta:
        return timedelta(seconds=self.worked(b.timestamp()) - self.worked(a.timestamp()))


def bench_working_time() -> None:
    policy = load_policy(DEFAULT)
    cal = policy.calendar()
    tz = ZoneInfo("Asia/Shanghai")
    rng = random.Random(11)
    base = datetime(2026, 1, 1, tzinfo=tz)
    instants = [base + timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60)) for _ in range(MANY)]
    four = Duration.parse("4 working hours")
    two_days = Duration.parse("2 working days")
    hand = HandBisect(cal)
    cal.add(instants[0], four)
    t_add = best(lambda: [cal.add(s, four) for s in instants], 3)
    t_hand = best(lambda: [hand.add_seconds(s, 4 * 3600) for s in instants], 3)
    t_days = best(lambda: [cal.add(s, two_days) for s in instants], 3)
    pairs = list(zip(instants, instants[1:] + instants[:1], strict=True))
    t_between = best(lambda: [cal.between(a, b) for a, b in pairs], 3)
    t_hand_between = best(lambda: [hand.between(a, b) for a, b in pairs], 3)
    row(
        "100k add 4 working hours",
        f"{t_add * 1000:.0f} ms",
        f"{t_add / t_hand:.2f}x hand-written bisect; target <= 2x",
    )
    row(
        "100k add 2 working days",
        f"{t_days * 1000:.0f} ms",
        f"{t_days / t_hand:.2f}x hand-written 4h add",
    )
    row(
        "100k between",
        f"{t_between * 1000:.0f} ms",
        f"{t_between / t_hand_between:.2f}x hand-written bisect",
    )
    try:
        import businesstimedelta as btd
    except ImportError:
        row("businesstimedelta", "not installed", "pip install '.[bench]'")
        return
    from datetime import time as dtime

    import pytz  # businesstimedelta works with pytz zones

    tz = pytz.timezone("Asia/Shanghai")
    morning = btd.WorkDayRule(
        start_time=dtime(8, 30), end_time=dtime(12), working_days=[0, 1, 2, 3, 4], tz=tz
    )
    afternoon = btd.WorkDayRule(
        start_time=dtime(13), end_time=dtime(17, 30), working_days=[0, 1, 2, 3, 4], tz=tz
    )
    # Its HolidayRule fails past the last listed holiday, so both sides use the plain week.
    rules = btd.Rules([morning, afternoon])
    plain = WorkCalendar("Asia/Shanghai", range(5), [(510, 720), (780, 1050)])
    sample = [s.astimezone(tz) for s in instants[:2000]]
    delta = btd.BusinessTimeDelta(rules, hours=4)
    t_btd = best(lambda: [s + delta for s in sample], 1) * (len(instants) / len(sample))
    t_plain = best(lambda: [plain.add(s, four) for s in sample], 1) * (len(instants) / len(sample))
    agree = sum(1 for s in sample if (s + delta) == plain.add(s, four)) / len(sample)
    row(
        "100k add 4 working hours: businesstimedelta",
        f"{t_btd * 1000:.0f} ms",
        f"{t_btd / t_plain:.1f}x ours on the same calendar (from 2k); agrees on {agree:.0%}",
    )


def main() -> None:
    bench_loading()
    bench_priorities()
    bench_working_time()
    width = max(len(r[0]) for r in ROWS)
    print(f"python {sys.version.split()[0]}, {datetime.now(timezone.utc):%Y-%m-%d}")
    for name, value, note in ROWS:
        print(f"{name:<{width}}  {value:>12}  {note}")


if __name__ == "__main__":
    main()
