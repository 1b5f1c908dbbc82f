"""aftersales: run a machinery company's after-sales service team by its written policy.

The names here are the public API; everything else is internal. Each is imported when it is
first used (PEP 562), so ``import aftersales`` and commands that need little start fast: a
cron-driven tick or ``aftersales --help`` does not pay for the policy parser, the storage
backends or the converters it never touches.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aftersales.core.calendar import WorkCalendar
    from aftersales.core.convert import from_dict, to_dict
    from aftersales.core.duration import Duration, Unit
    from aftersales.core.errors import (
        AftersalesError,
        ConflictError,
        NotFound,
        PermissionDenied,
        PolicyError,
        PolicyIssue,
        StorageError,
        ValidationError,
        WorkflowError,
    )
    from aftersales.core.feedback import Complaint, ProductProblem
    from aftersales.core.messages import Attachment, Recipient
    from aftersales.core.model import (
        Acceptance,
        Case,
        CaseEvent,
        Customer,
        DelayNotice,
        Diagnosis,
        FollowUp,
        Handover,
        Hold,
        Notification,
        PartUse,
        PriorityChange,
        Product,
        Rejection,
        RepairReport,
        Staff,
        SurveyAnswer,
    )
    from aftersales.core.money import Money
    from aftersales.core.parts import Location, Movement, Part, Supplier
    from aftersales.policy import (
        Decision,
        ExampleResult,
        Explanation,
        FunctionRegistry,
        Policy,
        Target,
        ValueType,
        explain,
        load_policy,
        parse_policy,
        run_examples,
    )
    from aftersales.ports.hookspecs import MetricView, hookimpl
    from aftersales.ports.storage import (
        CaseIndex,
        CaseQuery,
        ClockFact,
        DueCase,
        FactRow,
        OutboxItem,
        Record,
        SentNotification,
        Storage,
        Transaction,
    )
    from aftersales.services.desk import ServiceDesk
    from aftersales.services.history import HistoryMapping, ImportResult, Reject, TimelineRow
    from aftersales.services.notifications import OutboxSettings

__version__ = "0.1.0"

_EXPORTS = {
    "Acceptance": "aftersales.core.model",
    "Attachment": "aftersales.core.messages",
    "Complaint": "aftersales.core.feedback",
    "ProductProblem": "aftersales.core.feedback",
    "Recipient": "aftersales.core.messages",
    "SurveyAnswer": "aftersales.core.model",
    "AftersalesError": "aftersales.core.errors",
    "Case": "aftersales.core.model",
    "CaseEvent": "aftersales.core.model",
    "CaseIndex": "aftersales.ports.storage",
    "CaseQuery": "aftersales.ports.storage",
    "DueCase": "aftersales.ports.storage",
    "ClockFact": "aftersales.ports.storage",
    "ConflictError": "aftersales.core.errors",
    "Customer": "aftersales.core.model",
    "Decision": "aftersales.policy",
    "DelayNotice": "aftersales.core.model",
    "Diagnosis": "aftersales.core.model",
    "Duration": "aftersales.core.duration",
    "ExampleResult": "aftersales.policy",
    "Explanation": "aftersales.policy",
    "FactRow": "aftersales.ports.storage",
    "FollowUp": "aftersales.core.model",
    "FunctionRegistry": "aftersales.policy",
    "Handover": "aftersales.core.model",
    "HistoryMapping": "aftersales.services.history",
    "Hold": "aftersales.core.model",
    "ImportResult": "aftersales.services.history",
    "Location": "aftersales.core.parts",
    "MetricView": "aftersales.ports.hookspecs",
    "Money": "aftersales.core.money",
    "Movement": "aftersales.core.parts",
    "NotFound": "aftersales.core.errors",
    "Notification": "aftersales.core.model",
    "OutboxItem": "aftersales.ports.storage",
    "OutboxSettings": "aftersales.services.notifications",
    "Part": "aftersales.core.parts",
    "PartUse": "aftersales.core.model",
    "PermissionDenied": "aftersales.core.errors",
    "Policy": "aftersales.policy",
    "PolicyError": "aftersales.core.errors",
    "PolicyIssue": "aftersales.core.errors",
    "PriorityChange": "aftersales.core.model",
    "Product": "aftersales.core.model",
    "Record": "aftersales.ports.storage",
    "Reject": "aftersales.services.history",
    "Rejection": "aftersales.core.model",
    "RepairReport": "aftersales.core.model",
    "SentNotification": "aftersales.ports.storage",
    "ServiceDesk": "aftersales.services.desk",
    "Staff": "aftersales.core.model",
    "Storage": "aftersales.ports.storage",
    "StorageError": "aftersales.core.errors",
    "Supplier": "aftersales.core.parts",
    "Target": "aftersales.policy",
    "TimelineRow": "aftersales.services.history",
    "Transaction": "aftersales.ports.storage",
    "Unit": "aftersales.core.duration",
    "ValidationError": "aftersales.core.errors",
    "ValueType": "aftersales.policy",
    "WorkCalendar": "aftersales.core.calendar",
    "WorkflowError": "aftersales.core.errors",
    "explain": "aftersales.policy",
    "from_dict": "aftersales.core.convert",
    "hookimpl": "aftersales.ports.hookspecs",
    "load_policy": "aftersales.policy",
    "parse_policy": "aftersales.policy",
    "run_examples": "aftersales.policy",
    "to_dict": "aftersales.core.convert",
}
"""Each public name and the module that defines it."""


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'aftersales' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # looked up once; later reads are plain module attributes
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "Acceptance",
    "AftersalesError",
    "Attachment",
    "Case",
    "CaseEvent",
    "CaseIndex",
    "CaseQuery",
    "ClockFact",
    "Complaint",
    "ConflictError",
    "Customer",
    "Decision",
    "DelayNotice",
    "Diagnosis",
    "DueCase",
    "Duration",
    "ExampleResult",
    "Explanation",
    "FactRow",
    "FollowUp",
    "FunctionRegistry",
    "Handover",
    "HistoryMapping",
    "Hold",
    "ImportResult",
    "Location",
    "MetricView",
    "Money",
    "Movement",
    "NotFound",
    "Notification",
    "OutboxItem",
    "OutboxSettings",
    "Part",
    "PartUse",
    "PermissionDenied",
    "Policy",
    "PolicyError",
    "PolicyIssue",
    "PriorityChange",
    "Product",
    "ProductProblem",
    "Recipient",
    "Record",
    "Reject",
    "Rejection",
    "RepairReport",
    "SentNotification",
    "ServiceDesk",
    "Staff",
    "Storage",
    "StorageError",
    "Supplier",
    "SurveyAnswer",
    "Target",
    "TimelineRow",
    "Transaction",
    "Unit",
    "ValidationError",
    "ValueType",
    "WorkCalendar",
    "WorkflowError",
    "__version__",
    "explain",
    "from_dict",
    "hookimpl",
    "load_policy",
    "parse_policy",
    "run_examples",
    "to_dict",
]
