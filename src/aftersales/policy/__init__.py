"""The policy language: grammar, parser, compiler and the compiled :class:`Policy`."""

from aftersales.policy.examples import ExampleResult, Explanation, explain, run_examples
from aftersales.policy.functions import FunctionRegistry, PolicyFunction, ValueType
from aftersales.policy.keywords import RESERVED_WORDS
from aftersales.policy.model import Decision, Policy, Target
from aftersales.policy.parser import load_policy, parse_policy, same_meaning

__all__ = [
    "RESERVED_WORDS",
    "Decision",
    "ExampleResult",
    "Explanation",
    "FunctionRegistry",
    "Policy",
    "PolicyFunction",
    "Target",
    "ValueType",
    "explain",
    "load_policy",
    "parse_policy",
    "run_examples",
    "same_meaning",
]
