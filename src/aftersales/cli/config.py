"""``aftersales.toml``: which policy and which store the command works on.

```toml
policy  = "rules/default.policy"       # relative paths are relative to this file
storage = "sqlite:///aftersales.db"    # any URL a storage plugin serves

[careers]
levels = ["engineer", "senior_engineer", "supervisor", "manager"]   # the ladder, lowest first
```

Looked up as ``--config PATH``, else ``$AFTERSALES_CONFIG``, else ``./aftersales.toml`` if
there is one; without a file the defaults above apply, relative to the working directory.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import attrs

from aftersales.core.errors import ValidationError
from aftersales.core.model import DEFAULT_LEVELS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

DEFAULT_POLICY = "rules/default.policy"
DEFAULT_STORAGE = "sqlite:///aftersales.db"
KNOWN_KEYS = ("policy", "storage", "careers")


@attrs.frozen
class Config:
    policy: Path
    storage: str
    source: Path | None = None
    levels: tuple[str, ...] = DEFAULT_LEVELS


def _sqlite_relative_to(url: str, base: Path) -> str:
    """A relative ``sqlite:///file`` URL made relative to ``base`` (the config's folder)."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        return prefix + str((base / url[len(prefix) :]).resolve())
    return url


def load_config(path: str | None) -> Config:
    """The configuration at ``path`` (None: ./aftersales.toml if present, else defaults)."""
    if path is None:
        found = Path("aftersales.toml")
        if not found.is_file():
            return Config(Path(DEFAULT_POLICY), DEFAULT_STORAGE)
        file = found
    else:
        file = Path(path)
    try:
        data: dict[str, Any] = tomllib.loads(file.read_text("utf-8"))
    except OSError as exc:
        raise ValidationError(f"cannot read {file}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"{file}: not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - set(KNOWN_KEYS) - {"notify"})
    if unknown:
        raise ValidationError(
            f"{file}: unknown setting {unknown[0]!r}; known: {', '.join(KNOWN_KEYS)}"
        )
    base = file.resolve().parent
    policy = data.get("policy", DEFAULT_POLICY)
    storage = data.get("storage", DEFAULT_STORAGE)
    if not isinstance(policy, str) or not isinstance(storage, str):
        raise ValidationError(f"{file}: policy and storage are text")
    careers = data.get("careers", {})
    levels = careers.get("levels", list(DEFAULT_LEVELS)) if isinstance(careers, dict) else None
    if not isinstance(levels, list) or not all(isinstance(x, str) for x in levels):
        raise ValidationError(f'{file}: [careers] levels is a list of names, e.g. ["engineer", '
                              '"senior_engineer", "supervisor", "manager"]')  # fmt: skip
    return Config(base / policy, _sqlite_relative_to(storage, base), file, tuple(levels))


__all__ = ["Config", "load_config"]
