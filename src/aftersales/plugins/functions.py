"""The built-in policy functions (``lower``, ``upper``, ``length``, ...) as a plugin, so a
desk's function registry is built the same way for built-ins and third parties."""

from __future__ import annotations

from aftersales.policy.functions import BUILTIN_FUNCTIONS
from aftersales.ports.hookspecs import FunctionRegistrar, hookimpl


@hookimpl
def aftersales_policy_functions(register: FunctionRegistrar) -> None:
    for function in BUILTIN_FUNCTIONS:
        register(function.name, function.impl, function.params, function.returns, function.doc)
