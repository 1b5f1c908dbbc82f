"""``desk.history``: a service history from another system, imported case by case.

Each case's rows are sorted by time and applied, through the desk's own actions (the same
checks), to a scratch desk in memory; the finished case is then written to the store in one
transaction together with a marker under its key, so an import is atomic per case and a
re-run skips the cases already imported. History is messy, so the importer is lenient where
the meaning is clear and says so: an unknown person becomes a placeholder member (roles
service agent and engineer, named "(placeholder from <source>)"); a row stamped before the
report is moved to the report's time (a warning); a step the row implies is taken first and
counted (a reply before an assignment, a release before work goes on, the customer's
rejection when a repaired case is worked on again, a reopening when a closed one is, the
acceptance before a close); and a row the desk still refuses goes to the rejects with the
reason. Imported cases send no notifications and are not linked as warranty rework.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from aftersales.core.boundary import public_api
from aftersales.core.errors import AftersalesError, NotFound, ValidationError
from aftersales.core.model import Case, Staff
from aftersales.core.values import earlier
from aftersales.core.vocabulary import CHANNELS, TOLD_BY
from aftersales.core.workflow import REMOTE_FROM
from aftersales.ports.storage import event_record
from aftersales.services.basis import Basis
from aftersales.services.cases import CaseService
from aftersales.services.history.export import timeline_rows
from aftersales.services.history.mapping import HistoryMapping, as_mapping
from aftersales.services.history.source import in_order, open_history
from aftersales.services.history.timeline import (
    COLUMNS,
    Skipped,
    TimelineRow,
    parse_time,
)
from aftersales.services.staff import StaffDirectory

MARKER = "history"  # the kind of the markers that say a key was imported
AGENT = "history-import"  # who records what no person in the history did
_WORKING = ("assigned", "confirmed", "contacted", "on_site", "diagnosed")
_ENGINEER_STEPS = ("confirm", "contact", "arrive", "checklist", "diagnose", "complete")
_WORK = frozenset({"assign", "take", "queue", "unassign", "reassign", "resolve", "hold",
                   *_ENGINEER_STEPS})  # fmt: skip
_HELD_OK = frozenset({"hold", "release", "notify_delay", "update", "cancel", "assign",
                      "reassign", "queue", "unassign"})  # fmt: skip
_AFTER = {"confirm": ("confirmed", "contacted", "on_site", "diagnosed")}  # already past it
_TRUE = ("1", "true", "yes", "y", "x")


_REASON_WORDS = re.compile(r"AS-\d{4}-\d{6}|'[^']*'|\d{4}-\d\d-\d\dT[\d:+.-]+")


@attrs.define
class Reject:
    """A row the desk refused, or could not read: where, why, and which rule said so."""

    line: int
    case: str
    reason: str
    rule: str
    row: Mapping[str, str]


@attrs.define
class ImportResult:
    """What an import did."""

    rows: int = 0
    cases: int = 0  # imported by this run
    resumed: int = 0  # already imported: skipped
    actions: Counter[str] = attrs.Factory(Counter)  # what the rows asked for, done
    implied: Counter[str] = attrs.Factory(Counter)  # steps the importer took first
    ignored: Counter[str] = attrs.Factory(Counter)  # rows that change nothing, by reason
    warnings: Counter[str] = attrs.Factory(Counter)
    placeholders: int = 0
    rejects: list[Reject] = attrs.Factory(list)  # every one, or the first ``keep``
    rejected: int = 0  # all of them, kept or not
    reasons: Counter[str] = attrs.Factory(Counter)  # by reason, the case's words taken out
    keep: int | None = None  # how many rejects to hold (None: all; the replay holds 1,000)

    def reject(self, reject: Reject) -> None:
        """Count a reject, and hold it unless ``keep`` are held already."""
        self.rejected += 1
        self.reasons[_REASON_WORDS.sub("…", reject.reason)] += 1
        if self.keep is None or len(self.rejects) < self.keep:
            self.rejects.append(reject)

    def merge(self, other: ImportResult) -> None:
        """Add what another share of the same file did (rejects kept in line order)."""
        self.rows += other.rows
        self.cases += other.cases
        self.resumed += other.resumed
        self.actions.update(other.actions)
        self.implied.update(other.implied)
        self.ignored.update(other.ignored)
        self.warnings.update(other.warnings)
        self.placeholders += other.placeholders
        self.rejected += other.rejected
        self.reasons.update(other.reasons)
        self.rejects = sorted([*self.rejects, *other.rejects], key=lambda r: r.line)
        if self.keep is not None:
            del self.rejects[self.keep :]

    def rejects_by_reason(self) -> Counter[str]:
        """Rejects counted by their reason with the case's own words taken out."""
        return Counter(self.reasons)


def write_rejects(rejects: Iterable[Reject], path: str | Path) -> int:
    """The rejects as CSV: ``reject_line``, ``reject_case``, ``reject_reason``,
    ``reject_rule``, then the row's own columns."""
    listed = list(rejects)
    columns = list(dict.fromkeys(k for r in listed for k in r.row))
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["reject_line", "reject_case", "reject_reason", "reject_rule", *columns])
        for r in listed:
            writer.writerow(
                [r.line, r.case, r.reason, r.rule, *(r.row.get(c, "") for c in columns)]
            )
    return len(listed)


def _counted(
    rows: Iterable[TimelineRow | Skipped], results: Sequence[ImportResult]
) -> Iterator[TimelineRow]:
    """The rows that give an action; every source row counted in each of ``results``,
    unreadable ones as rejects, ignored ones by their reason."""
    last_line = None
    for row in rows:
        for result in results:
            if row.line != last_line:  # a mapping may make several actions of one row
                result.rows += 1
            if isinstance(row, Skipped):
                if row.ignored:
                    result.ignored[row.reason] += 1
                else:
                    result.reject(Reject(row.line, "", row.reason, "reading", row.row))
        last_line = row.line
        if not isinstance(row, Skipped):
            yield row


def group_cases(
    rows: Iterable[TimelineRow | Skipped], result: ImportResult
) -> dict[str, list[TimelineRow]]:
    """Rows by case, in the order cases first appear, each case's in time order with its
    report first (rows of a case may be anywhere: all are held); unreadable rows go to
    ``result``'s rejects, ignored ones to its counts."""
    by_case: dict[str, list[TimelineRow]] = {}
    for row in _counted(rows, [result]):
        by_case.setdefault(row.case, []).append(row)
    return {key: in_order(case_rows) for key, case_rows in by_case.items()}


def stream_cases(
    rows: Iterable[TimelineRow | Skipped], *results: ImportResult
) -> Iterator[tuple[str, list[TimelineRow]]]:
    """:func:`group_cases` of rows whose cases come one after another (what
    :meth:`.HistoryFile.timeline` gives): one case held at a time. The rows are counted in
    each of ``results`` (the replay judges them under two policies)."""
    current, group = "", list[TimelineRow]()
    for row in _counted(rows, results):
        if row.case != current:
            if group:
                yield current, in_order(group)
            current, group = row.case, []
        group.append(row)
    if group:
        yield current, in_order(group)


def _slug(name: str) -> str:
    return re.sub(r"\W+", "-", name.strip().lower()).strip("-") or "x"


@public_api("desk.history")
class HistoryService:
    """Imports service histories (see :mod:`aftersales.services.history`)."""

    def __init__(
        self,
        basis: Basis,
        *,
        staff: StaffDirectory,
        cases: CaseService,
        scratch: Callable[[], Any],
    ) -> None:
        self._basis = basis
        self._staff = staff
        self._cases = cases
        self._scratch_desk = scratch  # makes an in-memory desk under the same policy
        self._crews: dict[str, Staff] = {}
        self._people: dict[str, Staff] = {}  # who a name in the history is, for one run

    def imported(self, key: str, source: str = "history") -> str | None:
        """The id of the case imported under ``key`` from ``source``, if it was."""
        record = self._basis.storage.get(MARKER, f"{source}:{key}")
        return None if record is None else str(record.data["case_id"])

    def export(
        self,
        path: str | Path,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> int:
        """Write the cases reported in ``[since, until)`` (default: all) as a timeline CSV,
        one row per event, keyed by case number: what ``import`` and ``replay`` read, so a
        desk's own history can be judged under another policy. Returns the rows written."""
        rows = 0
        cases = self._cases.find(since=since, until=until)
        custom = sorted({f"custom.{name}" for case in cases for name in case.custom})
        with open(path, "w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, [*COLUMNS, *custom], extrasaction="ignore")
            writer.writeheader()
            for case in cases:
                for row in timeline_rows(case.number, self._cases.history(case.id)):
                    writer.writerow(row)
                    rows += 1
        return rows

    def import_file(
        self,
        path: str | Path,
        *,
        mapping: HistoryMapping | str | Path | None = None,
        source: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportResult:
        """Import a CSV file (``.csv``, ``.csv.gz`` or ``.csv.xz``): in the timeline format,
        or another system's export read through ``mapping`` (a :class:`HistoryMapping`, a
        mapping file, or a shipped mapping's name). ``source`` defaults to the mapping's
        name (or ``history``). Read case by case: memory does not grow with the file."""
        mapping = as_mapping(mapping)
        if source is None:
            source = Path(mapping.name).stem if mapping is not None else "history"
        result = ImportResult()
        with open_history(path, mapping, self._basis.policy.tz) as file:
            groups = stream_cases(file.timeline(), result)
            self._import(groups, file.cases, source, progress, result)
        return result

    def import_rows(
        self,
        rows: Iterable[TimelineRow | Skipped],
        *,
        source: str = "history",
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportResult:
        """Import timeline rows (from :func:`read_timeline` or a mapping), held in memory;
        ``source`` names the system, so keys of two systems do not collide.
        ``progress(done, total)`` is called after each case."""
        result = ImportResult()
        by_case = group_cases(rows, result)
        self._import(by_case.items(), len(by_case), source, progress, result)
        return result

    def _import(
        self,
        groups: Iterable[tuple[str, list[TimelineRow]]],
        total: int,
        source: str,
        progress: Callable[[int, int], None] | None,
        result: ImportResult,
    ) -> None:
        builder = self.builder()
        for n, (key, case_rows) in enumerate(groups):
            if self.imported(key, source) is not None:
                result.resumed += 1
            else:
                self._import_case(builder, key, case_rows, source, result)
            if progress is not None:
                progress(n + 1, total)

    def builder(self) -> CaseBuilder:
        """A scratch desk in memory under this desk's policy, to build a history's cases on
        one at a time (see :class:`CaseBuilder`); the people the history names are read
        afresh for it."""
        self._agent()
        return CaseBuilder(self, self._scratch_desk())

    # -- one case -------------------------------------------------------------------------------
    def _import_case(
        self, builder: CaseBuilder, key: str, rows: list[TimelineRow], source: str,
        result: ImportResult,
    ) -> None:  # fmt: skip
        case = builder.case(key, rows, result)
        if case is None:
            return
        events = builder.desk.cases.history(case.id)
        marker_id = f"{source}:{key}"

        def mark(tx: Any) -> None:  # the marker, in the case's own transaction
            data = {"case_id": case.id, "key": key, "source": source}
            stored = event_record(1, "imported", AGENT, events[-1].at, data)
            tx.append(MARKER, marker_id, 0, [stored], {**data, "id": marker_id, "version": 1})

        self._cases.adopt(events, also=mark)
        builder.desk.cases.forget(case.id)
        result.cases += 1

    # -- people ---------------------------------------------------------------------------------
    def crew_member(self, team: str, at: datetime, result: ImportResult) -> Staff:
        """A member of ``team``: one of this desk's, or a placeholder crew member when the
        history names a team nobody is on. Remembered for the import: a history names each
        of its hundreds of teams many times."""
        if not self._crews:  # the directory's teams, read once for the import
            for member in self._staff.list():
                if member.team is not None:
                    self._crews.setdefault(member.team, member)
        known = self._crews.get(team)
        if known is None:
            known = self.member(f"{team} crew", team, at, result)
            self._crews[team] = known
        return known

    def _agent(self) -> None:
        """At the start of a run: the import's own agent, and the people read afresh."""
        self._people.clear()
        self._crews.clear()
        try:
            self._staff.get(AGENT)
        except NotFound:
            self._staff.add(id=AGENT, name="History import", roles=["service_agent"],
                            at=datetime.fromisoformat("1970-01-01T00:00:00+00:00"))  # fmt: skip

    def member(
        self, name: str | None, team: str | None, at: datetime, result: ImportResult
    ) -> Staff:
        """The staff member a history names: a member of this desk by id, or a placeholder
        (added once, on the team the row names)."""
        known = self._people.get(name or "")
        if known is not None:
            return known
        if not name:
            known = self._staff.get(AGENT)
        else:
            known = self._find(name)
            if known is None:
                result.placeholders += 1
                known = self._staff.add(id=f"h-{_slug(name)}", roles=["service_agent",
                                        "engineer"], name=f"{name} (placeholder from history)",
                                        team=team, at=at)  # fmt: skip
        self._people[name or ""] = known
        return known

    def _find(self, name: str) -> Staff | None:
        for candidate in (name, f"h-{_slug(name)}"):
            try:
                return self._staff.get(candidate)
            except (NotFound, ValidationError):
                continue
        return None


class CaseBuilder:
    """A scratch desk in memory (``desk``) where a history's cases are built by the desk's
    own actions, one at a time, before they are stored (the import) or judged (replay)."""

    def __init__(self, history: HistoryService, desk: Any) -> None:
        self.history = history
        self.desk = desk
        self.known: set[str] = set()
        self.policy = desk.policy

    def case(self, key: str, rows: list[TimelineRow], result: ImportResult) -> Case | None:
        """The case ``rows`` make (None if no row could open it); a row the desk refuses
        is a reject in ``result``, and the case goes on from where it was."""
        case: Case | None = None
        for row in rows:
            try:
                case = self.apply(case, key, row, result)
            except (AftersalesError, ValueError) as exc:  # ValueError: a field that is no number
                action = row.action
                result.reject(
                    Reject(row.line, key, str(exc), f"{type(exc).__name__} in {action}", row.source)
                )
                if case is not None:
                    case = self.desk.cases.get(case.id)
        return case

    def staff(self, member: Staff) -> str:
        if member.id not in self.known:
            try:
                self.desk.staff.get(member.id)
            except NotFound:
                self.desk.staff.add(id=member.id, name=member.name, roles=list(member.roles),
                                    team=member.team, at=datetime.fromisoformat(
                                        "1970-01-01T00:00:00+00:00"))  # fmt: skip
            self.known.add(member.id)
        return member.id

    def person(self, name: str | None, team: str | None, at: datetime, result: ImportResult) -> str:
        return self.staff(self.history.member(name, team, at, result))

    def crew(self, team: str, at: datetime, result: ImportResult) -> None:
        """Make sure the scratch desk knows a member of ``team`` (a placeholder crew member
        when the history names a team nobody is on)."""
        self.staff(self.history.crew_member(team, at, result))

    # -- a row ----------------------------------------------------------------------------------
    def apply(self, case: Case | None, key: str, row: TimelineRow, result: ImportResult) -> Case:
        fields = row.fields
        actor = self.person(row.actor, fields.get("team"), row.at, result)
        at = row.at
        if case is None:
            case = self.report(key, row, actor, result)
            if row.action == "report":
                return case
        elif row.action == "report":
            result.ignored["a second report of one case"] += 1
            return case
        if earlier(at, case.reported_at):
            result.warnings["stamped before the report: moved to the report's time"] += 1
            at = case.reported_at
        at = max(at, case.updated_at, key=datetime.timestamp)  # implied steps share its minute
        action, kwargs, by = self.kwargs(case, row, actor, result)
        for _ in range(8):  # the steps the row implies, then the row
            step = self.prerequisite(case, action, by, kwargs)
            if isinstance(step, str):  # nothing to do: the case is there already
                result.ignored[f"{row.action}: {step}"] += 1
                return case
            if step is None:
                break
            name, step_kwargs, step_by = step
            case = getattr(self.desk.cases, name)(case.id, by=step_by, at=at, **step_kwargs)
            result.implied[name] += 1
        case = getattr(self.desk.cases, action)(case.id, by=by, at=at, **kwargs)
        result.actions[action] += 1
        return case

    def report(self, key: str, row: TimelineRow, actor: str, result: ImportResult) -> Case:
        f = row.fields
        severity = f.get("severity")
        if severity is None:
            severity = self.policy.severities[-1]
            result.warnings[f"no severity: {severity} assumed"] += 1
        channel = f.get("channel", "phone")
        if channel not in CHANNELS:
            result.warnings[f"channel {channel!r} unknown: phone assumed"] += 1
            channel = "phone"
        customer = {"name": f.get("customer") or f"customer of {key}", "tier": f.get("tier"),
                    "region": f.get("region"), "id": f.get("customer_id")}  # fmt: skip
        product = {"model": f.get("model"), "line": f.get("line"), "serial": f.get("serial")}
        custom: dict[str, Any] = {}
        for name, value in f.items():
            if name.startswith("custom."):
                decl = self.policy.fields.get(name)
                kind = decl.type if decl is not None else "text"
                custom[name[7:]] = (value.lower() in _TRUE if kind == "bool"
                                    else float(value) if kind == "number" else value)  # fmt: skip
        by = actor if self.desk.staff.get(actor).has_role("service_agent", "manager") else AGENT
        self.staff(self.history.member(None, None, row.at, result))
        recorded = None
        if f.get("installed_base"):
            try:
                recorded = json.loads(f["installed_base"])
            except json.JSONDecodeError as exc:
                raise ValidationError(f"installed_base is not JSON ({exc.msg})") from None
        case: Case = self.desk.cases.report(
            customer={k: v for k, v in customer.items() if v}, product={k: v for k, v in
            product.items() if v}, fault=f.get("fault") or f"case {key}",
            fault_code=f.get("fault_code"), severity=severity, channel=channel,
            machine_down=f.get("machine_down", "").lower() in _TRUE, contact=f.get("contact"),
            custom=custom or None, by=by, at=row.at, recorded=recorded,
        )  # fmt: skip
        result.actions["report"] += 1
        return case

    def kwargs(
        self, case: Case, row: TimelineRow, actor: str, result: ImportResult
    ) -> tuple[str, dict[str, Any], str]:
        """The desk call a row means: its action (an ``assign`` of a case someone has is a
        ``reassign``), keyword arguments from its fields, and who acts."""
        f, action = row.fields, row.action
        said = "as recorded in the history"
        kw: dict[str, Any] = {}
        by = actor
        if action in ("assign", "reassign", "take"):
            engineer = f.get("engineer")
            target = self.person(engineer, f.get("team"), row.at, result) if engineer else actor
            if action == "take" and self.desk.staff.get(target).team != case.team:
                action = "assign"  # not from the taker's own queue: the desk assigns it
            if action == "take":
                return action, {}, target
            kw["engineer"] = target
            by = AGENT if target == actor else actor
            if case.engineer is not None or case.status in ("repaired", "accepted"):
                action = "reassign"
            if action == "reassign":
                kw["reason"] = f.get("reason", f"handed to {target} ({said})")
        elif action == "queue":
            if "team" not in f:
                raise ValidationError("a queue row needs a team")
            kw = {"team": f["team"], "reason": f.get("reason")}
            self.crew(f["team"], row.at, result)
        elif action in ("unassign", "cancel", "reopen"):
            kw["reason"] = f.get("reason", said)
        elif action == "hold":
            if "reason" not in f:
                raise ValidationError("a hold row needs a reason the policy's hold line allows")
            kw["reason"] = f["reason"]
        elif action == "contact" and "appointment" in f:
            kw["appointment"] = parse_time(f["appointment"], row.at.tzinfo, "appointment")  # type: ignore[arg-type]
        elif action == "checklist":
            kw["items"] = [i for i in f.get("items", "").split(";") if i]
        elif action == "diagnose":
            if "complexity" not in f:
                result.warnings["no complexity: simple assumed"] += 1
            kw = {"cause": f.get("cause", said), "complexity": f.get("complexity", "simple")}
        elif action in ("complete", "resolve"):
            kw = {"actions": f.get("actions", said), "result": f.get("result", said),
                  "cause": f.get("cause")}  # fmt: skip
            if "parts" in f:
                kw["parts_used"] = [
                    {"sku": p.partition(":")[0], "quantity": int(p.partition(":")[2] or 1)}
                    for p in f["parts"].split(";")
                    if p
                ]
            if action == "resolve":
                kw["way"] = f.get("way", "phone")
        elif action in ("accept", "reject"):
            kw["signed_by"] = f.get("signed_by", "the customer")
            if action == "reject":
                kw["reason"] = f.get("reason", said)
            by = self.presenter(case) or actor
        elif action == "follow_up":
            if "satisfaction" not in f:
                raise ValidationError("a follow_up row needs a satisfaction from 1 to 5")
            kw = {"satisfaction": int(f["satisfaction"]), "comments": f.get("comments")}
        elif action == "notify_delay":
            kw = {
                "milestone": f.get("milestone"),
                "reason": f.get("reason", said),
                "new_eta": parse_time(f.get("new_eta", ""), row.at.tzinfo, "new_eta"),  # type: ignore[arg-type]
                # a history says that the customer was told, not always how: "recorded"
                "told": f.get("told") or "the customer",
                "channel": f["channel"] if f.get("channel") in TOLD_BY else "recorded",
            }
        elif action == "update":
            kw = {"reason": f.get("reason", said), "severity": f.get("severity"),
                  "fault_code": f.get("fault_code")}  # fmt: skip
        desk_step = action in ("respond", "queue", "unassign", "close", "cancel", "reopen",
                               "follow_up")  # fmt: skip
        if desk_step and not self.desk.staff.get(by).has_role("service_agent", "manager"):
            by = AGENT
        return action, kw, by

    def presenter(self, case: Case) -> str | None:
        """Who presents a repair for the customer's signature."""
        if case.repair is not None and case.resolved_remotely:
            return case.repair.engineer
        return case.engineer or (case.repair.engineer if case.repair else None)

    def prerequisite(
        self, case: Case, action: str, by: str, kwargs: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any], str] | str | None:
        """The step the row implies before it can be taken, the reason there is nothing to
        do when the case already is where the row would take it, or None (take the row)."""
        status, said = case.status, "as recorded in the history"
        policy = self.policy
        if action == "release" and not case.on_hold:
            return "not on hold"
        if action == "hold" and case.on_hold:
            same = case.holds[-1].reason.removeprefix("waiting for ") == kwargs["reason"]
            return "on hold for that already" if same else ("release", {}, AGENT)
        if case.on_hold and action not in _HELD_OK:
            return ("release", {}, AGENT)
        if action in _WORK or action in ("accept", "close"):
            if status == "repaired" and action in ("resolve", "complete"):
                return "repaired already"
            if status == "repaired" and action in _WORK and action != "reassign":
                presenter = self.presenter(case) or AGENT
                return ("reject", {"signed_by": "the customer", "reason": f"worked on again "
                        f"({said})"}, presenter)  # fmt: skip
            if status in ("accepted", "followed_up") and action in _WORK - {"reassign"}:
                if action in ("resolve", "complete"):
                    return "repaired already"
                return ("close", {}, AGENT)
            if status == "closed" and action in _WORK:
                return ("reopen", {"reason": f"worked on again ({said})"}, AGENT)
        if status == "reported" and action in ("assign", "take", "reassign", *_ENGINEER_STEPS):
            return ("respond", {}, AGENT)
        if action in ("assign", "reassign") and case.engineer == kwargs.get("engineer"):
            return "the engineer has it already"
        if action in _AFTER and status in _AFTER[action] and case.engineer == by:
            return f"{status} already"
        if action in ("close", "cancel") and status in ("closed", "cancelled"):
            return f"{status} already"
        if action in _ENGINEER_STEPS and case.engineer != by:
            if status == "responded":
                return ("assign", {"engineer": by}, AGENT)
            if status in _WORKING:
                return ("reassign", {"engineer": by, "reason": f"handed to {by} ({said})"}, AGENT)
        # closed without a recorded resolution: resolved remotely at the close (only a close:
        # an acceptance of a repair that never happened is a reject)
        closing = action == "close" and status in REMOTE_FROM
        if closing and policy.resolve_remotely:
            return ("resolve", {"way": "remote_session", "actions": f"closed {said}",
                                    "result": said}, by)  # fmt: skip
        if action in ("close", "follow_up") and status == "repaired":
            presenter = self.presenter(case) or by
            return ("accept", {"signed_by": "the customer"}, presenter)
        return None


__all__ = [
    "AGENT",
    "MARKER",
    "CaseBuilder",
    "HistoryService",
    "ImportResult",
    "Reject",
    "group_cases",
    "stream_cases",
    "write_rejects",
]
