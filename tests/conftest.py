from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from aftersales import Case, PolicyError, ServiceDesk, parse_policy
from aftersales.cli import main
from aftersales.testing import Outbox

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"

MINIMAL = """\
policy "Test Co" {
  version  "1"
  timezone "Asia/Shanghai"
  currency CNY
}
calendar {
  workweek mon..fri
  hours    08:30-12:00, 13:00-17:30
}
priority urgent  when severity == "critical"
priority general otherwise
sla urgent {
  response within 30 minutes
}
sla general {
  response within 4 working hours
}
"""


def policy_errors(text: str) -> PolicyError:
    """The PolicyError that parsing ``text`` raises (fails the test if none)."""
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "t.policy")
    return info.value


def with_minimal(extra: str) -> str:
    return MINIMAL + extra


# ---- desks ----------------------------------------------------------------------------------
TZ = "Asia/Shanghai"
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo(TZ))  # a Monday, working time


def at(minutes: float) -> datetime:
    """``minutes`` after T0."""
    return T0 + timedelta(minutes=minutes)


def add_team(desk: ServiceDesk) -> None:
    desk.staff.add(id="m1", name="Zhao", roles=["manager"], at=T0)
    desk.staff.add(id="cs1", name="Lin", roles=["service_agent"], supervisor="m1", at=T0)
    desk.staff.add(id="e7", name="Chen", roles=["engineer"], supervisor="m1", at=T0)
    desk.staff.add(id="e8", name="Wu", roles=["engineer"], supervisor="m1", at=T0)
    desk.staff.add(id="sk1", name="Ma", roles=["storekeeper"], at=T0)
    certify(desk, "e7", "e8")


def certify(desk: ServiceDesk, *engineers: str) -> None:
    """Pass every engineer named in every certificate the policy's training section asks
    for (a trained team), assessed by m1 a month before T0."""
    training = desk.policy.training
    if training is None:
        return
    names = dict.fromkeys(rule.certificate for rule in training.certificates)
    full = {part.name: 100 for part in training.assessment}
    for engineer in engineers:
        for name in names:
            desk.training.assess(
                engineer, certificate=name, scores=full, by="m1", at=T0 - timedelta(days=30)
            )


REPORT: dict[str, Any] = {
    "customer": {"name": "Hengli Mining", "tier": "gold", "region": "north"},
    "product": {"model": "EX-350", "line": "excavator", "serial": "EX350-0192"},
    "fault": "hydraulic pump leaking, boom will not lift",
    "fault_code": "HYD-PUMP",
    "severity": "major",
    "machine_down": True,
    "channel": "phone",
    "contact": "Wang, site foreman",  # not an address: the tests of messages give their own
}


POSTGRES_VARIABLE = "AFTERSALES_TEST_POSTGRES"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL with a fresh schema of its own, from $AFTERSALES_TEST_POSTGRES
    (``.ci/run`` starts a server and sets it). Without it the test is skipped, except under
    CI=true, where it fails."""
    base = os.environ.get(POSTGRES_VARIABLE)
    if not base:
        reason = f"no PostgreSQL: set {POSTGRES_VARIABLE}=postgresql://user@host/db"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: server tests may not skip)")
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield f"{base}{'&' if '?' in base else '?'}schema={schema}"
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '5s'")
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "memory":
        return "memory://"
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path}/desk.db"


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


@pytest.fixture
def desk(storage_url: str, outbox: Outbox) -> Iterator[ServiceDesk]:
    with ServiceDesk(RULES / "default.policy", storage_url, plugins=[outbox]) as d:
        add_team(d)
        yield d


def arrive_safely(desk: ServiceDesk, case_id: str, engineer: str, when: datetime) -> Case:
    """The engineer arrives and records the policy's safety checklist at once."""
    case = desk.cases.arrive(case_id, by=engineer, at=when)
    ppe = desk.policy.safety.ppe if desk.policy.safety else ()
    return desk.safety.checklist(case_id, ppe, by=engineer, at=when) if ppe else case


def run_to(desk: ServiceDesk, status: str, **report: Any) -> Case:
    """A case reported at T0 and moved through the workflow up to ``status``."""
    case = desk.cases.report(**{**REPORT, **report}, by="cs1", at=at(0))
    steps: list[tuple[str, Callable[[], Case]]] = [
        ("responded", lambda: desk.cases.respond(case.id, by="cs1", at=at(5))),
        ("assigned", lambda: desk.cases.assign(case.id, engineer="e7", by="cs1", at=at(10))),
        ("confirmed", lambda: desk.cases.confirm(case.id, by="e7", at=at(15))),
        (
            "contacted",
            lambda: desk.cases.contact(case.id, by="e7", at=at(20), appointment=at(120)),
        ),
        ("on_site", lambda: arrive_safely(desk, case.id, "e7", at(120))),
        (
            "diagnosed",
            lambda: desk.cases.diagnose(
                case.id, by="e7", at=at(130), cause="worn pump seal", complexity="simple"
            ),
        ),
        (
            "repaired",
            lambda: desk.cases.complete(
                case.id,
                by="e7",
                at=at(200),
                actions="replaced seal",
                result="lifts full load, no leak after 30 min",
                parts_used=[{"sku": "SEAL-9", "quantity": 1}],
            ),
        ),
        ("accepted", lambda: desk.cases.accept(case.id, signed_by="Wang", by="e7", at=at(210))),
        (
            "followed_up",
            lambda: desk.cases.follow_up(case.id, by="cs1", at=at(3000), satisfaction=5),
        ),
        ("closed", lambda: desk.cases.close(case.id, by="cs1", at=at(3010))),
    ]
    for name, step in steps:
        if case.status == status:
            break
        case = step()
        assert case.status == name
    assert case.status == status
    return case


def desk_cli(
    folder: Path, monkeypatch: pytest.MonkeyPatch, policy: Path | str
) -> Callable[..., str]:
    """``aftersales`` run in ``folder`` on a SQLite desk under ``policy`` (a path, or a file
    name in ``folder``): ``cli(*args, code=0)`` returns what it printed, checking the exit
    code."""
    monkeypatch.chdir(folder)
    monkeypatch.delenv("AFTERSALES_CONFIG", raising=False)
    (folder / "aftersales.toml").write_text(
        f'policy = "{policy}"\nstorage = "sqlite:///d.db"\n', "utf-8"
    )
    runner = CliRunner()

    def cli(*args: str, code: int = 0) -> str:
        result = runner.invoke(main, list(args), env={"COLUMNS": "300"})
        assert result.exit_code == code, (args, result.output)
        return result.output

    return cli
