"""A mapping file (TOML) turns another system's export into timeline rows.

```toml
[source]
timezone = "Europe/Stockholm"   # for timestamps without an offset

[columns]                       # timeline field = the export's column
case = "SR Number"
time = "Change Date+Time"
actor = "Owner First Name"
team = "Involved ST"
severity = "SR Latest Impact"

[values.severity]               # the export's value = the timeline's
Major = "major"

[[rules]]                       # the first rule whose `when` matches a row decides
when = { Status = "Accepted", "Sub Status" = "Wait - User" }
actions = ["hold"]
set = { reason = "user" }       # fields every action of the rule gets
```

A row no rule matches is a reject ("no rule for ..."), never skipped in silence; a rule with
``actions = []`` ignores its rows (counted). ``when`` values may be a list (any of them).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from aftersales.core.errors import ValidationError
from aftersales.services.history.timeline import ACTIONS, COLUMNS, Skipped, TimelineRow, parse_time

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

SHIPPED = Path(__file__).resolve().parent / "mappings"
"""The mappings that come with the SDK (``--mapping volvo-bpic2013``)."""


@attrs.frozen
class Rule:
    when: Mapping[str, tuple[str, ...]]
    actions: tuple[str, ...]
    set: Mapping[str, str]
    number: int  # 1 for the first [[rules]] table

    def matches(self, row: Mapping[str, str]) -> bool:
        return all(row.get(column, "") in wanted for column, wanted in self.when.items())


@attrs.frozen
class HistoryMapping:
    """A loaded mapping: columns, value maps, rules and the zone of naive timestamps."""

    name: str
    columns: Mapping[str, str]
    values: Mapping[str, Mapping[str, str]]
    rules: tuple[Rule, ...]
    timezone: str | None = None

    @classmethod
    def load(cls, path: str | Path) -> HistoryMapping:
        """A mapping file, or a shipped mapping by name (``volvo-bpic2013``)."""
        file = Path(path)
        if not file.suffix and not file.exists():
            file = SHIPPED / f"{path}.toml"
            if not file.is_file():
                names = ", ".join(sorted(p.stem for p in SHIPPED.glob("*.toml")))
                raise ValidationError(f"no mapping {str(path)!r}; shipped mappings: {names}")
        try:
            data = tomllib.loads(file.read_text("utf-8"))
        except OSError as exc:
            raise ValidationError(f"cannot read the mapping {file}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ValidationError(f"{file}: not TOML: {exc}") from exc
        return cls.from_dict(data, str(file))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], name: str = "mapping") -> HistoryMapping:
        unknown = sorted(set(data) - {"source", "columns", "values", "rules"})
        if unknown:
            raise ValidationError(f"{name}: unknown table [{unknown[0]}]; tables: source, "
                                  "columns, values, rules")  # fmt: skip
        columns = dict(data.get("columns", {}))
        for field in ("case", "time"):
            if field not in columns:
                raise ValidationError(f"{name}: [columns] must name the {field} column")
        bad = [f for f in columns if f not in COLUMNS and not f.startswith("custom.")]
        if bad:
            raise ValidationError(f"{name}: [columns] {bad[0]!r} is no timeline field; fields: "
                                  + ", ".join(COLUMNS))  # fmt: skip
        rules = []
        for n, table in enumerate(data.get("rules", []), start=1):
            actions = tuple(table.get("actions", ()))
            wrong = [a for a in actions if a not in ACTIONS]
            if wrong:
                raise ValidationError(f"{name}: rule {n}: unknown action {wrong[0]!r}; actions: "
                                      + ", ".join(ACTIONS))  # fmt: skip
            when = {
                str(k): tuple(v) if isinstance(v, list) else (str(v),)
                for k, v in dict(table.get("when", {})).items()
            }
            rules.append(
                Rule(when, actions, {k: str(v) for k, v in table.get("set", {}).items()}, n)
            )
        if not rules and "action" not in columns:
            raise ValidationError(f"{name}: no [[rules]] and no action column: nothing to do")
        zone = dict(data.get("source", {})).get("timezone")
        values = {
            k: {str(a): str(b) for a, b in v.items()} for k, v in data.get("values", {}).items()
        }
        return cls(name, columns, values, tuple(rules), zone)

    def zone(self, default: ZoneInfo) -> ZoneInfo:
        if self.timezone is None:
            return default
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError(f"{self.name}: unknown time zone {self.timezone!r}") from exc

    def timeline(
        self, rows: Iterable[Mapping[str, str | None]], default_zone: ZoneInfo
    ) -> Iterator[TimelineRow | Skipped]:
        """The timeline rows of an export's rows; a row that cannot be mapped, or that a
        rule ignores, comes back as :class:`Skipped`."""
        return self.timeline_of(enumerate(rows, start=2), default_zone,
                                getattr(rows, "fieldnames", None))  # fmt: skip

    def timeline_of(
        self,
        numbered: Iterable[tuple[int, Mapping[str, str | None]]],
        default_zone: ZoneInfo,
        header: Sequence[str] | None = None,
    ) -> Iterator[TimelineRow | Skipped]:
        """:meth:`timeline` of rows that carry their source line: ``(line, row)``."""
        zone = self.zone(default_zone)
        if header is not None:
            missing = [c for f, c in self.columns.items() if f in ("case", "time")
                       and c not in header]  # fmt: skip
            if missing:
                raise ValidationError(
                    f"{self.name}: the file has no column {missing[0]!r} (its columns: "
                    f"{', '.join(header) or 'none'}); is it the export this mapping is for?"
                )
        for line, raw in numbered:
            row = {k: (v or "").strip() for k, v in raw.items() if k is not None}
            fields: dict[str, str] = {}
            for field, column in self.columns.items():
                value = row.get(column, "")
                if value:
                    fields[field] = self.values.get(field, {}).get(value, value)
            case, when = fields.pop("case", ""), fields.pop("time", "")
            if not case or not when:
                yield Skipped(line, row, f"no {'case' if not case else 'time'} in this row")
                continue
            try:
                at = parse_time(when, zone, f"line {line}")
            except ValidationError as exc:
                yield Skipped(line, row, str(exc))
                continue
            actor = fields.pop("actor", None)
            rule = next((r for r in self.rules if r.matches(row)), None)
            if rule is None and "action" in fields:
                actions: tuple[str, ...] = (fields.pop("action"),)
                extra: Mapping[str, str] = {}
            elif rule is None:
                shown = ", ".join(f"{c}={row.get(c, '')!r}" for c in self._rule_columns())
                yield Skipped(line, row, f"no rule for {shown}")
                continue
            else:
                actions, extra = rule.actions, rule.set
                if not actions:
                    yield Skipped(line, row, f"ignored by rule {rule.number}", ignored=True)
                    continue
            for action in actions:
                yield TimelineRow(case, at, action, actor, {**fields, **extra}, line, row)

    def _rule_columns(self) -> list[str]:
        return list(dict.fromkeys(c for r in self.rules for c in r.when))


def as_mapping(mapping: HistoryMapping | str | Path | None) -> HistoryMapping | None:
    """A mapping as given: loaded from a file or a shipped name, or None (the timeline
    format)."""
    if mapping is None or isinstance(mapping, HistoryMapping):
        return mapping
    return HistoryMapping.load(mapping)


__all__ = ["SHIPPED", "HistoryMapping", "Rule", "as_mapping"]
