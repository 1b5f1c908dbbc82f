"""``aftersales notifications pending|failed|deliver|retry|prune|test``: the outbox."""

from __future__ import annotations

from datetime import timedelta

import click

from aftersales.cli.arguments import done
from aftersales.cli.context import open_desk
from aftersales.cli.output import FORMAT, JSON_OPTION, emit, print_json

COLUMNS = ("id", "plugin", "kind", "subject", "attempts", "next_try_at", "last_error")


def _rows(items: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [tuple(item[c] for c in COLUMNS) for item in items]


@click.group()
def notifications() -> None:
    """The notification outbox: what waits, what failed; deliver, retry, prune; send a test."""


@notifications.command("pending")
@FORMAT
def notifications_pending(fmt: str) -> None:
    """Notifications not delivered yet, with their next try."""
    with open_desk() as desk:
        items = [desk.notifications.describe(i) for i in desk.notifications.pending()]
        emit("pending notifications", COLUMNS, _rows(items), fmt)


@notifications.command("failed")
@FORMAT
def notifications_failed(fmt: str) -> None:
    """Notifications given up after the last try, with the last error."""
    with open_desk() as desk:
        items = [desk.notifications.describe(i) for i in desk.notifications.failed()]
        emit("failed notifications", COLUMNS, _rows(items), fmt)


@notifications.command("deliver")
@JSON_OPTION
def notifications_deliver(as_json: bool) -> None:
    """Deliver what is due now (the SLA tick does this too)."""
    with open_desk() as desk:
        tried = desk.notifications.deliver_due()
        delivered = sum(1 for i in tried if i.status == "delivered")
        done(as_json, tried, f"{len(tried)} tried, {delivered} delivered")


@notifications.command("retry")
@click.argument("item_id")
@JSON_OPTION
def notifications_retry(item_id: str, as_json: bool) -> None:
    """Put a failed notification back in the queue with fresh tries, and try it now."""
    with open_desk() as desk:
        after = desk.notifications.retry(item_id)
        done(as_json, after, f"{after.id}: {after.status} after {after.attempts} try")


@notifications.command("test")
@click.argument("staff_id")
@JSON_OPTION
def notifications_test(staff_id: str, as_json: bool) -> None:
    """Send a test notification to STAFF_ID through every notifier (checks the [notify.*]
    settings of aftersales.toml): one line per notifier."""
    with open_desk() as desk:
        items = desk.notifications.test(staff_id)
        if as_json:
            print_json(items)
        for item in items if not as_json else ():
            outcome = (
                "delivered" if item.status == "delivered" else f"not delivered: {item.last_error}"
            )
            click.echo(f"{item.plugin}: {outcome}")
        if any(item.status != "delivered" for item in items):
            raise SystemExit(1)


@notifications.command("prune")
@click.option("--days", type=click.IntRange(min=0, max=99_999_999), default=30, show_default=True,
              help="Keep what was delivered in the last DAYS days.")  # fmt: skip
def notifications_prune(days: int) -> None:
    """Delete delivered notifications older than --days (pending and failed ones stay);
    run it daily from cron."""
    with open_desk() as desk:
        gone = desk.notifications.prune(timedelta(days=days))
        click.echo(f"{gone} delivered notification(s) older than {days} days deleted")
