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
    "under_warranty": T.BOOL,
}
"""Fields of a case usable in ``priority`` and ``require certificate`` conditions."""

ASSIGNMENT_FIELDS: Mapping[str, ValueType] = {**CASE_FIELDS, "priority": T.TEXT}
CLAIM_FIELDS: Mapping[str, ValueType] = {"amount": T.MONEY, "lines": T.NUMBER, "cases": T.NUMBER}
REQUISITION_FIELDS: Mapping[str, ValueType] = {"value": T.MONEY, "quantity": T.NUMBER}
STOCK_FIELDS: Mapping[str, ValueType] = {
    "on_hand": T.NUMBER,
    "reserved": T.NUMBER,
    "available": T.NUMBER,
    "reorder_point": T.NUMBER,
    "reorder_quantity": T.NUMBER,
}
