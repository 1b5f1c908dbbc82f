"""Approval chains: the rules every chain of the policy shares (expense claims, parts
requisitions): each step needs its role, nobody approves what they asked for, and nobody
approves two steps of one chain."""

from __future__ import annotations

from collections.abc import Iterable

from aftersales.core.errors import PermissionDenied, WorkflowError
from aftersales.core.model import Staff
from aftersales.core.permissions import not_own, permit_role


def next_role(chain: tuple[str, ...], done: int, waiting: bool, what: str, status: str) -> str:
    """The role the next approval needs; WorkflowError when nothing waits for approval."""
    if not waiting or done >= len(chain):
        raise WorkflowError(f"{what} is {status}, not waiting for approval")
    return chain[done]


def check_approver(
    actor: Staff, role: str, owner: str, approved_by: Iterable[str], what: str, noun: str
) -> None:
    """PermissionDenied unless ``actor`` may approve the step of ``what`` that needs ``role``."""
    permit_role(actor, (role,), f"approve {what} as {role}")
    not_own(actor, owner, f"approve their own {noun}")
    if actor.id in set(approved_by):
        raise PermissionDenied(f"{actor.id} already approved {what} at an earlier step")


__all__ = ["check_approver", "next_role"]
