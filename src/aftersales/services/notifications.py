"""``desk.notifications``: the transactional outbox and its delivery.

A notification is written to the outbox in the transaction of the event that caused it, one
item per notifier plugin, and delivered once that transaction has committed. A notifier that
raises is tried again later, ``backoff`` after the first failure and twice as long after
each next one (capped at an hour), until it takes the notification or has failed
``max_tries`` times; the item is then ``failed`` and stays visible (``desk.notifications.
failed()``, ``aftersales notifications failed``) until someone retries it.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar

import attrs

from aftersales.core import redact, values
from aftersales.core.boundary import public_api
from aftersales.core.convert import from_dict, to_dict
from aftersales.core.errors import ConflictError, NotFound, ValidationError
from aftersales.core.model import Notification, Staff
from aftersales.core.values import shown
from aftersales.ports.hooks import Notifier
from aftersales.ports.storage import OutboxItem, SentNotification, Transaction, utc_text
from aftersales.services.basis import Basis
from aftersales.services.ids import token
from aftersales.services.staff import StaffDirectory

logger = logging.getLogger("aftersales")
LEASE = timedelta(minutes=5)  # how long a claimed item is left to the desk that claimed it
MAX_BACKOFF = timedelta(hours=1)
_BATCH = 200


@attrs.frozen
class OutboxSettings:
    """How hard the desk tries: ``max_tries`` deliveries per notifier, the first retry
    ``backoff`` after the first failure, doubling up to an hour."""

    max_tries: int = 8
    backoff: timedelta = timedelta(seconds=30)
    deliver_within: timedelta = timedelta(seconds=5)
    """The longest an action waits for its notifiers once its transaction has committed;
    what is not delivered by then stays queued and the tick delivers it."""

    def __attrs_post_init__(self) -> None:
        values.count(self.max_tries, "max_tries", minimum=1, maximum=1000)
        if not isinstance(self.backoff, timedelta) or not (
            timedelta(0) < self.backoff <= MAX_BACKOFF
        ):
            raise ValidationError(f"backoff is a timedelta above 0 and at most {MAX_BACKOFF}")
        if not isinstance(self.deliver_within, timedelta) or not (
            timedelta(0) < self.deliver_within <= timedelta(minutes=10)
        ):
            raise ValidationError("deliver_within is a timedelta above 0 and at most 10 minutes")

    def delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failure."""
        if attempts > 20:  # 2**20 backoffs are past the hour whatever the first one is
            return MAX_BACKOFF
        wait: timedelta = self.backoff * 2 ** max(attempts - 1, 0)
        return min(wait, MAX_BACKOFF)


class _Courier:
    """Runs deliveries on a thread of its own, so the caller stops waiting at a deadline
    whatever a notifier does (trickles, sleeps, hangs). A courier stuck past the deadline is
    abandoned (it ends when its notifier returns) and the next delivery gets a new one."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] | None = None
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def _work(self, jobs: queue.SimpleQueue[Callable[[], None] | None]) -> None:
        while True:
            job = jobs.get()
            if job is None:
                return
            job()

    def run(self, job: Callable[[], None], timeout: float, progress: Callable[[], int]) -> bool:
        """Run ``job``; False if it made no ``progress`` (a count that grows as it goes) for
        ``timeout`` seconds, then it is abandoned."""
        done = threading.Event()
        failure: list[BaseException] = []

        def wrapped() -> None:
            try:
                job()
            except BaseException as exc:  # raised in the caller: the courier carries on
                failure.append(exc)
            finally:
                done.set()

        if self._pid != os.getpid():  # a forked child: the parent's courier thread is not here
            self._jobs, self._lock, self._pid = None, threading.Lock(), os.getpid()
        with self._lock:
            jobs = self._jobs
            if jobs is None:
                jobs = self._jobs = queue.SimpleQueue()
                threading.Thread(target=self._work, args=(jobs,), daemon=True,
                                 name="aftersales-courier").start()  # fmt: skip
            jobs.put(wrapped)
        seen = progress()
        while not done.wait(timeout):
            now_seen = progress()
            if now_seen == seen:
                break
            seen = now_seen
        else:
            if failure:
                raise failure[0]
            return True
        with self._lock:
            if self._jobs is jobs:  # abandon the stuck courier: it exits after this job
                self._jobs = None
                jobs.put(None)
        return False


class _Staged(dict[str, Any]):
    """A staged item's stored form that still holds the notification it was made from, so
    the delivery right after the commit need not decode it again (a tick stages thousands)."""

    def __init__(self, body: dict[str, Any], note: Notification) -> None:
        super().__init__(body)
        self.note = note


CROSSED_RETRIES = 3
"""How often a decision that crossed another desk's is made again before giving up."""


class Crossed(ConflictError):
    """Another desk recorded some of the same notifications first (on a store whose writers
    run in parallel): the transaction is undone, and the decision is made again from what
    is recorded now."""

    def __init__(self) -> None:
        super().__init__(
            "another desk kept recording the same notifications at the same time; run again"
        )


T = TypeVar("T")


def retried(
    attempt: Callable[[], T],
    *,
    on: type[ConflictError] = Crossed,
    tries: int = CROSSED_RETRIES + 1,
) -> T:
    """``attempt()``, made again while it raises ``on`` (a decision that crossed another
    desk's and was undone), ``tries`` times in all; the last one's error is raised."""
    for _ in range(tries - 1):
        try:
            return attempt()
        except on:
            continue
    return attempt()


def record_once(tx: Transaction, records: Sequence[SentNotification]) -> None:
    """Record ``records`` in ``tx``, or raise :class:`Crossed` (undoing the transaction) if
    another desk recorded any of them since their keys were read."""
    if tx.record_sent(records) != len(records):
        raise Crossed


@public_api("desk.notifications")
class NotificationService:
    def __init__(self, basis: Basis, staff: StaffDirectory, settings: OutboxSettings) -> None:
        self._basis = basis
        self._staff = staff
        self.settings = settings
        self._courier = _Courier()
        self._receipts: list[Callable[[Notification, str, str, datetime], None]] = []

    # -- writing ---------------------------------------------------------------------------
    def notifiers(self) -> list[str]:
        """The names of the loaded notifier plugins (those implementing aftersales_notify)."""
        return list(self._basis.hooks.notifiers())

    def stage(self, notifications: Iterable[Notification], now: datetime) -> list[OutboxItem]:
        """Outbox items for ``notifications``, one per notifier, to enqueue in the caller's
        transaction; reserved (leased) for the immediate delivery that follows the commit."""
        created, reserved = utc_text(now), utc_text(now + LEASE)
        names = self.notifiers()
        items = []
        for note in notifications:
            body = _Staged(to_dict(note), note)  # one body for all notifiers
            items += [OutboxItem(token(), name, body, created, reserved) for name in names]
        return items

    @contextmanager
    def transaction(
        self, notifications: Sequence[Notification], now: datetime
    ) -> Iterator[Transaction]:
        """A storage transaction that also writes ``notifications`` to the outbox: they are
        delivered once it has committed, and never if it rolls back."""
        items = self.stage(notifications, now)
        with self._basis.storage.transaction() as tx:
            yield tx
            tx.enqueue(items)
        self.deliver(items, now)

    def send(
        self, notifications: Sequence[Notification], now: datetime | None = None
    ) -> list[OutboxItem]:
        """Write ``notifications`` to the outbox in a transaction of their own and deliver
        them: for notifications not caused by a stored event. Returns the items after the
        first try (``status`` ``delivered``, or ``pending`` with ``last_error``)."""
        if not notifications:
            return []
        items = self.stage(notifications, self._basis.at(now))
        with self._basis.storage.transaction() as tx:
            tx.enqueue(items)
        return self.deliver(items, self._basis.at(now))

    def test(self, staff_id: str, now: datetime | None = None) -> list[OutboxItem]:
        """Send a ``test`` notification to ``staff_id`` through every notifier: to check the
        e-mail and webhook settings. Returns each notifier's item after the first try."""
        member = self._staff.get(staff_id)
        when = self._basis.at(now)
        note = Notification("test", None, (member.id,),
                            f"aftersales: a test notification for {member.name}",
                            {"email": member.email, "team": member.team}, when)  # fmt: skip
        return self.send([note], when)

    def once(
        self, entries: Sequence[tuple[str, str, Notification]], now: datetime
    ) -> list[Notification]:
        """Send each ``(holder, key, note)`` unless ``key`` was sent for ``holder``
        (``tool:TW-1``, ...) before. The checks, the records and the outbox writes are one
        transaction, so desks ticking at the same time send each once. Returns those sent."""
        if not entries:
            return []
        stamp = utc_text(now)
        holders = list(dict.fromkeys(holder for holder, _, _ in entries))

        def decide() -> tuple[list[OutboxItem], list[Notification]]:
            with self._basis.storage.transaction() as tx:
                known = tx.sent_keys(holders)
                fresh = [(h, k, n) for h, k, n in entries if k not in known.get(h, set())]
                record_once(tx, [SentNotification(h, k, stamp, {}) for h, k, _ in fresh])
                notes = [n for _, _, n in fresh]
                items = self.stage(notes, now)
                tx.enqueue(items)
            return items, notes

        items, notes = retried(decide)
        self.deliver(items, now)
        return notes

    def on_receipt(self, listener: Callable[[Notification, str, str, datetime], None]) -> None:
        """Call ``listener(notification, plugin, receipt, at)`` after each delivery of a
        customer's message that a notifier confirmed reached them (its hook returned the
        channel). The case service listens, to record when a delay notice reached them."""
        self._receipts.append(listener)

    # -- delivering ------------------------------------------------------------------------
    def deliver(self, items: Sequence[OutboxItem], now: datetime | None = None) -> list[OutboxItem]:
        """Hand each item to its notifier and record the outcome; returns the items after."""
        if not items:
            return []
        when = self._basis.at(now)
        impls = self._basis.hooks.notifiers()
        delivered_at = utc_text(when)
        settled: list[OutboxItem] = []
        receipts: list[tuple[Notification, str, str]] = []
        expired = [False]  # set when the caller stopped waiting: the courier stops too
        tried = [0]

        def run() -> None:
            for item in items:
                if expired[0]:
                    return
                after, receipt = self._deliver_one(item, impls, when, delivered_at)
                if after is not None and not expired[0]:
                    settled.append(after)
                    if receipt is not None:
                        receipts.append(receipt)
                tried[0] += 1

        within = self.settings.deliver_within
        if all(impls[i.plugin].inline for i in items if i.plugin in impls):
            run()  # in-process notifiers that cannot block: no thread hand-off (~60 us)
        elif not self._courier.run(run, within.total_seconds(), lambda: tried[0]):
            expired[0] = True
            logger.warning(
                "a notifier took longer than %s over one notification; the undelivered stay "
                "queued and the tick delivers them",
                within,
            )
        finished = list(settled)  # a late finisher is delivered again: at least once
        if finished:  # none when no notifier of these items is loaded here
            with self._basis.storage.transaction() as tx:
                tx.settle(finished)
        for note, plugin, receipt in list(receipts):
            for listener in self._receipts:
                try:
                    listener(note, plugin, receipt, when)
                except Exception:  # a receipt never undoes a delivery
                    logger.exception("recording %s's receipt of %s failed", plugin, note.kind)
        return finished

    def _deliver_one(
        self, item: OutboxItem, impls: dict[str, Notifier], when: datetime, delivered_at: str
    ) -> tuple[OutboxItem | None, tuple[Notification, str, str] | None]:
        """Hand one item to its notifier: the item after (None if no loaded plugin is it),
        and the notifier's receipt of a customer's message."""
        notifier = impls.get(item.plugin)
        if notifier is None:
            return None, None  # another desk, with that plugin, delivers it
        body = item.notification
        note = body.note if isinstance(body, _Staged) else from_dict(Notification, dict(body))
        attempts = item.attempts + 1
        receipt = None
        try:
            receipt = notifier(note, self.recipients(note) if notifier.wants_staff else (),
                               item.id)  # fmt: skip
        except KeyboardInterrupt:
            raise  # the person at the terminal, not the plugin
        except BaseException as exc:  # SystemExit too: a plugin never ends the caller
            error = redact.scrub(f"{type(exc).__name__}: {exc}"[:500])
            # expected (a server down) more often than a bug: the traceback only on debug
            logger.warning("plugin %s failed in aftersales_notify (%s), try %d: %s",
                           item.plugin, note.kind, attempts, error,
                           exc_info=logger.isEnabledFor(logging.DEBUG))  # fmt: skip
            if attempts >= self.settings.max_tries:
                after = attrs.evolve(item, attempts=attempts, status="failed", last_error=error)
            else:
                retry = utc_text(when + self.settings.delay(attempts))
                after = attrs.evolve(item, attempts=attempts, next_try_at=retry,
                                     last_error=error)  # fmt: skip
        else:  # the common case, thousands per tick: no attrs.evolve
            after = OutboxItem(item.id, item.plugin, body, item.created_at, item.next_try_at,
                               attempts, "delivered", None, delivered_at)  # fmt: skip
            if receipt is not None and note.to is not None:
                return after, (note, item.plugin, receipt)
        return after, None

    def recipients(self, notification: Notification) -> tuple[Staff, ...]:
        """The staff records of ``notification``'s recipients that are on file."""
        found = []
        for staff_id in notification.recipients:
            try:
                found.append(self._staff.get(staff_id))
            except NotFound:
                logger.warning("%s: recipient %s is not on the staff list", notification.kind,
                               staff_id)  # fmt: skip
        return tuple(found)

    def deliver_due(self, now: datetime | None = None) -> list[OutboxItem]:
        """Deliver every pending item whose time has come (the SLA tick calls this; so does
        ``aftersales notifications deliver``). Returns the items tried."""
        when = self._basis.at(now)
        names = self.notifiers()
        tried: list[OutboxItem] = []
        while True:
            with self._basis.storage.transaction() as tx:
                claimed = tx.claim(utc_text(when), utc_text(when + LEASE), names, _BATCH)
            tried += self.deliver(claimed, when)
            if len(claimed) < _BATCH:
                return tried

    # -- reading and repair ----------------------------------------------------------------
    def pending(self) -> list[OutboxItem]:
        return self._basis.storage.outbox("pending")

    def failed(self) -> list[OutboxItem]:
        """Items given up after ``max_tries``: what an operator should look at."""
        return self._basis.storage.outbox("failed")

    def retry(self, item_id: str, now: datetime | None = None) -> OutboxItem:
        """Put a failed item back in the queue with fresh tries, and try it now. ``item_id``
        may be the start of the id (as tables show it), if only one failed item has it."""
        item_id = values.name(item_id, "a notification id")
        failed = self.failed()
        matches = [i for i in failed if i.id == item_id] or [
            i for i in failed if i.id.startswith(item_id)
        ]
        if not matches:
            raise NotFound(
                f"no failed notification {shown(item_id)}; the failed ones: `aftersales "
                "notifications failed` (desk.notifications.failed())"
            )
        if len(matches) > 1:
            raise ValidationError(
                f"{shown(item_id)} starts {len(matches)} failed notifications' ids ("
                + ", ".join(i.id for i in matches[:5])
                + "); give more of the id"
            )
        [found] = matches
        when = self._basis.at(now)
        again = attrs.evolve(found, status="pending", attempts=0, next_try_at=utc_text(when))
        with self._basis.storage.transaction() as tx:
            tx.settle([again])
        [after] = self.deliver([again], when) or [again]
        return after

    def prune(self, older_than: timedelta = timedelta(days=30), now: datetime | None = None) -> int:
        """Delete delivered items delivered more than ``older_than`` ago (each delivered
        notification otherwise stays a row for good); pending and failed ones are kept.
        Returns how many were deleted. Run it daily (``aftersales notifications prune``)."""
        if not isinstance(older_than, timedelta) or older_than < timedelta(0):
            raise ValidationError("older_than is a timedelta of 0 or more")
        now = self._basis.at(now)
        # a span reaching past the desk's first year deletes what is older than that year
        cutoff = values.EARLIEST if older_than >= now - values.EARLIEST else now - older_than
        with self._basis.storage.transaction() as tx:
            return tx.prune_outbox(utc_text(cutoff))

    def describe(self, item: OutboxItem) -> dict[str, Any]:
        """An item as a plain dict for tables and JSON, its times in the policy's zone."""
        note = item.notification
        tz = self._basis.policy.tz

        def local(text: str | None) -> str | None:
            if not text:
                return text
            return datetime.fromisoformat(text).astimezone(tz).isoformat(timespec="seconds")

        to = note.get("to")  # a customer's message: the contact, not staff
        recipients = note.get("recipients") if not isinstance(to, dict) else [
            f"{to.get('name')} <{to.get('address')}> by {to.get('channel')}"]  # fmt: skip
        return {"id": item.id, "plugin": item.plugin, "kind": note.get("kind"),
                "subject": note.get("subject"), "recipients": recipients,
                "attempts": item.attempts, "status": item.status,
                "created_at": local(item.created_at), "next_try_at": local(item.next_try_at),
                "last_error": item.last_error}  # fmt: skip


__all__ = ["LEASE", "NotificationService", "OutboxSettings"]
