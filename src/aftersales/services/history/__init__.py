"""Service histories from other systems: the timeline format (:mod:`.timeline`), mapping files
that turn an export into it (:mod:`.mapping`), and the import (:mod:`.importer`)."""

from aftersales.services.history.importer import (
    AGENT,
    HistoryService,
    ImportResult,
    Reject,
    open_text,
    read_history,
    write_rejects,
)
from aftersales.services.history.mapping import SHIPPED, HistoryMapping, as_mapping
from aftersales.services.history.timeline import (
    ACTIONS,
    COLUMNS,
    Skipped,
    TimelineRow,
    read_timeline,
)

__all__ = [
    "ACTIONS",
    "AGENT",
    "COLUMNS",
    "SHIPPED",
    "HistoryMapping",
    "HistoryService",
    "ImportResult",
    "Reject",
    "Skipped",
    "TimelineRow",
    "as_mapping",
    "open_text",
    "read_history",
    "read_timeline",
    "write_rejects",
]
