"""Issue 14, defect 3: the models the desk hands out are immutable all the way down, so a
caller cannot change what the desk's cache returns next (a milestone met with no event)."""

from __future__ import annotations

import copy
import json
import pickle

import pytest
from conftest import RULES, add_team, at, run_to

from aftersales import ServiceDesk, to_dict
from aftersales.core.frozen import FrozenDict, FrozenList, freeze


def test_a_case_read_from_the_desk_cannot_be_edited_in_place(storage_url: str) -> None:
    desk = ServiceDesk(RULES / "default.policy", storage_url)
    add_team(desk)
    case = run_to(desk, "reported")
    got = desk.cases.get(case.id)
    with pytest.raises(TypeError, match="read-only"):
        got.milestones["responded"] = at(1)  # type: ignore[index]
    with pytest.raises(TypeError):
        got.milestones.update(responded=at(1))  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        got.custom["x"] = 1  # type: ignore[index]
    again = desk.cases.get(case.id)
    assert "responded" not in again.milestones
    assert {c.milestone: c.state for c in desk.cases.sla(case.id, at(1))}["response"] != "met"
    [event] = desk.cases.history(case.id)
    with pytest.raises(TypeError):
        event.data["fault"] = "changed"  # type: ignore[index]
    with pytest.raises(TypeError):
        event.data["customer"]["name"] = "changed"
    copied = dict(got.milestones)  # a copy is the caller's to change
    copied["x"] = at(2)
    assert set(to_dict(got)["milestones"]) == {"reported"}


def test_stock_counts_are_read_only() -> None:
    desk = ServiceDesk(RULES / "default.policy")
    add_team(desk)
    desk.parts.add_location(id="WH", name="WH", by="sk1")
    desk.parts.add_supplier(id="A", name="A", qualified=True, by="m1")
    desk.parts.add_part(sku="S", name="S", category="c", unit_cost="1", by="sk1")
    desk.parts.receive("S", 5, location="WH", supplier="A",
                       inspection={"quantity": True, "specification": True, "quality": True},
                       by="sk1")  # fmt: skip
    part = desk.parts.part("S")
    with pytest.raises(TypeError):
        part.on_hand["WH"] = 500  # type: ignore[index]
    assert desk.parts.part("S").on_hand == {"WH": 5}


def test_frozen_containers_behave_as_values() -> None:
    data = freeze({"a": [1, {"b": 2}], "c": {"d": [3]}})
    assert data == {"a": [1, {"b": 2}], "c": {"d": [3]}}
    assert isinstance(data["a"], FrozenList) and isinstance(data["a"][1], FrozenDict)
    assert json.loads(json.dumps(data)) == data
    assert pickle.loads(pickle.dumps(data)) == data
    assert copy.deepcopy(data) is data
    assert hash(FrozenDict(a=1)) == hash(FrozenDict(a=1))
    for change in (lambda: data["a"].append(4), lambda: data.pop("a"),
                   lambda: data["c"].setdefault("e", 1), lambda: data.clear()):  # fmt: skip
        with pytest.raises(TypeError):
            change()


def test_no_frozen_model_is_changed_behind_attrs_back() -> None:
    """Frozen classes get their values through attrs (defaults, converters), never through
    object.__setattr__; the compiled code of a condition is given once (CompiledCode)."""
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "src" / "aftersales"
    found = [str(p.relative_to(src)) for p in src.rglob("*.py")
             if "object.__setattr__" in p.read_text(encoding="utf-8")]  # fmt: skip
    assert found == []
