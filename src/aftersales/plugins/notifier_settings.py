"""Reading a notifier's settings (a ``[notify.<name>]`` table of ``aftersales.toml``, or the
same mapping given to ``ServiceDesk(notify=...)``) strictly, and its secrets from the
environment only.

Settings files are copied, committed and shown on screens; a password or a signing secret
in one is a leak waiting to happen. So a table that holds one is refused, and the setting
names the environment variable to read instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, TypeVar

from cattrs.errors import BaseValidationError, ForbiddenExtraKeysError
from cattrs.preconf.json import make_converter

from aftersales.core.errors import ValidationError

T = TypeVar("T")

strict = make_converter(forbid_extra_keys=True)


def _names(value: Any, _: type) -> tuple[str, ...]:
    # a bare string would otherwise become a tuple of its letters
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ValueError(f"a list of names is wanted, e.g. [{value!r}], not {value!r}")
    return tuple(str(v) for v in value)


strict.register_structure_hook_func(lambda t: t == tuple[str, ...], _names)


def positive(_: Any, attribute: Any, value: float) -> None:
    """An attrs validator: more than zero (timeouts)."""
    if value <= 0:
        raise ValueError(f"{attribute.name} must be more than 0, not {value!r}")


def _problems(exc: BaseException) -> list[str]:
    if isinstance(exc, ForbiddenExtraKeysError):
        return [f"unknown setting {k!r}" for k in sorted(exc.extra_fields)]
    if isinstance(exc, BaseValidationError):
        found = []
        for sub in exc.exceptions:
            notes = [str(n) for n in getattr(sub, "__notes__", [])]
            where = next((n.split("@ attribute ")[-1] for n in notes if "attribute" in n), "")
            found += [f"{where}: {p}" if where else p for p in _problems(sub)]
        return found
    return [str(exc)]


def read_settings(cls: type[T], data: Mapping[str, Any], secrets: Mapping[str, str]) -> T:
    """``data`` as a ``cls`` (an attrs class of settings with defaults): unknown keys and
    values of the wrong type are a :class:`ValidationError` that names the known settings.
    ``secrets`` maps a key that must never appear (``password``) to the setting that names
    its environment variable instead (``password_env``)."""
    if not isinstance(data, Mapping):
        raise ValidationError(f"the settings are a table of names and values, not {data!r}")
    for key, variable in secrets.items():
        if key in data:
            raise ValidationError(
                f"{key} is never read from the settings: put it in an environment variable "
                f"and name that variable with {variable} = ..."
            )
    try:
        return strict.structure(dict(data), cls)
    except ValidationError:
        raise
    except (BaseValidationError, TypeError, ValueError) as exc:
        known = ", ".join(a.name for a in cls.__attrs_attrs__)  # type: ignore[attr-defined]
        problems = "; ".join(_problems(exc))
        raise ValidationError(f"{problems} (the settings are: {known})") from exc


def from_environment(variable: str, what: str) -> str:
    """The value of the environment variable ``variable``; ValidationError if unset or empty."""
    value = os.environ.get(variable, "")
    if not value:
        raise ValidationError(f"the environment variable {variable} holding {what} is not set")
    return value


__all__ = ["from_environment", "positive", "read_settings", "strict"]
