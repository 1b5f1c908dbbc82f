"""aftersales: run a machinery company's after-sales service team by its written policy.

The names here are the public API; everything else is internal.
"""

from aftersales.core.calendar import WorkCalendar
from aftersales.core.duration import Duration, Unit
from aftersales.core.errors import (
    AftersalesError,
    ConflictError,
    NotFound,
    PermissionDenied,
    PolicyError,
    PolicyIssue,
    ValidationError,
    WorkflowError,
)
from aftersales.core.money import Money
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

__version__ = "0.1.0"

__all__ = [
    "AftersalesError",
    "ConflictError",
    "Decision",
    "Duration",
    "ExampleResult",
    "Explanation",
    "FunctionRegistry",
    "Money",
    "NotFound",
    "PermissionDenied",
    "Policy",
    "PolicyError",
    "PolicyIssue",
    "Target",
    "Unit",
    "ValidationError",
    "ValueType",
    "WorkCalendar",
    "WorkflowError",
    "__version__",
    "explain",
    "load_policy",
    "parse_policy",
    "run_examples",
]
