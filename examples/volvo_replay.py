"""Drive a real help-desk history through a desk at its real minutes: the Volvo IT incident
log of the BPI Challenge 2013 (../shared/data/bpic2013-volvo-incidents.csv.xz, 65,533 status
changes of 7,554 requests), under examples/volvo.policy.

Each status change becomes the desk actions it means: a request is reported at its first
row; ``Queued`` puts it in the named support team's queue (a change of team is a hand-over
between teams); ``Accepted`` gives it to the row's owner (taken from the queue, assigned or
reassigned) and its ``Wait`` sub-statuses are holds; ``Completed/In Call`` is a fix during the
call and ``Completed/Resolved`` a remote resolution; ``Completed/Closed`` is the customer's
acceptance and the close (no callback: ``callback optional``); an ``Accepted`` or ``Queued``
row after a resolution is the customer rejecting it, after a close a reopening. Support staff
are placeholder members (service agent and engineer, on the team they first appear in).

Every row the desk refuses is listed with its reason; the replay goes on with the next row.

Run: python examples/volvo_replay.py [--limit N | --all] [--storage URL] [--rejects FILE]
                                    [--log PATH]
     (default: the first 100 requests of ../shared/data's log, or of the 150-request sample in
     tests/data when the log is not there, on an in-memory store; --all: every request, 101,621
     desk actions, about 90 seconds on SQLite: --storage sqlite:///volvo.db)
"""

from __future__ import annotations

import argparse
import csv
import lzma
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from pathlib import Path
from typing import Any

from aftersales import AftersalesError, Case, ServiceDesk

HERE = Path(__file__).resolve().parent
FULL_LOG = HERE.parent.parent / "shared" / "data" / "bpic2013-volvo-incidents.csv.xz"
SAMPLE_LOG = HERE.parent / "tests" / "data" / "bpic2013-volvo-sample.csv.xz"  # 150 requests
LOG = FULL_LOG if FULL_LOG.is_file() else SAMPLE_LOG
POLICY = HERE / "volvo.policy"
DESK = "volvo-desk"  # the service agent who records what no person in the log did
WAITS = {
    "Wait - User": "user",
    "Wait - Vendor": "vendor",
    "Wait - Implementation": "implementation",
    "Wait - Customer": "customer",
    "Wait": "information",
}
_WORKING = ("assigned", "confirmed", "contacted", "on_site", "diagnosed")


@dataclass
class Replay:
    """What a replay did: counts, and every refused row with the reason."""

    requests: int = 0
    rows: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    ignored: Counter[str] = field(default_factory=Counter)
    refused: list[tuple[str, str, str, str]] = field(default_factory=list)  # sr, time, row, why


Request = tuple[str, list[dict[str, str]]]  # the SR number and its rows


def read_log(path: Path = LOG, limit: int | None = None) -> Iterator[Request]:
    """The log's requests in the order they first appear, each with its rows in time order
    (a stable sort: rows of one minute keep the log's order)."""
    with lzma.open(path, "rt", encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle)
        for n, (number, group) in enumerate(groupby(rows, key=lambda r: r["SR Number"])):
            if limit is not None and n >= limit:
                return
            yield number, sorted(group, key=lambda r: datetime.fromisoformat(r["Change Date+Time"]))


class VolvoReplay:
    """Applies the log's rows to a desk, request by request."""

    def __init__(self, desk: ServiceDesk) -> None:
        self.desk = desk
        self.result = Replay()
        self.staff: dict[str, str] = {}  # owner name -> staff id
        self.teams: set[str] = set()  # teams with a member
        if not desk.staff.list():
            desk.staff.add(id=DESK, name="Volvo IT service desk", roles=["service_agent"],
                           at=datetime.fromisoformat("2010-01-01T00:00:00+01:00"))  # fmt: skip
        self.cases = desk.cases

    # -- people ---------------------------------------------------------------------------------
    def member(self, name: str, team: str, at: datetime) -> str:
        """The staff id of the log's person ``name`` (a placeholder member, added when first
        seen, on the team they first appear in)."""
        name = name.strip() or "unknown"
        found = self.staff.get(name)
        if found is None:
            found = "volvo-" + (re.sub(r"\W+", "-", name.lower()).strip("-") or "x")
            found = f"{found}-{len(self.staff)}" if found in self.staff.values() else found
            self.desk.staff.add(id=found, name=f"{name} (placeholder from the Volvo log)",
                                roles=["service_agent", "engineer"], team=team, at=at)  # fmt: skip
            self.staff[name] = found
            self.teams.add(team)
        return found

    def crew(self, team: str, at: datetime) -> None:
        """Make sure ``team`` has a member, so the desk knows the team (a placeholder)."""
        if team not in self.teams:
            self.member(f"{team} crew", team, at)

    # -- the rows -------------------------------------------------------------------------------
    def replay(self, requests: Iterable[Request]) -> Replay:
        for number, rows in requests:
            self.result.requests += 1
            case: Case | None = None
            for row in rows:
                self.result.rows += 1
                try:
                    case = self.row(case, number, row)
                except AftersalesError as exc:  # the desk refused: list it, go on
                    what = f"{row['Status']}/{row['Sub Status']} by {row['Owner First Name']}"
                    self.result.refused.append((number, row["Change Date+Time"], what, str(exc)))
                    case = None if case is None else self.cases.get(case.id)
        return self.result

    def act(self, name: str, case: Case, **kwargs: Any) -> Case:
        self.result.actions[name] += 1
        done: Case = getattr(self.cases, name)(case.id, **kwargs)
        return done

    def row(self, case: Case | None, number: str, row: dict[str, str]) -> Case:
        at = datetime.fromisoformat(row["Change Date+Time"])
        status, sub, team = row["Status"], row["Sub Status"], row["Involved ST"]
        owner = self.member(row["Owner First Name"], team, at)
        if case is None:
            self.result.actions["report"] += 1
            case = self.cases.report(
                customer={"name": f"Volvo {row['Country'] or 'unknown'}", "region": row["Country"]},
                product={"model": row["Product"], "serial": number},
                fault=f"incident {number} on {row['Product']}",
                severity=row["SR Latest Impact"].lower(), channel="phone", by=DESK, at=at,
            )  # fmt: skip
        if status == "Unmatched":
            self.result.ignored["Unmatched (no meaning in the log)"] += 1
            return case
        if status in ("Accepted", "Queued"):
            case = self.back_to_work(case, at, f"{status}/{sub} after it was {case.status}")
        waiting = status == "Accepted" and sub in WAITS
        if case.on_hold and not (waiting and case.holds[-1].reason == f"waiting for {WAITS[sub]}"):
            case = self.act("release", case, by=DESK, at=at)
        if status == "Queued":
            return self.queued(case, team, at)
        if status == "Accepted":
            return self.accepted(case, owner, sub, at)
        return self.completed(case, owner, sub, at)

    def back_to_work(self, case: Case, at: datetime, why: str) -> Case:
        """A request worked on again: after a resolution the customer rejected it; after the
        close it is reopened."""
        if case.status == "repaired":
            assert case.repair is not None
            return self.act("reject", case, signed_by="the user", reason=why,
                            by=case.repair.engineer, at=at)  # fmt: skip
        if case.status == "accepted":  # accepted, not yet closed: close, then reopen
            case = self.act("close", case, by=DESK, at=at)
        if case.status == "closed":
            return self.act("reopen", case, by=DESK, reason=why, at=at)
        return case

    def queued(self, case: Case, team: str, at: datetime) -> Case:
        if case.status == "reported":
            case = self.act("respond", case, by=DESK, at=at)
        if case.team == team and case.engineer is None:
            self.result.ignored["Queued again for the same team"] += 1
            return case
        self.crew(team, at)
        return self.act("queue", case, team=team, by=DESK, at=at)

    def accepted(self, case: Case, owner: str, sub: str, at: datetime) -> Case:
        if case.status == "reported":
            case = self.act("respond", case, by=DESK, at=at)
        if case.engineer != owner:
            if case.status == "responded":
                staff = self.desk.staff.get(owner)
                if case.team is not None and staff.team == case.team:
                    case = self.act("take", case, by=owner, at=at)
                else:
                    case = self.act("assign", case, engineer=owner, by=DESK, at=at)
            else:
                case = self.act("reassign", case, engineer=owner, by=DESK, at=at,
                                reason=f"the log hands it to {owner}")  # fmt: skip
        if sub == "In Progress" and case.status == "assigned":
            case = self.act("confirm", case, by=owner, at=at)
        if sub in WAITS and not case.on_hold:
            case = self.act("hold", case, reason=WAITS[sub], by=owner, at=at)
        return case

    def completed(self, case: Case, owner: str, sub: str, at: datetime) -> Case:
        if sub == "Cancelled":
            return self.act("cancel", case, by=DESK, reason="cancelled in the log", at=at)
        if case.status in ("reported", "responded", "assigned", "confirmed", "contacted"):
            way = "phone" if sub == "In Call" else "remote_session"
            case = self.act("resolve", case, by=owner, way=way, actions=f"{sub} in the log",
                            result="the user's problem is solved", at=at)  # fmt: skip
        elif sub != "Closed":
            self.result.ignored[f"Completed/{sub} when already {case.status}"] += 1
        if sub != "Closed":
            return case
        if case.status == "repaired":
            assert case.repair is not None
            case = self.act("accept", case, signed_by="the user", by=case.repair.engineer, at=at)
        if case.status == "accepted":
            case = self.act("close", case, by=DESK, at=at)
        return case


def main(argv: list[str] | None = None) -> Replay:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=100, help="requests to replay (100)")
    parser.add_argument("--all", action="store_true", help="every request of the log")
    parser.add_argument("--storage", default="memory://", help="a storage URL (memory://)")
    parser.add_argument("--rejects", default=None, help="write the refused rows to this CSV")
    parser.add_argument("--log", type=Path, default=LOG, help=f"the log (default: {LOG.name})")
    args = parser.parse_args(argv)
    if not args.log.is_file():
        print(f"no log at {args.log}; nothing to replay")
        return Replay()
    with ServiceDesk(POLICY, args.storage) as desk:
        limit = None if args.all else args.limit
        result = VolvoReplay(desk).replay(read_log(args.log, limit))
        report = desk.sla.report(datetime.fromisoformat("2010-01-01T00:00:00+01:00"),
                                 datetime.fromisoformat("2013-01-01T00:00:00+01:00"),
                                 "milestone")  # fmt: skip
    actions = sum(result.actions.values())
    print(f"{result.requests} requests, {result.rows} rows, {actions} desk actions, "
          f"{len(result.refused)} refused")  # fmt: skip
    print("actions: " + ", ".join(f"{k} {v}" for k, v in result.actions.most_common()))
    if result.ignored:
        print("rows that change nothing: "
              + ", ".join(f"{k} {v}" for k, v in result.ignored.most_common()))  # fmt: skip
    for g in report.groups:
        rate = "-" if g.met_rate is None else f"{g.met_rate:.1%}"
        print(f"  {g.group:10} met {g.met:6}  breached {g.breached:6}  n/a {g.not_applicable:6}"
              f"  open {g.open:5}  met rate {rate}")  # fmt: skip
    for sr, when, what, why in result.refused[:20]:
        print(f"refused {sr} {when} {what}: {why}")
    if args.rejects:
        with open(args.rejects, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["SR Number", "Change Date+Time", "row", "reason"])
            writer.writerows(result.refused)
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
