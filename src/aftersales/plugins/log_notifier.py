"""The built-in notifier: every notification, one line on the ``aftersales.notify`` logger.

Configure it like any logger (``logging.basicConfig(level=logging.INFO)`` shows them);
block it with ``AFTERSALES_BLOCK_PLUGINS=aftersales.plugins.log_notifier``.
"""

from __future__ import annotations

import logging

from aftersales.core.model import Notification
from aftersales.plugins.hookspecs import hookimpl

logger = logging.getLogger("aftersales.notify")


@hookimpl
def aftersales_notify(notification: Notification) -> None:
    logger.info(
        "%s to %s: %s",
        notification.kind,
        ", ".join(notification.recipients) or "(nobody)",
        notification.subject,
        extra={"notification": notification},
    )
