"""The fields each kind of policy expression may use, and their types."""

from __future__ import annotations

from collections.abc import Mapping

from aftersales.policy.functions import ValueType

T = ValueType

CASE_FIELDS: Mapping[str, ValueType] = {
    "severity": T.TEXT,
    "machine_down": T.BOOL,
    "channel": T.TEXT,
    "fault": T.TEXT,
    "fault_code": T.TEXT,
    "product.model": T.TEXT,
    "product.line": T.TEXT,
    "product.serial": T.TEXT,
    "customer.name": T.TEXT,
    "customer.tier": T.TEXT,
    "customer.region": T.TEXT,
    "customer.id": T.TEXT,
    "under_warranty": T.BOOL,
    # the installed base (missing where the store has no record of the machine or contract)
    "machine.serial": T.TEXT,
    "machine.model": T.TEXT,
    "machine.line": T.TEXT,
    "machine.site": T.TEXT,
    "machine.hours": T.NUMBER,
    "machine.age_months": T.NUMBER,
    "machine.under_warranty": T.BOOL,
    "contract.id": T.TEXT,
    "contract.level": T.TEXT,
    "contract.response": T.TEXT,
    "contract.parts": T.BOOL,
    "contract.labour": T.BOOL,
    "contract.travel": T.BOOL,
    "coverage": T.TEXT,
}
"""Fields of a case usable in ``priority`` and ``require certificate`` conditions."""

ASSIGNMENT_FIELDS: Mapping[str, ValueType] = {**CASE_FIELDS, "priority": T.TEXT}
CLAIM_FIELDS: Mapping[str, ValueType] = {"amount": T.MONEY, "lines": T.NUMBER, "cases": T.NUMBER}
REQUISITION_FIELDS: Mapping[str, ValueType] = {"value": T.MONEY, "quantity": T.NUMBER}
SUPPLIER_FIELDS: Mapping[str, ValueType] = {
    "deliveries": T.NUMBER,
    "late": T.NUMBER,
    "late_rate": T.PERCENT,
    "delivered": T.NUMBER,
    "rejected": T.NUMBER,
    "rejected_rate": T.PERCENT,
}
"""A supplier's record, as ``review suppliers when`` sees it (rates are percentages)."""

STOCK_FIELDS: Mapping[str, ValueType] = {
    "on_hand": T.NUMBER,
    "reserved": T.NUMBER,
    "available": T.NUMBER,
    "reorder_point": T.NUMBER,
    "reorder_quantity": T.NUMBER,
}
