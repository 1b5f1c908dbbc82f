"""The built-in notifier: every notification, one line on the ``aftersales.notify`` logger.

Configure it like any logger (``logging.basicConfig(level=logging.INFO)`` shows them);
block it with ``AFTERSALES_BLOCK_PLUGINS=aftersales.plugins.log_notifier``.
"""

from __future__ import annotations

import logging

from aftersales.core.model import Notification
from aftersales.ports.hookspecs import hookimpl

logger = logging.getLogger("aftersales.notify")

aftersales_inline = True
"""Called on the action's own thread: a log line never waits on a server (see
docs/plugins.md, "Notifiers that cannot block")."""


@hookimpl
def aftersales_notify(notification: Notification) -> None:
    logger.info(
        "%s to %s: %s",
        notification.kind,
        ", ".join(notification.recipients) or "(nobody)",
        notification.subject,
        extra={"notification": notification},
    )
