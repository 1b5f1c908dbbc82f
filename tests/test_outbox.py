"""The transactional outbox: notifications stored with their event, delivered afterwards,
retried with backoff, given up after the last try, and retried by hand."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import REPORT, RULES, add_team, at, run_to
from test_cli_cases import ok, run

from aftersales import ConflictError, Notification, ServiceDesk, ValidationError, hookimpl
from aftersales.core.errors import NotFound
from aftersales.ports.storage import OutboxItem, utc_text
from aftersales.services.notifications import LEASE, OutboxSettings
from aftersales.testing import Outbox


class Flaky:
    """A notifier that fails its first ``failures`` calls."""

    name = "flaky-sms"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.got: list[str] = []

    @hookimpl
    def aftersales_notify(self, notification: Notification) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("gateway down")
        self.got.append(notification.kind)


def sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'outbox.db'}"


def test_the_notification_is_stored_with_its_event(tmp_path: Path) -> None:
    """An action whose process dies right after the commit still gets its notification
    out: another desk delivers it from the outbox."""
    dead = Outbox()  # the notifier of the process that dies (same plugin name as below)
    with ServiceDesk(RULES / "default.policy", sqlite(tmp_path), plugins=[dead]) as first:
        add_team(first)
        case = run_to(first, "responded")

        def crash(*args: object, **kwargs: object) -> list[object]:
            raise SystemExit("killed after the commit")

        first.notifications.deliver = crash  # type: ignore[method-assign]
        with pytest.raises(SystemExit):
            first.cases.assign(case.id, engineer="e7", by="cs1", at=at(10))
    outbox = Outbox()
    with ServiceDesk(RULES / "default.policy", sqlite(tmp_path), plugins=[outbox]) as second:
        assert second.cases.get(case.id).status == "assigned"
        mine = "aftersales.testing.Outbox"
        [item] = [i for i in second.notifications.pending() if i.plugin == mine]
        assert item.notification["kind"] == "case_assigned"
        assert second.notifications.deliver_due(at(10)) == []  # leased to the desk that died
        tried = second.notifications.deliver_due(at(10) + LEASE)
        assert {i.status for i in tried} == {"delivered"}
        assert [n.kind for n in outbox.notifications] == ["case_assigned"]
        assert dead.notifications == []


def test_a_refused_action_leaves_nothing_in_the_outbox(desk: ServiceDesk) -> None:
    case = run_to(desk, "responded")
    before = desk.storage.outbox()
    with pytest.raises(ConflictError):
        desk.cases.assign(case.id, engineer="e7", by="cs1", at=at(10), version=1)
    assert desk.storage.outbox() == before


def test_backoff_then_give_up_then_retry_by_hand(tmp_path: Path) -> None:
    flaky = Flaky(failures=3)
    settings = OutboxSettings(max_tries=3, backoff=timedelta(minutes=1))
    desk = ServiceDesk(RULES / "default.policy", sqlite(tmp_path), plugins=[flaky],
                       outbox=settings)  # fmt: skip
    add_team(desk)
    case = run_to(desk, "responded")
    desk.cases.assign(case.id, engineer="e7", by="cs1", at=at(10))  # try 1 fails
    [item] = [i for i in desk.notifications.pending() if i.plugin == "flaky-sms"]
    assert item.attempts == 1 and item.last_error == "ConnectionError: gateway down"
    assert item.next_try_at == utc_text(at(11))  # backoff: one minute after the failure
    assert desk.notifications.deliver_due(at(10) + timedelta(seconds=59)) == []  # not yet
    [second] = desk.notifications.deliver_due(at(11))  # try 2 fails; next in 2 minutes
    assert second.attempts == 2 and second.status == "pending"
    assert desk.notifications.deliver_due(at(12)) == []
    [third] = desk.notifications.deliver_due(at(13))  # try 3 fails: given up
    assert third.status == "failed" and desk.notifications.failed() == [third]
    assert desk.notifications.deliver_due(at(600)) == []
    with pytest.raises(NotFound, match="aftersales notifications failed"):
        desk.notifications.retry("no-such-id", at(601))
    shown = desk.notifications.describe(third)
    assert shown["next_try_at"] is not None and shown["next_try_at"].endswith("+08:00")
    again = desk.notifications.retry(third.id[:8], at(601))  # the start, as tables cut it
    assert again.status == "delivered" and flaky.got == ["case_assigned"]
    assert desk.notifications.failed() == []


def test_a_retry_by_a_prefix_two_ids_share_is_refused(tmp_path: Path) -> None:
    desk = ServiceDesk(RULES / "default.policy", sqlite(tmp_path))
    note = {"kind": "case_assigned", "recipients": ["e7"], "subject": "s"}
    items = [OutboxItem(f"abc{n}", "log", note, utc_text(at(0)), utc_text(at(0)), 3, "failed")
             for n in (1, 2)]  # fmt: skip
    with desk.storage.transaction() as tx:
        tx.enqueue(items)
        tx.settle(items)
    assert [i.id for i in desk.notifications.failed()] == ["abc1", "abc2"]
    with pytest.raises(ValidationError, match="starts 2 failed notifications' ids"):
        desk.notifications.retry("abc", at(1))
    assert desk.notifications.retry("abc2", at(1)).id == "abc2"  # a whole id is never a prefix


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="max_tries"):
        OutboxSettings(max_tries=0)
    with pytest.raises(ValueError, match="backoff"):
        OutboxSettings(backoff=timedelta(0))
    assert OutboxSettings().delay(20) == timedelta(hours=1)  # capped


def test_two_desks_deliver_each_item_once(tmp_path: Path) -> None:
    url = sqlite(tmp_path)
    writer = ServiceDesk(RULES / "default.policy", url, plugins=[Flaky(failures=10**6)])
    add_team(writer)
    for n in range(40):  # 40 case_assigned items left pending for the flaky-sms plugin
        case = writer.cases.report(**REPORT, by="cs1", at=at(n))
        writer.cases.respond(case.id, by="cs1", at=at(n))
        writer.cases.assign(case.id, engineer="e7", by="cs1", at=at(n))
    healthy = [Flaky(failures=0) for _ in range(2)]
    desks = [ServiceDesk(RULES / "default.policy", url, plugins=[h]) for h in healthy]
    threads = [threading.Thread(target=d.notifications.deliver_due, args=(at(500),)) for d in desks]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sum(len(h.got) for h in healthy) == 40  # none twice, none lost
    assert [i for i in writer.notifications.pending() if i.plugin == "flaky-sms"] == []


def test_plugin_objects_have_names_that_outlive_the_process() -> None:
    desk = ServiceDesk(RULES / "default.policy", plugins=[Outbox(), Outbox(), Flaky(0)])
    names = desk.notifications.notifiers()
    assert {"aftersales.testing.Outbox", "aftersales.testing.Outbox#2", "flaky-sms"} <= set(names)


def test_notifications_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = sqlite(tmp_path)
    (tmp_path / "aftersales.toml").write_text(
        f'policy = "{RULES / "default.policy"}"\nstorage = "{url}"\n', "utf-8"
    )
    monkeypatch.chdir(tmp_path)
    desk = ServiceDesk(RULES / "default.policy", url, plugins=[Flaky(10**6)],
                       outbox=OutboxSettings(max_tries=1))  # fmt: skip
    add_team(desk)
    case = run_to(desk, "responded")
    desk.cases.assign(case.id, engineer="e7", by="cs1", at=at(10))
    [failed] = json.loads(ok("notifications", "failed", "--format", "json"))
    assert failed["plugin"] == "flaky-sms" and failed["kind"] == "case_assigned"
    assert "gateway down" in failed["last_error"]
    assert json.loads(ok("notifications", "pending", "--format", "json")) == []
    assert "0 tried" in ok("notifications", "deliver")
    code, _, err = run("notifications", "retry", "nope")
    assert code == 1 and "no failed notification 'nope'" in err
    # the command's desk has no flaky-sms plugin: the item waits for a desk that has it
    assert "pending" in ok("notifications", "retry", failed["id"])


def test_delivered_notifications_are_pruned_after_a_while(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = sqlite(tmp_path)
    (tmp_path / "aftersales.toml").write_text(
        f'policy = "{RULES / "default.policy"}"\nstorage = "{url}"\n', "utf-8"
    )
    monkeypatch.chdir(tmp_path)
    flaky = Flaky(10**6)
    desk = ServiceDesk(RULES / "default.policy", url, plugins=[flaky],
                       outbox=OutboxSettings(max_tries=1))  # fmt: skip
    add_team(desk)
    run_to(desk, "assigned")  # delivered to the logger at T0; failed for flaky-sms
    delivered = len(desk.storage.outbox("delivered"))
    assert delivered > 0 and desk.notifications.failed()
    assert desk.notifications.prune(timedelta(days=30), now=at(60 * 24 * 29)) == 0
    assert desk.notifications.prune(timedelta(days=30), now=at(60 * 24 * 31)) == delivered
    assert desk.storage.outbox("delivered") == [] and desk.notifications.failed()
    with pytest.raises(ValidationError, match="older_than"):
        desk.notifications.prune(timedelta(days=-1))
    run_to(desk, "assigned")  # more, delivered at T0; the command's clock is the real one
    again = len(desk.storage.outbox("delivered"))
    out = ok("notifications", "prune", "--days", "100000")
    assert out.strip() == "0 delivered notification(s) older than 100000 days deleted"
    out = ok("notifications", "prune", "--days", "0")
    assert out.strip() == f"{again} delivered notification(s) older than 0 days deleted"
    assert desk.storage.outbox("delivered") == [] and desk.notifications.failed()
