"""Drive a real help-desk history through a desk at its real minutes: the Volvo IT incident
log of the BPI Challenge 2013 (../shared/data/bpic2013-volvo-incidents.csv.xz, 65,533 status
changes of 7,554 requests), under examples/volvo.policy, with the SDK's shipped mapping
(``volvo-bpic2013``: a queue row puts the request in its support team's queue, an accepted
row gives it to the row's owner, the waits are holds, "In Call" is a fix on the phone,
"Resolved" a remote resolution, "Closed" the close; docs/history.md says the rest).

Every row the desk refuses is listed with its reason; the import goes on with the next row.

Run: python examples/volvo_replay.py [--limit N | --all] [--storage URL] [--rejects FILE]
                                    [--log PATH]
     (default: the first 100 requests of ../shared/data's log, or of the 150-request sample
     in tests/data when the log is not there, on an in-memory store; --all: every request,
     about 100 seconds on SQLite: --storage sqlite:///volvo.db)
"""

from __future__ import annotations

import argparse
import csv
import lzma
import sys
import tempfile
from datetime import datetime
from itertools import groupby
from pathlib import Path

from aftersales import ImportResult, ServiceDesk
from aftersales.services.history import write_rejects

HERE = Path(__file__).resolve().parent
FULL_LOG = HERE.parent.parent / "shared" / "data" / "bpic2013-volvo-incidents.csv.xz"
SAMPLE_LOG = HERE.parent / "tests" / "data" / "bpic2013-volvo-sample.csv.xz"  # 150 requests
LOG = FULL_LOG if FULL_LOG.is_file() else SAMPLE_LOG
POLICY = HERE / "volvo.policy"


def first_requests(log: Path, limit: int, into: Path) -> Path:
    """The log's first ``limit`` requests, as a CSV file of their own."""
    with lzma.open(log, "rt", encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle)
        header = next(rows)
        with into.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            for n, (_, group) in enumerate(groupby(rows, key=lambda r: r[0])):
                if n >= limit:
                    break
                writer.writerows(group)
    return into


def replay(desk: ServiceDesk, log: Path = LOG, limit: int | None = None) -> ImportResult:
    """Import the log (its first ``limit`` requests) into ``desk``."""
    if limit is None:
        return desk.history.import_file(log, mapping="volvo-bpic2013")
    with tempfile.TemporaryDirectory() as tmp:
        part = first_requests(log, limit, Path(tmp) / "part.csv")
        return desk.history.import_file(part, mapping="volvo-bpic2013", source="volvo-bpic2013")


def main(argv: list[str] | None = None) -> ImportResult | None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--limit", type=int, default=100, help="requests to replay (100)")
    parser.add_argument("--all", action="store_true", help="every request of the log")
    parser.add_argument("--storage", default="memory://", help="a storage URL (memory://)")
    parser.add_argument("--rejects", default=None, help="write the refused rows to this CSV")
    parser.add_argument("--log", type=Path, default=LOG, help=f"the log (default: {LOG.name})")
    args = parser.parse_args(argv)
    if not args.log.is_file():
        print(f"no log at {args.log}; nothing to replay")
        return None
    with ServiceDesk(POLICY, args.storage) as desk:
        result = replay(desk, args.log, None if args.all else args.limit)
        report = desk.sla.report(datetime.fromisoformat("2010-01-01T00:00:00+01:00"),
                                 datetime.fromisoformat("2013-01-01T00:00:00+01:00"),
                                 "milestone")  # fmt: skip
    steps = sum(result.actions.values()) + sum(result.implied.values())
    print(f"{result.cases} requests, {result.rows} rows, {steps} desk actions, "
          f"{len(result.rejects)} refused")  # fmt: skip
    print("actions: " + ", ".join(f"{k} {v}" for k, v in result.actions.most_common()))
    print("implied: " + ", ".join(f"{k} {v}" for k, v in result.implied.most_common()))
    if result.ignored:
        print("rows that change nothing: "
              + ", ".join(f"{k} {v}" for k, v in result.ignored.most_common()))  # fmt: skip
    for g in report.groups:
        rate = "-" if g.met_rate is None else f"{g.met_rate:.1%}"
        print(f"  {g.group:10} met {g.met:6}  breached {g.breached:6}  n/a {g.not_applicable:6}"
              f"  open {g.open:5}  met rate {rate}")  # fmt: skip
    for r in result.rejects[:20]:
        print(f"refused line {r.line} ({r.case}): {r.reason}")
    if args.rejects:
        write_rejects(result.rejects, args.rejects)
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
