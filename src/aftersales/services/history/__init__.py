"""Service histories from other systems: the timeline format (:mod:`.timeline`), mapping files
that turn an export into it (:mod:`.mapping`), reading a file case by case (:mod:`.source`),
and the import (:mod:`.importer`)."""

from aftersales.services.history.importer import (
    AGENT,
    HistoryService,
    ImportResult,
    Reject,
    group_cases,
    stream_cases,
    write_rejects,
)
from aftersales.services.history.mapping import SHIPPED, HistoryMapping, as_mapping
from aftersales.services.history.source import HistoryFile, open_history, open_text
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
    "HistoryFile",
    "HistoryMapping",
    "HistoryService",
    "ImportResult",
    "Reject",
    "Skipped",
    "TimelineRow",
    "as_mapping",
    "group_cases",
    "open_history",
    "open_text",
    "read_timeline",
    "stream_cases",
    "write_rejects",
]
