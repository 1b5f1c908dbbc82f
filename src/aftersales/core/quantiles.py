"""The figures reports give of how long things took: the median and the 90th percentile."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from datetime import timedelta
from typing import TypeVar

T = TypeVar("T", float, timedelta)


def median(values: Sequence[T]) -> T | None:
    """The median (the mean of the middle two of an even count); None of nothing."""
    # the standard library's median needs only order, addition and halving, which timedelta
    # has; its stubs admit numbers only
    return statistics.median(values) if values else None  # type: ignore[type-var]


def p90(values: Sequence[T]) -> T | None:
    """The 90th percentile by the nearest-rank method: the smallest value that at least 90%
    of the values do not exceed; None of nothing."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


__all__ = ["median", "p90"]
