"""Plugins: every hook documented and tested, built-ins, blocking, and a third-party plugin
installed from examples/plugin."""

from __future__ import annotations

import inspect
import json
import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from conftest import REPORT, ROOT, RULES, add_team, at, run_to

from aftersales import (
    Case,
    CaseEvent,
    Notification,
    PolicyError,
    ServiceDesk,
    Staff,
    ValidationError,
    ValueType,
    hookimpl,
)
from aftersales.plugins.memory import MemoryStorage
from aftersales.ports import hookspecs
from aftersales.ports.hooks import Hooks
from aftersales.ports.manager import BLOCK_VARIABLE, DEFAULT_PLUGINS, make_manager
from aftersales.testing import Outbox

HOOKS = sorted(
    name
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
    if name.startswith("aftersales_")
)


def test_hook_list_matches_the_architecture() -> None:
    assert HOOKS == [
        "aftersales_case_event",
        "aftersales_metrics",
        "aftersales_notifiers",
        "aftersales_notify",
        "aftersales_policy_functions",
        "aftersales_register_commands",
        "aftersales_storage_backends",
    ]


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_and_tested(hook: str) -> None:
    docs = (ROOT / "docs" / "plugins.md").read_text("utf-8")
    assert f"### `{hook}(" in docs, f"docs/plugins.md has no section for {hook}"
    assert (getattr(hookspecs, hook).__doc__ or "").strip(), f"{hook} has no docstring"
    tests = Path(__file__).read_text("utf-8")
    assert f"def test_hook_{hook}(" in tests, f"no test_hook_{hook} in {__file__}"


# the typed method of ports.hooks.Hooks that calls each hook
CALLERS = {
    "aftersales_case_event": "case_event",
    "aftersales_metrics": "metrics",
    "aftersales_notifiers": "notifier_factories",
    "aftersales_notify": "notifiers",
    "aftersales_policy_functions": "policy_functions",
    "aftersales_register_commands": "register_commands",
    "aftersales_storage_backends": "storage_backends",
}


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_one_typed_caller(hook: str) -> None:
    """The services call plugins only through ``Hooks``: a new hook needs its method there,
    and that method must be what calls the hook."""
    method = getattr(Hooks, CALLERS[hook], None)
    assert method is not None, f"ports.hooks.Hooks has no method for {hook}"
    assert hook in inspect.getsource(method)
    assert inspect.signature(method).return_annotation != "Any"


def test_no_module_calls_a_hook_but_the_typed_caller() -> None:
    """``pm.hook.aftersales_...(...)`` and ``impl.function(...)`` appear only in
    ports/hooks.py: nothing bypasses pluggy or the one typed way to call it."""
    offenders = []
    for path in (ROOT / "src" / "aftersales").rglob("*.py"):
        if path.name == "hooks.py" and path.parent.name == "ports":
            continue
        text = path.read_text("utf-8")
        if ".hook.aftersales_" in text or "impl.function(" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_a_failing_observer_costs_the_others_nothing(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []

    class Broken:
        name = "broken"

        @hookimpl
        def aftersales_case_event(self, event: CaseEvent, case: Case) -> None:
            raise RuntimeError("the ERP is down")

    class Listener:
        name = "listener"

        @hookimpl
        def aftersales_case_event(self, event: CaseEvent, case: Case) -> None:
            seen.append(event.type)

    hooks = Hooks(make_manager([Broken(), Listener()], entry_points=False))
    event = CaseEvent("c1", 1, "reported", at(0), "cs1", {})
    with caplog.at_level(logging.ERROR, logger="aftersales"):
        hooks.case_event(event, None)  # type: ignore[arg-type]
        hooks.case_event(event, None)  # type: ignore[arg-type]
    assert seen == ["reported", "reported"]
    assert "plugin broken failed in aftersales_case_event" in caplog.text


def test_builtins_are_registered_like_any_plugin() -> None:
    pm = make_manager(entry_points=False)
    names = {name for name, _ in pm.list_name_plugin()}
    assert set(DEFAULT_PLUGINS) <= names


# ---- one test per hook --------------------------------------------------------------------------
class SharedStore:
    """Registers ``shared://`` for every desk, all on one in-memory store."""

    def __init__(self) -> None:
        self.store = MemoryStorage("shared://")
        self.opened: list[str] = []

    @hookimpl
    def aftersales_storage_backends(self, register: Any) -> None:
        def open_shared(url: str) -> MemoryStorage:
            self.opened.append(url)
            return self.store

        register("shared", open_shared)


def test_hook_aftersales_storage_backends() -> None:
    plugin = SharedStore()
    one = ServiceDesk(RULES / "default.policy", "shared://a", plugins=[plugin])
    add_team(one)
    case = one.cases.report(**REPORT, by="cs1", at=at(0))
    two = ServiceDesk(RULES / "default.policy", "shared://b", plugins=[plugin])
    assert two.cases.get(case.id) == case
    assert plugin.opened == ["shared://a", "shared://b"]

    class Again:
        @hookimpl
        def aftersales_storage_backends(self, register: Any) -> None:
            register("sqlite", lambda url: MemoryStorage(url))

    with pytest.raises(ValidationError, match="two plugins register the storage scheme 'sqlite'"):
        ServiceDesk(RULES / "default.policy", plugins=[Again()])


def test_hook_aftersales_notify(caplog: pytest.LogCaptureFixture) -> None:
    outbox = Outbox()
    seen: list[tuple[str, tuple[str | None, ...], str]] = []

    class Broken:
        @hookimpl
        def aftersales_notify(self, notification: Notification) -> None:
            raise RuntimeError("gateway down")

    class Full:
        @hookimpl
        def aftersales_notify(
            self, notification: Notification, staff: Sequence[Staff], delivery: str
        ) -> None:
            seen.append((notification.kind, tuple(s.email for s in staff), delivery))

    desk = ServiceDesk(RULES / "default.policy", plugins=[outbox, Broken(), Full()])
    add_team(desk)
    desk.staff.update("e7", by="m1", email="chen@pumps.example", at=at(0))
    with caplog.at_level(logging.INFO):
        case = run_to(desk, "assigned")
    assert desk.cases.get(case.id).status == "assigned"  # the failure undid nothing
    [note] = outbox.of("case_assigned")
    assert note.recipients == ("e7",)
    assert "failed in aftersales_notify (case_assigned)" in caplog.text
    assert "case_assigned to e7" in caplog.text  # the built-in logging notifier
    [(_, emails, delivery)] = [s for s in seen if s[0] == "case_assigned"]
    assert emails == ("chen@pumps.example",)  # the staff record, as it is at delivery
    [item] = [i for i in desk.storage.outbox("delivered") if i.id == delivery]
    assert item.plugin.endswith("Full") and item.notification["kind"] == "case_assigned"


def test_hook_aftersales_notifiers(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[dict[str, Any]] = []

    class Pager:
        def __init__(self, settings: dict[str, Any]) -> None:
            self.got: list[str] = []
            made.append(dict(settings))

        @hookimpl
        def aftersales_notify(self, notification: Notification) -> None:
            self.got.append(notification.kind)

    class PagerPlugin:
        @hookimpl
        def aftersales_notifiers(self, register: Any) -> None:
            def make(settings: Any) -> Pager:
                if "number" not in settings:
                    raise ValidationError('number is needed, e.g. number = "+49 30 1234"')
                return Pager(settings)

            register("pager", make)

    desk = ServiceDesk(RULES / "default.policy", plugins=[PagerPlugin()],
                       notify={"pager": {"number": "+49 30 1234"}})  # fmt: skip
    assert made == [{"number": "+49 30 1234"}]
    add_team(desk)
    run_to(desk, "assigned")
    pager = desk.plugins.get_plugin("pager")
    assert "case_assigned" in pager.got
    assert {i.plugin for i in desk.storage.outbox("delivered")} >= {"pager"}
    with pytest.raises(ValidationError, match=r"\[notify.pager\]: number is needed"):
        ServiceDesk(RULES / "default.policy", plugins=[PagerPlugin()], notify={"pager": {}})
    with pytest.raises(ValidationError, match="two plugins register the notifier 'pager'"):
        ServiceDesk(RULES / "default.policy", plugins=[PagerPlugin(), PagerPlugin()])
    monkeypatch.setenv(BLOCK_VARIABLE, "pager")  # blocked: configured, but not made
    blocked = ServiceDesk(RULES / "default.policy", plugins=[PagerPlugin()],
                          notify={"pager": {"number": "1"}})  # fmt: skip
    assert blocked.plugins.get_plugin("pager") is None and len(made) == 1


def test_hook_aftersales_metrics() -> None:
    class Scores:
        @hookimpl
        def aftersales_metrics(self, register: Any) -> None:
            register("calls_answered", lambda desk, staff_id, period: 3, "calls answered")

    desk = ServiceDesk(RULES / "default.policy", plugins=[Scores()])
    compute, description = desk.metrics["calls_answered"]
    assert description == "calls answered" and compute(desk, "cs1", "2026-11") == 3
    with pytest.raises(ValidationError, match="two plugins register the metric"):
        ServiceDesk(RULES / "default.policy", plugins=[Scores(), Scores()])


REGION_POLICY = (
    (RULES / "default.policy")
    .read_text("utf-8")
    .replace(
        'priority urgent  when severity == "critical"',
        'priority urgent  when region_code(customer.region) == "N" or severity == "critical"',
    )
)


def test_hook_aftersales_policy_functions(tmp_path: Path) -> None:
    path = tmp_path / "region.policy"
    path.write_text(REGION_POLICY, "utf-8")

    class Regions:
        @hookimpl
        def aftersales_policy_functions(self, register: Any) -> None:
            register(
                "region_code", lambda r: r[:1].upper(), [ValueType.TEXT], ValueType.TEXT, "doc"
            )

    desk = ServiceDesk(path, plugins=[Regions()])
    add_team(desk)
    case = desk.cases.report(**{**REPORT, "machine_down": False}, by="cs1", at=at(0))
    assert case.priority == "urgent"  # region "north" -> "N"
    assert "lower" in desk.functions  # the built-ins come through the same hook
    with pytest.raises(PolicyError, match="region_code"):
        ServiceDesk(path)


def test_hook_aftersales_case_event(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[tuple[str, int, str]] = []

    class Audit:
        @hookimpl
        def aftersales_case_event(self, event: CaseEvent, case: Case) -> None:
            seen.append((event.type, case.version, case.status))

    class Broken:
        @hookimpl
        def aftersales_case_event(self, event: CaseEvent, case: Case) -> None:
            raise RuntimeError("ERP offline")

    desk = ServiceDesk(RULES / "default.policy", plugins=[Audit(), Broken()])
    add_team(desk)
    run_to(desk, "confirmed")
    assert seen == [
        ("reported", 1, "reported"),
        ("responded", 2, "responded"),
        ("assigned", 3, "assigned"),
        ("confirmed", 4, "confirmed"),
    ]
    assert "failed in aftersales_case_event (confirmed)" in caplog.text


# ---- blocking and third parties -----------------------------------------------------------------
def test_blocked_plugins_do_not_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BLOCK_VARIABLE, "aftersales.plugins.sqlite, aftersales.plugins.log_notifier")
    desk = ServiceDesk(RULES / "default.policy")
    names = [name for name, _ in desk.describe_plugins()]
    assert "aftersales.plugins.sqlite" not in names and "aftersales.plugins.memory" in names
    with pytest.raises(ValidationError, match=r"no storage backend for 'sqlite:///x\.db'"):
        ServiceDesk(RULES / "default.policy", "sqlite:///x.db")


@pytest.fixture(scope="module")
def installed_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(ROOT / "examples" / "plugin"),
        ],
        check=True,
    )
    return target


def test_example_plugin_is_found_through_its_entry_point(
    installed_example: Path, tmp_path: Path
) -> None:
    sms = tmp_path / "sms.txt"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(installed_example), str(ROOT / "tests")]),
        "EXAMPLE_SMS_OUTBOX": str(sms),
    }
    listing = subprocess.run(
        [sys.executable, "-m", "aftersales.cli", "plugins"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "example_sms" in listing and "aftersales_notify" in listing
    script = (
        "from conftest import RULES, add_team, run_to\n"
        "from aftersales import ServiceDesk\n"
        "desk = ServiceDesk(RULES / 'default.policy')\n"
        "add_team(desk)\n"
        "run_to(desk, 'assigned')\n"
    )
    subprocess.run([sys.executable, "-c", script], env=env, check=True)
    assert sms.read_text("utf-8").startswith("SMS to e7: AS-2026-000001 (urgent)")


def test_plugin_metrics_and_functions_are_part_of_the_policy_vocabulary(tmp_path: Path) -> None:
    from aftersales.ports.manager import vocabulary

    class Scores:
        @hookimpl
        def aftersales_metrics(self, register: Any) -> None:
            register("calls_answered", lambda desk, staff_id, period: None, "calls")

    functions, metrics = vocabulary(make_manager([Scores()], entry_points=False))
    assert "calls_answered" in metrics and "tasks_completed" in metrics
    assert "lower" in functions
    text = (
        (RULES / "rhine-pumps.policy")
        .read_text("utf-8")
        .replace(
            "tasks_completed  30%  target 25 per month", "calls_answered   30%  target 25 per month"
        )
    )
    path = tmp_path / "calls.policy"
    path.write_text(text, "utf-8")
    desk = ServiceDesk(path, plugins=[Scores()])
    assert "calls_answered" in {
        m.metric for ms in desk.policy.appraisal.measures.values() for m in ms
    }
    with pytest.raises(PolicyError, match="calls_answered"):
        ServiceDesk(path)


class Backlog:
    """Adds ``aftersales backlog`` (the docs/plugins.md example), a broken command adder and
    one that takes a built-in's name."""

    name = "backlog"

    @hookimpl
    def aftersales_register_commands(self, cli: Any) -> None:
        import click

        from aftersales.cli.context import open_desk
        from aftersales.cli.output import FORMAT, emit

        @cli.command("backlog")
        @FORMAT
        def backlog(fmt: str) -> None:
            """Open cases per engineer."""
            with open_desk() as desk:
                counts: dict[str, int] = {}
                for case in desk.cases.open():
                    counts[case.engineer or "-"] = counts.get(case.engineer or "-", 0) + 1
                emit("backlog", ["engineer", "open"], sorted(counts.items()), fmt)

        @cli.command("case")
        def not_the_case() -> None:
            click.echo("hijacked")


class Broken:
    name = "broken-commands"

    @hookimpl
    def aftersales_register_commands(self, cli: Any) -> None:
        raise RuntimeError("no click for me")


def test_hook_aftersales_register_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import copy

    import click
    from click.testing import CliRunner

    from aftersales.cli import main, plugin_commands

    main.get_command(click.Context(main), "case")  # built-ins load when used: load this one
    group = copy.copy(main)
    group.commands = dict(main.commands)
    pm = make_manager([Backlog(), Broken()], entry_points=False)
    assert plugin_commands(group, pm) == ["backlog"]
    assert group.commands["case"] is main.commands["case"]  # a built-in's name is refused
    assert "no click for me" in caplog.text and "exists already" in caplog.text
    monkeypatch.chdir(tmp_path)
    (tmp_path / "aftersales.toml").write_text(
        f'policy = "{RULES / "default.policy"}"\nstorage = "sqlite:///{tmp_path / "d.db"}"\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    for member in (["cs1", "--name", "Lin", "--role", "service_agent"],
                   ["e7", "--name", "Chen", "--role", "engineer"]):  # fmt: skip
        assert runner.invoke(group, ["staff", "add", *member]).exit_code == 0
    result = runner.invoke(group, ["backlog", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "engineer,open"


def _installed(site: Path, name: str, module: str, source: str) -> None:
    """A distribution in ``site`` whose ``aftersales`` entry point ``name`` is ``module``."""
    (site / f"{module}.py").write_text(source, "utf-8")
    info = site / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[aftersales]\n{name} = {module}\n", "utf-8")


def test_a_broken_installed_plugin_is_named_in_one_line_and_left_out(tmp_path: Path) -> None:
    """Issue 17: one that cannot be imported and one with a misspelt hook: every command
    still works without them, and says which they are and how to stop trying them."""
    site = tmp_path / "site"
    site.mkdir()
    _installed(
        site, "acme-broken", "acme_broken", "raise ImportError('no module named acme_sdk')\n"
    )
    _installed(site, "acme-typo", "acme_typo", "from aftersales import hookimpl\n\n@hookimpl\n"
               "def aftersales_notfy(notification, staff, delivery):\n    pass\n")  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(site)}
    for args in (["plugins"], ["policy", "check", str(RULES / "default.policy")]):
        done = subprocess.run([sys.executable, "-m", "aftersales.cli", *args], env=env,
                              capture_output=True, text=True, cwd=ROOT)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        lines = [line for line in done.stderr.splitlines() if "not loaded" in line]
        assert len(lines) == 2, done.stderr
        assert any("acme-broken" in line and "no module named acme_sdk" in line for line in lines)
        assert any("acme-typo" in line and "aftersales_notfy" in line for line in lines)
        assert all("AFTERSALES_BLOCK_PLUGINS=" in line for line in lines)
    listing = json.loads(subprocess.run([sys.executable, "-m", "aftersales.cli", "plugins",
                                         "--json"], env=env, capture_output=True, text=True,
                                        cwd=ROOT, check=True).stdout)["plugins"]  # fmt: skip
    broken = {row["name"]: row.get("not_loaded") for row in listing if row.get("not_loaded")}
    assert set(broken) == {"acme-broken", "acme-typo"}
    blocked = subprocess.run([sys.executable, "-m", "aftersales.cli", "plugins"],
                             env={**env, "AFTERSALES_BLOCK_PLUGINS": "acme-broken,acme-typo"},
                             capture_output=True, text=True, cwd=ROOT)  # fmt: skip
    assert blocked.returncode == 0 and "not loaded" not in blocked.stderr
