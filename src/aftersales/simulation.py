"""``aftersales simulate``: a month of after-sales work, run through a real desk.

A discrete-event simulation. Cases arrive by a Poisson process whose rate follows the
weekday and the hour; each gets a customer tier, a severity and whether the machine is down
from a realistic mix, so the policy decides a realistic mix of priorities. Customer service
answers and assigns, engineers confirm, call, travel, diagnose and repair (simple jobs in
hours, complex ones over days), customers sometimes reject a repair, engineers are sometimes
late (and sometimes tell the customer first), jobs wait for parts, customers are called back.
The team's behaviour does not depend on the policy: the policy only judges it, so two
policies compared on the same load (``--compare``) show what each would make of the same
month. Every step is a real action on a ``ServiceDesk`` over SQLite; SLA ticks run every
simulated hour. The same seed gives the same report.
"""

from __future__ import annotations

import csv
import functools
import heapq
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import attrs

from aftersales.core.duration import Duration, Unit
from aftersales.core.errors import ValidationError
from aftersales.core.model import Case, Notification
from aftersales.policy import Policy
from aftersales.ports.hookspecs import hookimpl
from aftersales.services.desk import ServiceDesk
from aftersales.services.sla import SlaReport

T = TypeVar("T")
WEEKDAY_WEIGHT = (1.15, 1.05, 1.0, 1.0, 0.95, 0.35, 0.15)  # Monday first
HOUR_WEIGHT = (
    (0.1,) * 6 + (0.4, 0.9, 1.6, 1.9, 1.8, 1.4, 0.9, 1.3, 1.6, 1.5, 1.3, 1.0)
    + (0.6, 0.4, 0.3, 0.2, 0.15, 0.1)
)  # fmt: skip
SEVERITY_MIX = (("critical", 0.08), ("major", 0.42), ("minor", 0.50))
TIER_MIX = (("platinum", 0.05), ("gold", 0.20), ("silver", 0.35), ("standard", 0.40))
CHANNEL_MIX = (("phone", 0.6), ("email", 0.15), ("online", 0.25))
LINES = (("excavator", "EX-350"), ("loader", "WL-80"), ("crane", "TC-25"), ("drill", "RD-12"))
FAULTS = (
    ("HYD-PUMP", "hydraulic pump leaking"),
    ("ENG-START", "engine will not start"),
    ("ELEC-CTRL", "controller shows error E42"),
    ("TRK-WEAR", "track tension lost"),
    ("BRK-FAIL", "brake pressure low"),
)
CSV_COLUMNS = (
    "reported_at", "customer", "tier", "region", "model", "line", "serial", "fault",
    "fault_code", "severity", "machine_down", "channel", "complexity",
)  # fmt: skip


@attrs.frozen
class Arrival:
    """One case to report: the fields of ``desk.cases.report`` and its repair complexity."""

    at: datetime
    customer: dict[str, Any]
    product: dict[str, Any]
    fault: str
    fault_code: str
    severity: str
    machine_down: bool
    channel: str
    complexity: str


@attrs.frozen
class Rates:
    """How often the simulated month leaves the field visit done right, each a share of the
    cases (0 to 1). Which cases they are is drawn per case from the seed, so two policies
    compared on the same month meet the same customers; what follows is each policy's:

    - ``remote``: could be fixed without a visit; customer service fixes it on the call where
      the policy lets a service agent ``resolve remotely``, else the engineer after
      confirming where it lets an engineer, else an engineer goes on site as usual.
    - ``queued``: goes to a regional crew's queue (half the engineers each) and waits for a
      member to take it, instead of being assigned to a person at once.
    - ``reopened``: the repair does not hold; the customer calls again a few days after the
      close, and the case is reopened where the policy's ``reopen within`` allows it (else
      the fault is only counted).
    - ``unanswered``: the customer cannot be reached for the callback; the case is closed
      without it where ``callback optional``, left to ``close automatically``, or called
      again the next working day.
    - ``contracts``: a share of the customers (of the generated installed base) hold a
      service contract for all their machines, a third of them premium.
    - ``consent``: a share of those customers' contacts agreed to be surveyed.
    - ``surveys``: of the survey links sent, the share the customer answers, a few days
      after the close (lower scores than the callback's: a survey is where the unhappy
      speak up); a score at or below the policy's ``complaint when`` opens a complaint.
    """

    remote: float = 0.15
    queued: float = 0.3
    reopened: float = 0.04
    unanswered: float = 0.2
    contracts: float = 0.3
    consent: float = 0.7
    surveys: float = 0.4

    def __attrs_post_init__(self) -> None:
        for name in ("remote", "queued", "reopened", "unanswered", "contracts"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                0 <= value <= 1
            ):  # fmt: skip
                raise ValidationError(f"the {name} rate is a share from 0 to 1, not {value!r}")


@attrs.frozen
class _Traits:
    """What happens to one case whatever the policy: drawn from the seed and the case."""

    remote: bool
    queued: bool
    reopened: bool
    unanswered: bool


class _Mailroom:
    """The simulation's mail server: takes every customer's message (so delay notices sent
    as messages count) and keeps the survey links for the customers who answer them."""

    name = "simulation-mailroom"
    aftersales_inline = True

    def __init__(self) -> None:
        self.surveys: dict[str, str] = {}
        self.sent: dict[str, int] = {}

    @hookimpl
    def aftersales_notify(self, notification: Notification) -> str | None:
        to = notification.to
        if to is None:
            return None
        self.sent[notification.kind] = self.sent.get(notification.kind, 0) + 1
        if notification.kind == "customer_survey" and notification.case_id and notification.text:
            self.surveys[notification.case_id] = notification.text.split("token=")[1].split()[0]
        return to.channel


@attrs.frozen
class EngineerLoad:
    engineer: str
    jobs: int
    busy: timedelta
    available: timedelta

    @property
    def utilisation(self) -> float:
        return 0.0 if not self.available else self.busy / self.available


@attrs.frozen
class SimulationResult:
    policy: str
    start: datetime
    end: datetime
    cases: int
    actions: int
    notifications: dict[str, int]
    by_priority: SlaReport
    by_milestone: SlaReport
    engineers: tuple[EngineerLoad, ...]
    backlog: tuple[tuple[date, int], ...]  # open cases at the end of each day
    outcomes: dict[str, int]  # rejections, late arrivals, notices, holds, cancellations
    arrivals: tuple[Arrival, ...] = attrs.field(repr=False, default=())
    ignored_columns: tuple[str, ...] = ()  # of a --replay file: what the simulation did not use


@dataclass(order=True)
class _Event:
    at: datetime
    seq: int
    run: Callable[[], None] = field(compare=False)


def _pick(rng: random.Random, mix: tuple[tuple[str, float], ...]) -> str:
    roll, total = rng.random(), 0.0
    for value, weight in mix:
        total += weight
        if roll < total:
            return value
    return mix[-1][0]


def generate_arrivals(
    rng: random.Random, start: datetime, days: int, per_day: float
) -> list[Arrival]:
    """Poisson arrivals over ``days`` from ``start`` (local midnight), ``per_day`` on an
    average day, shaped by weekday and hour."""
    norm = sum(WEEKDAY_WEIGHT) / 7 * sum(HOUR_WEIGHT)
    # a machine breaks again now and then: about one report in twenty repeats a machine
    serials = [f"SN{n:05d}" for n in range(max(50, int(per_day * days * 2)))]
    arrivals = []
    for day in range(days):
        midnight = start + timedelta(days=day)
        weekday = midnight.weekday()
        for hour in range(24):
            rate = per_day * WEEKDAY_WEIGHT[weekday] * HOUR_WEIGHT[hour] / norm  # per hour
            t = 0.0
            while True:
                t += rng.expovariate(rate) if rate > 0 else 2.0
                if t >= 1.0:
                    break
                at = midnight + timedelta(hours=hour + t)
                code, fault = FAULTS[rng.randrange(len(FAULTS))]
                line, model = LINES[rng.randrange(len(LINES))]
                severity = _pick(rng, SEVERITY_MIX)
                arrivals.append(
                    Arrival(
                        at=at.replace(second=0, microsecond=0),
                        customer={
                            "name": f"Customer {rng.randrange(1, 120):03d}",
                            "tier": _pick(rng, TIER_MIX),
                            "region": rng.choice(["north", "south", "east", "west", "export"]),
                        },
                        product={"model": model, "line": line, "serial": rng.choice(serials)},
                        fault=fault,
                        fault_code=code,
                        severity=severity,
                        machine_down=rng.random() < (0.8 if severity == "critical" else 0.3),
                        channel=_pick(rng, CHANNEL_MIX),
                        complexity="complex" if rng.random() < 0.25 else "simple",
                    )
                )
    arrivals.sort(key=lambda a: a.at)
    return arrivals


def ignored_columns(path: str | Path) -> tuple[str, ...]:
    """The columns of a ``--replay`` file the simulation does not read: it keeps each case's
    report and simulates everything after it (a timeline of real events is for ``aftersales
    replay``)."""
    with open(path, encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle), [])
    return tuple(c for c in header if c not in CSV_COLUMNS)


def read_arrivals(path: str | Path, policy: Policy, rng: random.Random) -> list[Arrival]:
    """Historical cases from a CSV file (columns in ``docs/simulate.md``)."""
    file = Path(path)
    try:
        text = file.read_text("utf-8")
    except OSError as exc:
        raise ValidationError(f"cannot read {file}: {exc.strerror or exc}") from exc
    reader = csv.DictReader(text.splitlines())
    missing = [
        c
        for c in ("reported_at", "customer", "fault", "severity")
        if c not in (reader.fieldnames or [])
    ]
    if missing:
        raise ValidationError(
            f"{file}: missing column(s) {', '.join(missing)}; see docs/simulate.md"
        )
    arrivals = []
    for n, row in enumerate(reader, start=2):
        try:
            at = datetime.fromisoformat(row["reported_at"])
        except ValueError as exc:
            raise ValidationError(
                f"{file}:{n}: reported_at {row['reported_at']!r} is not ISO 8601"
            ) from exc
        if at.tzinfo is None:
            at = at.replace(tzinfo=policy.tz)
        down = (row.get("machine_down") or "").strip().lower() in ("1", "true", "yes")
        complexity = row.get("complexity") or ("complex" if rng.random() < 0.25 else "simple")
        arrivals.append(
            Arrival(
                at=at,
                customer={"name": row["customer"], "tier": row.get("tier") or None,
                          "region": row.get("region") or None},
                product={"model": row.get("model") or None, "line": row.get("line") or None,
                         "serial": row.get("serial") or None},
                fault=row["fault"],
                fault_code=row.get("fault_code") or "UNKNOWN",
                severity=row["severity"],
                machine_down=down,
                channel=row.get("channel") or "phone",
                complexity=complexity,
            )
        )  # fmt: skip
    arrivals.sort(key=lambda a: a.at)
    return arrivals


class Simulation:
    """One run: a fresh desk on ``db``, the arrivals, the team, the event loop."""

    def __init__(
        self,
        policy: Policy | str | Path,
        db: Path,
        arrivals: list[Arrival],
        *,
        start: datetime,
        days: int,
        engineers: int,
        agents: int,
        seed: int,
        progress: Callable[[float], None] | None = None,
        rates: Rates | None = None,
    ) -> None:
        self.rates = rates or Rates()
        self.seed = seed
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        self.mailroom = _Mailroom()
        self.desk = ServiceDesk(policy, f"sqlite:///{db.resolve()}", entry_points=False,
                                plugins=[self.mailroom])  # fmt: skip
        self.policy = self.desk.policy
        self.ppe = self.policy.safety.ppe if self.policy.safety else ()
        self.rng = random.Random(seed)
        self.start = start
        self.end = start + timedelta(days=days)
        self.arrivals = [a for a in arrivals if start <= a.at < self.end]
        self.progress = progress
        self.calendar = self.policy.calendar(None) if None in self.policy.calendars else None
        desk = self.desk
        desk.staff.add(id="mgr", name="Service manager", roles=["manager"], at=start)
        self.agents = [f"cs{n + 1}" for n in range(agents)]
        for a in self.agents:
            desk.staff.add(
                id=a, name=f"Agent {a}", roles=["service_agent"], supervisor="mgr", at=start
            )
        self.engineers = [f"eng{n + 1:02d}" for n in range(engineers)]
        self.teams: dict[str, list[str]] = {"north": [], "south": []}
        for n, e in enumerate(self.engineers):
            crew = "north" if n < (engineers + 1) // 2 else "south"
            self.teams[crew].append(e)
            desk.staff.add(id=e, name=f"Engineer {e}", roles=["engineer"], supervisor="mgr",
                           team=crew, at=start)  # fmt: skip
        self.teams = {crew: members for crew, members in self.teams.items() if members}
        self.traits: dict[str, _Traits] = {}
        self.arrival_of: dict[str, Arrival] = {}
        training = self.policy.training
        if training is not None:  # a trained team: every certificate the policy asks for
            full = {part.name: 100 for part in training.assessment}
            for name in dict.fromkeys(rule.certificate for rule in training.certificates):
                for e in self.engineers:
                    desk.training.assess(e, certificate=name, scores=full, by="mgr", at=start)
        self.free_at = dict.fromkeys(self.engineers, start)
        self.busy = dict.fromkeys(self.engineers, timedelta(0))
        self.jobs = dict.fromkeys(self.engineers, 0)
        self.queue: list[_Event] = []
        self.seq = 0
        self.actions = 0
        self.notifications: dict[str, int] = {}
        self.outcomes = dict.fromkeys(
            ("rejections", "late arrivals", "delay notices", "holds", "cancelled", "reworks",
             "remote fixes", "queued", "reopened", "repeat faults not reopened",
             "unanswered callbacks", "maintenance visits", "under sales warranty",
             "under contract", "surveys answered", "complaints", "complaints resolved late"), 0,
        )  # fmt: skip
        self.contacts: dict[str, str] = {}  # customer name -> their contact's address
        self.handled: set[str] = set()  # complaints whose handling is scheduled
        self.open: set[str] = set()
        self.backlog: list[tuple[date, int]] = []
        # the installed base: each machine's meter at the start and hours run per day
        self.meters: dict[str, tuple[float, float]] = {}
        self._installed_base()

    def _installed_base(self) -> None:
        """Customers, machines and contracts for the arrivals' serials, drawn from the seed
        alone (the same for both policies of ``--compare``): each machine is owned by the
        customer of its first report, commissioned up to eight years before the start, and
        has run 2-8 hours a day since; a share of the customers hold a contract."""
        draw = random.Random(f"{self.seed}/installed base")
        desk, start = self.desk, self.start
        owners: dict[str, dict[str, Any]] = {}
        for a in self.arrivals:
            serial = a.product.get("serial")
            if serial and serial not in self.meters:
                name = a.customer.get("name")
                if not name:
                    continue
                owner = owners.get(name)
                if owner is None:
                    address = f"service{len(owners) + 1}@customer.example"
                    consent = random.Random(f"{self.seed}/consent/{name}").random()
                    contact = {"name": f"Service contact of {name}", "email": address,
                               "consent": consent < self.rates.consent}  # fmt: skip
                    record = desk.customers.add(
                        name=name, tier=a.customer.get("tier"), region=a.customer.get("region"),
                        contacts=[contact], by="mgr", at=start,
                    )  # fmt: skip
                    owners[name] = owner = {"id": record.id}
                    self.contacts[name] = address
                age = draw.randint(30, 8 * 365)
                per_day = draw.uniform(2, 8)
                hours = round(age * per_day, 1)
                self.meters[serial] = (hours, per_day)
                desk.machines.add(
                    serial=serial, model=a.product.get("model"), line=a.product.get("line"),
                    customer=owner["id"], commissioned=(start - timedelta(days=age)).date(),
                    hours=hours, by="mgr", at=start,
                )  # fmt: skip
                # served on time before the month: the last visit somewhere in the plan's
                # period (or the hours' worth of days) before the start
                for plan in self.policy.maintenance_plans(a.product.get("line")):
                    days = (plan.hours or 0) / per_day
                    if plan.every is not None:
                        period = self.policy.add(start, plan.every) - start
                        days = min(days, period / timedelta(days=1)) if days else period.days
                    back = draw.uniform(0, min(days, age))
                    desk.machines.maintained(
                        serial, plan=plan.name, at=start - timedelta(days=back),
                        hours=round(max(0.0, hours - back * per_day), 1), by="mgr",
                    )  # fmt: skip
        for _, owner in sorted(owners.items()):
            if draw.random() < self.rates.contracts:
                level = "premium" if draw.random() < 1 / 3 else "basic"
                desk.contracts.add(
                    customer=owner["id"], level=level, starts=(start - timedelta(days=180)).date(),
                    ends=(start + timedelta(days=365)).date(), by="mgr", at=start,
                    response="4h" if level == "premium" else None,
                )  # fmt: skip

    def reading(self, serial: str | None, engineer: str, at: datetime) -> None:
        """The engineer on site reads the machine's meter."""
        meter = None if serial is None else self.meters.get(serial)
        if meter is None:
            return
        hours = meter[0] + meter[1] * (at - self.start) / timedelta(days=1)
        machine = self.desk.machines.get(serial)  # type: ignore[arg-type]
        last = machine.reading
        if last is None or (at >= last.at and hours >= last.hours):
            self.act(self.desk.machines.reading, serial, round(hours, 1), by=engineer, at=at)

    # -- time helpers -------------------------------------------------------------------------
    def working(self, at: datetime, minutes: float) -> datetime:
        """``minutes`` of working time after ``at`` on the company calendar."""
        if self.calendar is None:
            return at + timedelta(minutes=minutes)
        duration = Duration(Decimal(round(minutes, 2)), Unit.MINUTE, working=True)
        return self.calendar.add(at, duration)

    def later(self, at: datetime, minutes: float, urgent: bool) -> datetime:
        """When someone gets to a task ``minutes`` of effort after ``at``: round the clock
        for urgent cases (on call), in working hours otherwise."""
        return at + timedelta(minutes=minutes) if urgent else self.working(at, minutes)

    def exp(self, mean: float) -> float:
        return self.rng.expovariate(1 / mean)

    # -- the loop -----------------------------------------------------------------------------
    def schedule(self, at: datetime, run: Callable[[], None]) -> None:
        self.seq += 1
        heapq.heappush(self.queue, _Event(at, self.seq, run))

    def run(self) -> SimulationResult:
        for arrival in self.arrivals:
            self.schedule(arrival.at, functools.partial(self.report, arrival))
        hour = self.start + timedelta(hours=1)
        while hour <= self.end:
            self.schedule(hour, functools.partial(self.tick, hour))
            hour += timedelta(hours=1)
        total = (self.end - self.start).total_seconds()
        while self.queue:
            event = heapq.heappop(self.queue)
            if event.at > self.end:
                break
            event.run()
            if self.progress is not None:
                self.progress((event.at - self.start).total_seconds() / total)
        return self.result()

    def tick(self, now: datetime) -> None:
        self.complaints(now)
        for note in self.desk.sla.tick(now):
            self.notifications[note.kind] = self.notifications.get(note.kind, 0) + 1
            if note.kind == "case_closed_automatically" and note.case_id is not None:
                self.closed(note.case_id, now)
            elif note.kind == "maintenance_due" and note.case_id is not None:
                self.visit(note.case_id, now)
        if now.astimezone(self.policy.tz).hour == 0:
            self.backlog.append(
                ((now - timedelta(hours=1)).astimezone(self.policy.tz).date(), len(self.open))
            )

    def act(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        self.actions += 1
        return fn(*args, **kwargs)

    # -- a case's life ------------------------------------------------------------------------
    def report(self, a: Arrival) -> None:
        agent = self.rng.choice(self.agents)
        case = self.act(
            self.desk.cases.report,
            customer=a.customer, product=a.product, fault=a.fault, fault_code=a.fault_code,
            severity=self._severity(a.severity), machine_down=a.machine_down,
            channel=a.channel, custom=self._custom(), by=agent, at=a.at,
            contact=self.contacts.get(a.customer.get("name") or ""),
        )  # fmt: skip
        self.open.add(case.id)
        self.arrival_of[case.id] = a
        # drawn from the seed and the case alone, so policy B meets the same customers
        draw = random.Random(f"{self.seed}/{a.at.isoformat()}/{a.customer['name']}/{a.fault}")
        r = self.rates
        rolls = [draw.random() for _ in range(4)]
        self.traits[case.id] = _Traits(rolls[0] < r.remote, rolls[1] < r.queued,
                                       rolls[2] < r.reopened, rolls[3] < r.unanswered)  # fmt: skip
        if case.rework_of:
            self.outcomes["reworks"] += 1
        if case.coverage is not None and case.coverage.kind == "sales_warranty":
            self.outcomes["under sales warranty"] += 1
        elif case.coverage is not None and case.coverage.kind == "contract":
            self.outcomes["under contract"] += 1
        urgent = self._urgent(case)
        if self.rng.random() < 0.02:
            when = self.later(a.at, 30 + self.exp(120), urgent)
            self.schedule(when, lambda: self.cancel(case.id, agent, when))
            return
        when = self.later(a.at, self.exp(8 if urgent else 35), urgent)
        self.schedule(when, lambda: self.respond(case.id, agent, when, urgent, a))

    def visit(self, case_id: str, now: datetime) -> None:
        """A maintenance case the tick opened: worked like a report, a simple job."""
        case = self.desk.cases.get(case_id)
        self.open.add(case_id)
        self.outcomes["maintenance visits"] += 1
        self.traits[case_id] = _Traits(False, False, False, self.rng.random() < 0.2)
        a = Arrival(at=now, customer={"name": case.customer.name},
                    product={"serial": case.product.serial}, fault=case.fault, fault_code="",
                    severity=case.severity, machine_down=False, channel="maintenance",
                    complexity="simple")  # fmt: skip
        self.arrival_of[case_id] = a
        agent = self.rng.choice(self.agents)
        when = self.later(now, self.exp(60), False)
        self.schedule(when, lambda: self.respond(case_id, agent, when, False, a))

    def _severity(self, severity: str) -> str:
        """A generated severity in the policy's own words (``severities``, worst first): the
        built-in three map by rank."""
        declared = self.policy.severities
        if severity in declared:
            return severity
        rank = [name for name, _ in SEVERITY_MIX].index(severity) if severity in dict(
            SEVERITY_MIX) else len(declared) - 1  # fmt: skip
        return declared[min(rank, len(declared) - 1)]

    def _custom(self) -> dict[str, Any]:
        """Values for the policy's custom fields with a fixed set of values (``one of``, or
        bool): what a priority table reads."""
        out: dict[str, Any] = {}
        for name, decl in self.policy.fields.items():
            if decl.choices:
                out[name.removeprefix("custom.")] = self.rng.choice(decl.choices)
            elif decl.type == "bool":
                out[name.removeprefix("custom.")] = self.rng.random() < 0.3
        return out

    def _urgent(self, case: Case) -> bool:
        target = self.policy.sla(case.priority).target("response")
        return bool(target and target.duration and not target.duration.working)

    def cancel(self, case_id: str, agent: str, at: datetime) -> None:
        self.act(self.desk.cases.cancel, case_id, by=agent, reason="customer fixed it", at=at)
        self.open.discard(case_id)
        self.outcomes["cancelled"] += 1

    def respond(self, case_id: str, agent: str, at: datetime, urgent: bool, a: Arrival) -> None:
        traits = self.traits[case_id]
        if traits.remote and "service_agent" in self.policy.resolve_remotely:
            when = at + timedelta(minutes=5 + self.exp(15))  # solved during the call
            self.schedule(when, lambda: self.resolve(case_id, agent, agent, when))
            return
        self.act(self.desk.cases.respond, case_id, by=agent, at=at)
        when = self.later(at, self.exp(6 if urgent else 20), urgent)
        if traits.queued:
            crew = self.rng.choice(sorted(self.teams))
            self.schedule(when, lambda: self.to_queue(case_id, agent, crew, when, urgent, a))
            return
        engineer = min(self.engineers, key=lambda e: (self.free_at[e], e))
        self.schedule(when, lambda: self.assign(case_id, agent, engineer, when, urgent, a))

    def resolve(self, case_id: str, agent: str, by: str, at: datetime) -> None:
        way = "phone" if by == agent else self.rng.choice(["remote_session", "parts_sent"])
        self.act(self.desk.cases.resolve, case_id, by=by, way=way, actions="guided a reset",
                 result="runs again", at=at)  # fmt: skip
        self.outcomes["remote fixes"] += 1
        when = at + timedelta(minutes=2 + self.exp(10))
        self.schedule(when, lambda: self.accept(case_id, agent, by, when))

    def to_queue(
        self, case_id: str, agent: str, crew: str, at: datetime, urgent: bool, a: Arrival
    ) -> None:
        self.act(self.desk.cases.queue, case_id, team=crew, by=agent, at=at)
        self.outcomes["queued"] += 1
        when = self.later(at, self.exp(12 if urgent else 60), urgent)
        engineer = min(self.teams[crew], key=lambda e: (self.free_at[e], e))

        def take() -> None:
            self.act(self.desk.cases.take, case_id, by=engineer, at=when)
            later = self.later(when, self.exp(10 if urgent else 45), urgent)
            self.schedule(later, lambda: self.confirm(case_id, agent, engineer, later, urgent, a))

        self.schedule(when, take)

    def assign(
        self, case_id: str, agent: str, engineer: str, at: datetime, urgent: bool, a: Arrival
    ) -> None:
        self.act(self.desk.cases.assign, case_id, engineer=engineer, by=agent, at=at)
        when = self.later(at, self.exp(10 if urgent else 45), urgent)
        self.schedule(when, lambda: self.confirm(case_id, agent, engineer, when, urgent, a))

    def confirm(
        self, case_id: str, agent: str, engineer: str, at: datetime, urgent: bool, a: Arrival
    ) -> None:
        self.act(self.desk.cases.confirm, case_id, by=engineer, at=at)
        when = self.later(at, self.exp(15 if urgent else 90), urgent)
        remote = self.traits[case_id].remote and "engineer" in self.policy.resolve_remotely
        if remote and "repaired" not in self.desk.cases.get(case_id).milestones:
            self.schedule(when, lambda: self.resolve(case_id, agent, engineer, when))
            return
        self.schedule(when, lambda: self.contact(case_id, agent, engineer, when, urgent, a))

    def contact(
        self, case_id: str, agent: str, engineer: str, at: datetime, urgent: bool, a: Arrival
    ) -> None:
        travel = 30 + self.exp(60)
        ready = max(at, self.free_at[engineer]) + timedelta(minutes=travel)
        if urgent:
            appointment = ready
        else:  # a time the customer picks, within the next working day
            day = self.working(max(ready, at), 60 * self.rng.uniform(1, 6))
            appointment = day.replace(minute=0 if day.minute < 30 else 30, second=0, microsecond=0)
            appointment = max(appointment, ready)
        self.act(self.desk.cases.contact, case_id, by=engineer, at=at, appointment=appointment)
        arrive = appointment
        if self.rng.random() < 0.12:  # late
            self.outcomes["late arrivals"] += 1
            arrive = appointment + timedelta(minutes=20 + self.exp(90))
            if self.rng.random() < 0.5:  # and tells the customer beforehand
                notice = appointment - timedelta(minutes=self.rng.uniform(15, 60))
                notice = max(notice, at + timedelta(minutes=1))
                self.schedule(notice, lambda: self.notify(case_id, engineer, notice, arrive))
        self.free_at[engineer] = max(self.free_at[engineer], arrive)
        self.busy[engineer] += timedelta(minutes=travel)
        self.jobs[engineer] += 1
        self.schedule(arrive, lambda: self.arrive(case_id, agent, engineer, arrive, urgent, a))

    def notify(self, case_id: str, engineer: str, at: datetime, eta: datetime) -> None:
        case = self.desk.cases.get(case_id)
        if "arrived" in case.milestones or at <= case.updated_at:
            return
        self.act(
            self.desk.cases.notify_delay, case_id, milestone="arrival", reason="traffic",
            new_eta=eta + timedelta(minutes=10), by=engineer, told="the site contact",
            channel="phone", at=at,
        )  # fmt: skip
        self.outcomes["delay notices"] += 1

    def arrive(
        self, case_id: str, agent: str, engineer: str, at: datetime, urgent: bool, a: Arrival
    ) -> None:
        self.act(self.desk.cases.arrive, case_id, by=engineer, at=at)
        self.reading(a.product.get("serial"), engineer, at)
        if self.ppe:  # helmet on, gloves on: the policy's checklist before work
            self.act(self.desk.safety.checklist, case_id, self.ppe, by=engineer, at=at)
        when = at + timedelta(minutes=20 + self.exp(25))
        self.schedule(when, lambda: self.diagnose(case_id, agent, engineer, when, urgent, a))

    def diagnose(
        self, case_id: str, agent: str, engineer: str, at: datetime, urgent: bool, a: Arrival
    ) -> None:
        self.act(
            self.desk.cases.diagnose, case_id, by=engineer, at=at, cause=f"{a.fault} (found)",
            complexity=a.complexity,
        )  # fmt: skip
        self.busy[engineer] += timedelta(minutes=45)
        # hands-on hours: simple jobs in an hour or three, complex ones over a day or two
        work = 60 * (
            self.rng.uniform(0.5, 3) if a.complexity == "simple" else self.rng.uniform(5, 14)
        )
        if "waiting for parts" in self.policy.hold and self.rng.random() < 0.08:
            hold_at = at + timedelta(minutes=10)
            release = self.working(hold_at, 60 * self.rng.uniform(4, 16))
            self.schedule(
                hold_at, lambda: self.hold(case_id, engineer, hold_at, release, work, agent, urgent)
            )
            return
        self.start_repair(case_id, agent, engineer, at, urgent, work)

    def hold(
        self, case_id: str, engineer: str, at: datetime, release: datetime, work: float,
        agent: str, urgent: bool,
    ) -> None:  # fmt: skip
        self.act(self.desk.cases.hold, case_id, reason="parts", by=engineer, at=at)
        self.outcomes["holds"] += 1

        def released() -> None:
            self.act(self.desk.cases.release, case_id, by=engineer, at=release)
            self.start_repair(case_id, agent, engineer, release, urgent, work)

        self.schedule(release, released)

    def start_repair(
        self, case_id: str, agent: str, engineer: str, at: datetime, urgent: bool, work: float
    ) -> None:
        done = self.later(at, work, urgent and work < 480)
        self.busy[engineer] += timedelta(minutes=work)
        self.free_at[engineer] = max(self.free_at[engineer], done)
        self.schedule(done, lambda: self.complete(case_id, agent, engineer, done, urgent))

    def complete(self, case_id: str, agent: str, engineer: str, at: datetime, urgent: bool) -> None:
        self.act(self.desk.cases.complete, case_id, by=engineer, at=at, actions="repaired",
                 result="tested under load")  # fmt: skip
        when = at + timedelta(minutes=10 + self.exp(20))
        if self.rng.random() < 0.07:
            self.schedule(when, lambda: self.reject(case_id, agent, engineer, when, urgent))
        else:
            self.schedule(when, lambda: self.accept(case_id, agent, engineer, when))

    def reject(self, case_id: str, agent: str, engineer: str, at: datetime, urgent: bool) -> None:
        self.act(self.desk.cases.reject, case_id, signed_by="site manager", by=engineer, at=at,
                 reason="still faulty")  # fmt: skip
        self.outcomes["rejections"] += 1
        rework = 60 * self.rng.uniform(1, 3)
        self.busy[engineer] += timedelta(minutes=rework)
        done = self.later(at, rework, urgent)
        self.schedule(done, lambda: self.complete(case_id, agent, engineer, done, urgent))

    def accept(self, case_id: str, agent: str, engineer: str, at: datetime) -> None:
        self.act(self.desk.cases.accept, case_id, signed_by="site manager", by=engineer, at=at)
        when = self.working(at, 60 * self.rng.uniform(2, 16))
        self.schedule(when, lambda: self.follow_up(case_id, agent, when))

    def follow_up(self, case_id: str, agent: str, at: datetime, attempt: int = 1) -> None:
        if self.desk.cases.get(case_id).status != "accepted":
            return  # closed by the tick meanwhile
        if attempt == 1 and self.traits[case_id].unanswered:
            self.outcomes["unanswered callbacks"] += 1
            if self.policy.callback_optional:
                self.close(case_id, agent, at)
            elif self.policy.close_automatically is None:  # call again the next working day
                when = self.working(at, 8 * 60)
                self.schedule(when, lambda: self.follow_up(case_id, agent, when, 2))
            return  # else: the tick closes it when the policy says
        score = self.rng.choices([5, 4, 3, 2, 1], weights=[45, 35, 12, 5, 3])[0]
        self.act(self.desk.cases.follow_up, case_id, by=agent, satisfaction=score, at=at)
        when = at + timedelta(minutes=5)
        self.schedule(when, lambda: self.close(case_id, agent, when))

    def close(self, case_id: str, agent: str, at: datetime) -> None:
        self.act(self.desk.cases.close, case_id, by=agent, at=at)
        self.closed(case_id, at)

    def answer_survey(self, case_id: str, at: datetime) -> None:
        token = self.mailroom.surveys.pop(case_id, None)
        if token is None or self.desk.cases.get(case_id).survey is not None:
            return
        score = self.rng.choices([5, 4, 3, 2, 1], weights=[38, 30, 16, 9, 7])[0]
        self.act(self.desk.cases.answer_survey, token, satisfaction=score, at=at)
        self.outcomes["surveys answered"] += 1

    def complaints(self, now: datetime) -> None:
        """The owners answer each new complaint within hours and resolve it within days
        (some after the policy's deadline), and the customer confirms."""
        for complaint in self.desk.complaints.list(status="open"):
            if complaint.id in self.handled:
                continue
            self.handled.add(complaint.id)
            self.outcomes["complaints"] += 1
            answer = self.working(now, 60 * self.exp(3))
            fixed = self.working(answer, 60 * 8 * self.exp(2.5))
            self.schedule(answer, functools.partial(self.handle, complaint.id, answer, fixed))

    def handle(self, complaint_id: str, answer: datetime, fixed: datetime) -> None:
        complaint = self.desk.complaints.get(complaint_id)
        owner = complaint.owner
        self.act(self.desk.complaints.respond, complaint_id, response="called the customer",
                 by=owner, at=answer)  # fmt: skip

        def resolve() -> None:
            done = self.act(self.desk.complaints.resolve, complaint_id, root_cause="found",
                            corrective_action="taken", by=owner, at=fixed)  # fmt: skip
            if done.resolve_by is not None and fixed > done.resolve_by:
                self.outcomes["complaints resolved late"] += 1
            self.act(self.desk.complaints.confirm, complaint_id, confirmed_by="the customer",
                     by=owner, at=fixed + timedelta(minutes=30))  # fmt: skip

        self.schedule(fixed, resolve)

    def closed(self, case_id: str, at: datetime) -> None:
        """A case is closed (by the desk or the tick): the repair may not hold, and the
        customer may answer the survey link."""
        self.open.discard(case_id)
        if case_id in self.mailroom.surveys:  # drawn per case number: the same each run
            draw = random.Random(f"{self.seed}/survey/{self.desk.cases.get(case_id).number}")
            if draw.random() < self.rates.surveys:
                when = at + timedelta(days=draw.uniform(0.5, 3))
                self.schedule(when, lambda: self.answer_survey(case_id, when))
        traits = self.traits.get(case_id)
        if traits is None or not traits.reopened:
            return
        self.traits[case_id] = attrs.evolve(traits, reopened=False)  # a repair fails once
        when = at + timedelta(days=self.rng.uniform(1, 10))
        window = self.policy.reopen_within
        if window is None or when > self.policy.add(at, window):
            self.outcomes["repeat faults not reopened"] += 1
            return
        self.schedule(when, lambda: self.reopen(case_id, when))

    def reopen(self, case_id: str, at: datetime) -> None:
        case = self.desk.cases.get(case_id)
        agent = self.rng.choice(self.agents)
        self.act(self.desk.cases.reopen, case_id, by=agent, reason="the fault came back", at=at)
        self.outcomes["reopened"] += 1
        self.open.add(case_id)
        urgent = self._urgent(case)
        engineer = case.engineer or min(self.engineers, key=lambda e: (self.free_at[e], e))
        arrival = self.arrival_of[case_id]
        when = self.later(at, self.exp(10 if urgent else 45), urgent)
        if case.engineer is None:  # fixed on the call the first time: an engineer goes now
            self.act(self.desk.cases.assign, case_id, engineer=engineer, by=agent, at=at)
        self.traits[case_id] = attrs.evolve(self.traits[case_id], remote=False)
        self.schedule(when, lambda: self.confirm(case_id, agent, engineer, when, urgent, arrival))

    # -- the result ---------------------------------------------------------------------------
    def result(self) -> SimulationResult:
        sla = self.desk.sla
        by_priority = sla.report(self.start, self.end, "priority", now=self.end)
        by_milestone = sla.report(self.start, self.end, "milestone", now=self.end)
        available = (
            self.calendar.between(self.start, self.end)
            if self.calendar is not None
            else self.end - self.start
        )
        loads = tuple(
            EngineerLoad(e, self.jobs[e], self.busy[e], available) for e in self.engineers
        )
        for kind, count in self.mailroom.sent.items():
            self.notifications[kind] = self.notifications.get(kind, 0) + count
        return SimulationResult(
            policy=f"{self.policy.name} (version {self.policy.version})",
            start=self.start,
            end=self.end,
            cases=len(self.arrivals),
            actions=self.actions,
            notifications=dict(sorted(self.notifications.items())),
            by_priority=by_priority,
            by_milestone=by_milestone,
            engineers=loads,
            backlog=tuple(self.backlog),
            outcomes=self.outcomes,
            arrivals=tuple(self.arrivals),
        )


def first_monday(policy: Policy, today: date | None = None) -> datetime:
    """Local midnight of the Monday the default run starts on (fixed, for repeatable runs)."""
    day = today or date(2026, 11, 2)
    day -= timedelta(days=day.weekday())
    return datetime.combine(day, time(0), tzinfo=policy.tz)


def simulate(
    policy: Policy | str | Path,
    *,
    db: Path = Path("aftersales-sim.db"),
    days: int = 30,
    engineers: int = 12,
    agents: int = 3,
    cases_per_day: float = 10.0,
    seed: int = 1,
    replay: str | Path | None = None,
    start: datetime | None = None,
    arrivals: list[Arrival] | None = None,
    progress: Callable[[float], None] | None = None,
    rates: Rates | None = None,
) -> SimulationResult:
    """Run one simulation and return its result (see ``aftersales simulate``).

    ``arrivals`` and ``start`` (from an earlier result's ``arrivals`` and ``start``) replay
    exactly the same cases, which is how ``--compare`` runs a second policy.
    """
    if days < 1 or engineers < 1 or agents < 1 or cases_per_day <= 0:
        raise ValidationError("days, engineers, agents and cases per day must be positive")
    loaded = policy if isinstance(policy, Policy) else ServiceDesk(policy, "memory://").policy
    rng = random.Random(seed)
    if arrivals is not None and start is not None:
        begin = start
    elif replay is not None:
        arrivals = read_arrivals(replay, loaded, rng)
        if not arrivals:
            raise ValidationError(f"{replay}: no cases")
        first = arrivals[0].at.astimezone(loaded.tz)
        begin = start or datetime.combine(first.date(), time(0), tzinfo=loaded.tz)
        days = max(days, math.ceil((arrivals[-1].at - begin) / timedelta(days=1)) + 7)
    else:
        begin = start or first_monday(loaded)
        arrivals = generate_arrivals(rng, begin, days, cases_per_day)
    assert arrivals is not None
    run = Simulation(
        loaded, db, list(arrivals), start=begin, days=days, engineers=engineers, agents=agents,
        seed=seed, progress=progress, rates=rates,
    )  # fmt: skip
    try:
        result = run.run()
    finally:
        run.desk.close()
    if replay is not None:
        result = attrs.evolve(result, ignored_columns=ignored_columns(replay))
    return result


__all__ = [
    "CSV_COLUMNS",
    "Arrival",
    "EngineerLoad",
    "Rates",
    "SimulationResult",
    "generate_arrivals",
    "read_arrivals",
    "simulate",
]
