"""Secrets never appear in an error, a log line, a repr or CLI output; the CLI never prints a
traceback and prints stored text as written (issue 13, contracts 1 and 6)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import RULES

from aftersales import (
    AftersalesError,
    OutboxSettings,
    ServiceDesk,
    StorageError,
    ValidationError,
    hookimpl,
)
from aftersales.cli import main
from aftersales.core import redact
from aftersales.plugins.webhook_notifier import WebhookNotifier, WebhookSettings

SECRET = "S3cr3t-Pa55"


def test_a_database_password_never_reaches_an_error_or_the_cli(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    for url in (
        f"postgresql://admin:{SECRET}@no-such-host.invalid/db",
        f"postgresql://admin:{SECRET}@127.0.0.1:1/db",
        f"postgresql://admin@127.0.0.1:1/db?password={SECRET}",
        f"nosuch://admin:{SECRET}@host/db",
    ):
        with pytest.raises(AftersalesError) as info:
            ServiceDesk(RULES / "default.policy", url)
        assert SECRET not in str(info.value) and SECRET not in repr(info.value)
    assert SECRET not in caplog.text
    monkeypatch.chdir(tmp_path)
    (tmp_path / "aftersales.toml").write_text(
        f'policy = "{RULES / "default.policy"}"\n'
        f'storage = "postgresql://admin:{SECRET}@127.0.0.1:1/db"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["case", "list"])
    assert result.exit_code == 1
    assert SECRET not in result.output and "cannot connect" in result.output
    assert "Traceback" not in result.output


def test_storage_errors_are_storage_errors() -> None:
    with pytest.raises(StorageError):
        ServiceDesk(RULES / "default.policy", "postgresql://nobody@127.0.0.1:1/x")


def test_a_webhook_url_with_a_password_is_refused_without_showing_it() -> None:
    for url in (f"https://bot:{SECRET}@chat.example.com/hook",
                f"https://bot:{SECRET}@chat.example.com:8443/hook"):  # fmt: skip
        with pytest.raises(ValidationError) as info:
            WebhookSettings(url=url)
        assert SECRET not in str(info.value) and "user name or password" in str(info.value)
    notifier = WebhookNotifier(
        WebhookSettings(url=f"https://chat.example.com/hooks/{SECRET}"), secret=SECRET
    )
    assert SECRET not in repr(notifier)


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        (f"postgresql://u:{SECRET}@h/db", SECRET),
        (f"https://h/x?token={SECRET}&a=1", SECRET),
        (f"https://h/x?api_key={SECRET}", SECRET),
        ("sqlite:///service.db", None),
    ],
)
def test_urls_are_shown_with_their_secrets_masked(text: str, hidden: str | None) -> None:
    shown = redact.url(text)
    if hidden is None:
        assert shown == text
    else:
        assert hidden not in shown and "***" in shown


def cli_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str = "") -> CliRunner:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "aftersales.toml").write_text(
        f'policy = "{RULES / "default.policy"}"\n'
        f'storage = "sqlite:///{tmp_path / "desk.db"}"\n' + extra,
        encoding="utf-8",
    )
    return CliRunner()


def test_stored_markup_prints_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = cli_in(tmp_path, monkeypatch)
    name = "[/bold] [link=https://evil.example]click[/link] :smile:"
    assert (
        runner.invoke(main, ["staff", "add", "x1", "--name", name, "--role", "engineer"]).exit_code
        == 0
    )
    for command in (["staff", "list"], ["staff", "show", "x1"]):
        result = runner.invoke(main, command)
        assert result.exit_code == 0, result.output
        assert "[/bold]" in result.output and "[link=https://evil.example]" in result.output


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ("backoff_seconds = 1e308", "backoff_seconds"),
        ("backoff_seconds = nan", "backoff_seconds"),
        ("backoff_seconds = inf", "backoff_seconds"),
        ("max_tries = 100000000000000000000", "max_tries"),
    ],
)
def test_hostile_outbox_settings_end_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str, says: str
) -> None:
    runner = cli_in(tmp_path, monkeypatch, f"[notify]\n{setting}\n")
    result = runner.invoke(main, ["staff", "list"])
    assert result.exit_code == 1 and says in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["notifications", "prune", "--days", "99999999"],
        ["sla", "report", "--since", "0001-01-01", "--until", "9999-12-31"],
        ["policy", "explain", str(RULES / "default.policy"), "--at", "9999-12-31T23:59"],
        ["policy", "explain", str(RULES / "default.policy"), "--at", "0001-01-01T00:00"],
        ["case", "report", "--customer", "C", "--fault", "f", "--severity", "minor",
         "--channel", "phone", "--by", "cs1", "--at", "9999-12-31T23:59"],
        ["case", "report", "--customer", "C", "--fault", "f", "--severity", "minor",
         "--channel", "phone", "--by", "cs1", "--at", "0001-01-01T00:00"],
        ["case", "report", "--customer", "C", "--fault", "f\x00", "--severity", "minor",
         "--channel", "phone", "--by", "cs1", "--custom", "x=1e999"],
        ["appraise", "--period", "9999-12"],
        ["appraise", "--period", "0001-01"],
        ["appraise", "finalize", "--period", "2026-11\n", "--by", "m1"],
        ["staff", "add", "x", "--name", "a\rb", "--role", "engineer"],
        ["case", "list", "--status", "\ud800"],
    ],
)  # fmt: skip
def test_extreme_values_on_the_command_line_never_print_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    runner = cli_in(tmp_path, monkeypatch)
    for member in (["cs1", "--name", "Lin", "--role", "service_agent"],
                   ["m1", "--name", "Zhao", "--role", "manager"]):  # fmt: skip
        assert runner.invoke(main, ["staff", "add", *member]).exit_code == 0
    result = runner.invoke(main, args)
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def test_outbox_settings_are_bounded() -> None:
    for bad in ({"max_tries": 0}, {"max_tries": 10**30}, {"max_tries": True}):
        with pytest.raises(ValidationError):
            OutboxSettings(**bad)  # type: ignore[arg-type]
    assert OutboxSettings().delay(10**6).total_seconds() == 3600


class Quitter:
    """A notifier plugin that calls sys.exit, as a careless one might."""

    name = "quitter"

    @hookimpl
    def aftersales_notify(self, notification: object) -> None:
        raise SystemExit(f"bye https://bot:{SECRET}@chat.example.com/x")


def test_a_notifier_that_exits_neither_ends_the_caller_nor_leaks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from conftest import REPORT, T0, add_team

    desk = ServiceDesk(RULES / "default.policy", "memory://", plugins=[Quitter()])
    add_team(desk)
    case = desk.cases.report(**REPORT, by="cs1", at=T0)  # returns: the exit was caught
    desk.cases.respond(case.id, by="cs1", at=T0)
    desk.cases.assign(case.id, engineer="e7", by="cs1", at=T0)
    pending = desk.notifications.pending()
    assert pending and all("SystemExit" in (i.last_error or "") for i in pending)
    assert all(SECRET not in (i.last_error or "") for i in pending)
    assert SECRET not in caplog.text
