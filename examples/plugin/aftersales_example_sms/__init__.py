"""An example third-party plugin: text messages for the notifications that cannot wait.

A real one would call an SMS gateway; this one appends each message to the file named by
``EXAMPLE_SMS_OUTBOX`` (or logs it), which is enough to show every moving part: the entry
point in ``pyproject.toml``, a hook implementation, and configuration from the environment.
"""

from __future__ import annotations

import logging
import os

from aftersales import Notification, hookimpl

URGENT_KINDS = {"case_assigned", "acceptance_escalated", "warranty_rework"}

logger = logging.getLogger(__name__)


@hookimpl
def aftersales_notify(notification: Notification) -> None:
    if notification.kind not in URGENT_KINDS:
        return
    line = f"SMS to {','.join(notification.recipients)}: {notification.subject}"
    outbox = os.environ.get("EXAMPLE_SMS_OUTBOX")
    if outbox:
        with open(outbox, "a", encoding="utf-8") as f:
            f.write(line + "\n")
    else:
        logger.info(line)
