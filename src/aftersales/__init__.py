"""aftersales: run a machinery company's after-sales service team by its written policy.

The names here are the public API; everything else is internal.
"""

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

__all__ = [
    "Acceptance",
    "AftersalesError",
    "Case",
    "CaseEvent",
    "CaseIndex",
    "CaseQuery",
    "ClockFact",
    "ConflictError",
    "Customer",
    "Decision",
    "DelayNotice",
    "Diagnosis",
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
