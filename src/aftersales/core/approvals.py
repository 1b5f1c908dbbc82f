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


def approve_step(
    chain: tuple[str, ...],
    done_by: tuple[str, ...],
    waiting: bool,
    approver: Staff,
    owner: str,
    what: str,
    status: str,
    noun: str,
) -> tuple[str, bool]:
    """The role of the step ``approver`` approves now, after every check of a chain, and
    whether it was the last step. ``done_by`` are the approvers of the steps before."""
    role = next_role(chain, len(done_by), waiting, what, status)
    check_approver(approver, role, owner, done_by, what, noun)
    return role, len(done_by) + 1 == len(chain)


def reject_step(
    waiting_for: str | None, rejecter: Staff, owner: str, what: str, status: str, noun: str
) -> str:
    """The role whose step ``rejecter`` turns down: the one the chain waits for, never the
    owner's own record. WorkflowError when nothing waits for approval."""
    if waiting_for is None:
        raise WorkflowError(f"{what} is {status}, not waiting for approval")
    permit_role(rejecter, (waiting_for,), f"reject {what} as {waiting_for}")
    not_own(rejecter, owner, f"reject their own {noun}")
    return waiting_for


__all__ = ["approve_step", "check_approver", "next_role", "reject_step"]
