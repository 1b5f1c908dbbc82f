"""What action commands read from their options (``SKU:QTY`` lines, ``NAME=VALUE`` pairs) and
how they report what they did."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import click

from aftersales.cli.output import print_json
from aftersales.core.errors import ValidationError


def part_lines(values: Sequence[str], option: str = "--line") -> list[dict[str, Any]]:
    """``SKU:QTY`` options as the SDK's lines (``{"sku", "quantity"}``)."""
    lines = []
    for value in values:
        sku, sep, quantity = value.rpartition(":")
        if not sep or not sku or not quantity.strip().isdigit():
            raise ValidationError(f"{option} {value!r}: write SKU:QUANTITY, such as SEAL-9:2")
        lines.append({"sku": sku, "quantity": int(quantity)})
    return lines


def priced_lines(values: Sequence[str], option: str = "--line") -> list[dict[str, Any]]:
    """``SKU:QTY@PRICE`` options as the lines of a purchase order."""
    lines = []
    for value in values:
        entry, sep, price = value.rpartition("@")
        if not sep or not price.strip():
            raise ValidationError(
                f"{option} {value!r}: write SKU:QUANTITY@UNIT_PRICE, such as SEAL-9:20@12.50"
            )
        (line,) = part_lines([entry], option)
        lines.append({**line, "price": price.strip()})
    return lines


def pairs(values: Sequence[str], option: str, example: str) -> dict[str, str]:
    """``NAME=VALUE`` options as a mapping; a repeated name keeps the last value."""
    found: dict[str, str] = {}
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name.strip():
            raise ValidationError(f"{option} {value!r}: write NAME=VALUE, such as {example}")
        found[name.strip()] = text.strip()
    return found


def number(text: str, option: str) -> Decimal:
    """A decimal number an option gives, such as 16 or 7.5."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValidationError(f"{option} {text!r}: a number, such as 16 or 7.5") from None
    if not value.is_finite():
        raise ValidationError(f"{option} {text!r}: a number, such as 16 or 7.5")
    return value


def yes_no(values: dict[str, str], option: str) -> dict[str, bool]:
    """``NAME=yes|no`` pairs as booleans."""
    answers = {"yes": True, "y": True, "true": True, "pass": True,
               "no": False, "n": False, "false": False, "fail": False}  # fmt: skip
    found = {}
    for name, text in values.items():
        if text.lower() not in answers:
            raise ValidationError(f"{option} {name}={text!r}: the answer is yes or no")
        found[name] = answers[text.lower()]
    return found


def done(as_json: bool, record: Any, line: str) -> None:
    """What an action did: the record it made or changed as JSON, or one line."""
    if as_json:
        print_json(record)
    else:
        click.echo(line)
