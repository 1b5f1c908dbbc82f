"""The contract between the desk and its plugins: the hook specifications, the storage
protocols a backend implements, the plugin manager and the typed way to call the hooks.

Built-in backends (:mod:`aftersales.plugins`) import this package exactly as a third-party
plugin does; ``aftersales`` re-exports what a plugin author needs.
"""

from aftersales.ports.hooks import Hooks, Notifier
from aftersales.ports.hookspecs import (
    Metric,
    MetricView,
    NotifierFactory,
    StorageFactory,
    hookimpl,
    hookspec,
)
from aftersales.ports.manager import DEFAULT_PLUGINS, make_manager
from aftersales.ports.storage import (
    AlertLedger,
    CaseIndex,
    CaseQuery,
    CaseSearch,
    EventStore,
    EventWriter,
    OutboxItem,
    OutboxReader,
    OutboxWriter,
    Record,
    SentNotification,
    Storage,
    Transaction,
)

__all__ = [
    "DEFAULT_PLUGINS",
    "AlertLedger",
    "CaseIndex",
    "CaseQuery",
    "CaseSearch",
    "EventStore",
    "EventWriter",
    "Hooks",
    "Metric",
    "MetricView",
    "Notifier",
    "NotifierFactory",
    "OutboxItem",
    "OutboxReader",
    "OutboxWriter",
    "Record",
    "SentNotification",
    "Storage",
    "StorageFactory",
    "Transaction",
    "hookimpl",
    "hookspec",
    "make_manager",
]
