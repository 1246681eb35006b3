"""Reading a generated workbook by position gives exactly what the label search gives.

:func:`~campaign315.intake.read.locate.locate_generated` finds the form where c315 generated it
(every locked cell checked in place) and only then skips the search. Whatever a filler typed,
moved or broke, the return's examination — unit, attachment, every figure and every problem with
its cell — must be the one the search makes. Each case is read both ways: once as ingest reads it,
once with the positional path switched off.

Real generated-and-filled files are the starting point; the edits are then made to the grid of
values calamine read, so hypothesis can try many of them (labels typed where they do not belong,
填报人 in a remark, rows inserted and deleted, a column added, formulas).
"""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from conftest import GOOD_QUANTITIES, GOOD_REMARKS, GOOD_ROSTER
from fill import blank, fill_roster, fill_stats, shipped_campaign, write_formula
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign315.intake.read.cells import Package, Sheet
from campaign315.intake.read.package import read_package
from campaign315.intake.validate import returns
from campaign315.spec.forms import RosterLayout, StatsLayout

CAMPAIGN = shipped_campaign()
FILLER = {"filler": "张涛", "phone": "13682055679"}


@pytest.fixture(scope="module")
def packages(tmp_path_factory) -> dict[str, Package]:
    """Clean returns of both attachments as read from their .xlsx, and one holding a formula."""
    root = tmp_path_factory.mktemp("by-position")
    stats = fill_stats(blank(root / "s", "办公室", "stats", "xlsx"), {**GOOD_QUANTITIES, "1.2": "３场", "2.1": None},
                       remarks={**GOOD_REMARKS, "1.4": "填报：见附件"}, **FILLER)
    roster = fill_roster(blank(root / "r", "劝业场市场监管所", "roster", "xlsx"), GOOD_ROSTER, **FILLER)
    formula = write_formula(fill_stats(blank(root / "f", "办公室", "stats", "xlsx"), GOOD_QUANTITIES, **FILLER), "D6", "2+3", 5)
    return {name: read_package(path.read_bytes(), path.name) for name, path in
            (("stats", stats), ("roster", roster), ("formula", formula))}


def both_ways(package: Package, monkeypatch) -> tuple[returns.FileExamination, returns.FileExamination, bool]:
    """The examination as ingest makes it, the one the search alone makes, and whether the
    positional path was taken."""
    taken = []
    real = returns.locate_generated

    def watched(*args):
        found = real(*args)
        taken.append(found is not None)
        return found

    with monkeypatch.context() as patch:
        patch.setattr(returns, "locate_generated", watched)
        fast = returns.examine(package, CAMPAIGN)
    with monkeypatch.context() as patch:
        patch.setattr(returns, "locate_generated", lambda *args: None)
        searched = returns.examine(package, CAMPAIGN)
    return fast, searched, any(taken)


def same(fast: returns.FileExamination, searched: returns.FileExamination) -> None:
    assert fast.ignored == searched.ignored
    assert len(fast.returns) == len(searched.returns)
    for one, other in zip(fast.returns, searched.returns, strict=True):
        assert one.attachment == other.attachment
        assert one.place == other.place
        assert one.unit == other.unit
        assert one.form == other.form
        assert one.problems == other.problems


def edited(package: Package, grid: list[list[object]], formulas: dict | None = None) -> Package:
    (sheet,) = package.sheets
    return Package(package.format, [Sheet(sheet.name, hidden=sheet.hidden, values=grid, formulas=formulas or {})],
                   properties=dict(package.properties), modified=package.modified)


def grid_of(package: Package) -> list[list[object]]:
    return copy.deepcopy(package.sheets[0].values)


@pytest.mark.parametrize("name", ["stats", "roster"])
def test_a_return_as_generated_is_read_by_position(packages, monkeypatch, name):
    fast, searched, taken = both_ways(packages[name], monkeypatch)
    assert taken, "the positional path was not taken for a return as generated"
    same(fast, searched)
    assert all(one.accepted for one in fast.returns)


def test_a_return_with_a_formula_is_searched(packages, monkeypatch):
    fast, searched, taken = both_ways(packages["formula"], monkeypatch)
    assert not taken
    same(fast, searched)
    assert "quantity-formula" in [p.code for p in fast.returns[0].problems]


def _header_above(grid, name):
    grid[0][:] = grid[3][:]  # the header row copied into row 1: the search takes it there
    return grid


def _column_before(grid, name):
    for line in grid:
        line.insert(0, "")
    return grid


def _cell(row, column, value):
    def change(grid, name):
        return apply(grid, [("set", (row, column), value)])
    return change


def _rows(action, row):
    def change(grid, name):
        if action == "insert":
            grid.insert(row - 1, [""] * len(grid[0]))
        else:
            del grid[row - 1]
        return grid
    return change


MOVED = {  # an edit, and whether it moves each form (else it only typed into an open cell)
    "header-copied-above": (_header_above, {"stats", "roster"}),
    "column-inserted-before": (_column_before, {"stats", "roster"}),
    "row-inserted-at-top": (_rows("insert", 1), {"stats", "roster"}),
    "row-inserted-in-body": (_rows("insert", 8), {"stats", "roster"}),
    "row-deleted-in-body": (_rows("delete", 9), {"stats", "roster"}),
    "title-edited": (_cell(2, 1, "统计表"), {"stats", "roster"}),
    "label-edited": (_cell(7, 2, "组织新闻发布会"), {"stats"}),
    "category-edited": (_cell(5, 1, "宣传"), {"stats"}),
    "unit-edited": (_cell(8, 3, "次"), {"stats"}),
    "filler-typed-in-a-body-row": (_cell(10, 5, "填报人：王五"), {"stats", "roster"}),
    "filler-spelt-across-two-cells": (lambda g, n: _cell(9, 4, "填报")(_cell(9, 5, "人")(g, n), n), {"stats", "roster"}),
    "text-beside-the-table": (_cell(6, 6, "备注"), {"stats", "roster"}),
    "footer-label-edited": (_cell(23, 1, "填表人："), {"stats"}),
}


@pytest.mark.parametrize("name", ["stats", "roster"])
@pytest.mark.parametrize(("change", "moves"), list(MOVED.values()), ids=list(MOVED))
def test_a_layout_that_moved_is_searched(packages, monkeypatch, name, change, moves):
    package = edited(packages[name], change(grid_of(packages[name]), name))
    fast, searched, taken = both_ways(package, monkeypatch)
    same(fast, searched)
    assert taken == (name not in moves)


def layout_of(name: str):
    spec = CAMPAIGN.spec(name)
    return StatsLayout(spec) if name == "stats" else RosterLayout(spec)


# Text people type, and text that names a part of the form: what could make the two ways differ.
def _typed_texts() -> list[object]:
    stats, roster = CAMPAIGN.attachments.stats, CAMPAIGN.attachments.roster
    labels = [*stats.columns, *roster.columns, stats.title, roster.title, stats.label, "填报部门：", "填报部门",
              *stats.filler_labels, *(f"{label}：" for label in stats.filler_labels)]
    items = [text for item in stats.items for text in (item.category, item.label, item.unit) if text]
    return [*labels, *items, "", " ", "３场", "填报人：李明", "⼈", "填报", "人", "张  涛", "13612345678", "同上",
            "其他", "办公室", "不存在的科", 3.0, 0.0, -0.0, -1.0, 2.5, 12.0, 1e9, 1e9 + 1, float("inf"), float("nan"),
            dt.datetime(2020, 3, 14), True, 7]


TEXTS = _typed_texts()
cell_value = st.sampled_from(TEXTS) | st.text(max_size=6)
position = st.tuples(st.integers(1, 26), st.integers(1, 6))
edit = st.one_of(
    st.tuples(st.just("set"), position, cell_value),
    st.tuples(st.just("insert-row"), st.integers(1, 26), st.just(None)),
    st.tuples(st.just("delete-row"), st.integers(1, 26), st.just(None)),
)


def apply(grid: list[list[object]], edits) -> list[list[object]]:
    width = len(grid[0])
    for kind, where, value in edits:
        if kind == "set":
            (row, column) = where
            while len(grid) < row:
                grid.append([""] * width)
            if column > width:
                for line in grid:
                    line.extend([""] * (column - width))
                width = column
            grid[row - 1][column - 1] = value
        elif kind == "insert-row":
            grid.insert(min(where, len(grid)) - 1, [""] * width)
        elif len(grid) > 1:
            del grid[min(where, len(grid)) - 1]
    return grid


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=st.sampled_from(["stats", "roster"]), edits=st.lists(edit, max_size=4))
def test_whatever_was_typed_or_moved_both_ways_read_the_same(packages, monkeypatch, name, edits):
    package = edited(packages[name], apply(grid_of(packages[name]), edits))
    fast, searched, _taken = both_ways(package, monkeypatch)
    same(fast, searched)


@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=st.sampled_from(["stats", "roster"]), typed=st.lists(st.tuples(st.sampled_from(["any"]), cell_value), max_size=6),
       data=st.data())
def test_text_typed_into_the_open_cells_keeps_the_positional_path_exact(packages, monkeypatch, name, typed, data):
    """Only the open cells changed: the positional path is taken unless 填报人 was typed into the
    body, and both ways agree either way."""
    inputs = sorted(layout_of(name).input_cells())
    grid = grid_of(packages[name])
    for _, value in typed:
        row, column = data.draw(st.sampled_from(inputs))
        grid[row - 1][column - 1] = value
    fast, searched, taken = both_ways(edited(packages[name], grid), monkeypatch)
    same(fast, searched)
    body = range(5, layout_of(name).footer_row)
    spells_filler = any("填报人" in str(value).replace(" ", "") for r in body for value in grid[r - 1])
    if not spells_filler and all("⼈" not in str(value) for r in body for value in grid[r - 1]):
        assert taken


OPEN_CELLS = {"stats": [(3, 2), (5, 4), (14, 5), (22, 2), (22, 4), (23, 2), (23, 5)],
              "roster": [(3, 2), (5, 1), (6, 2), (7, 3), (8, 5), (15, 2), (15, 4)]}


@pytest.mark.parametrize("name", ["stats", "roster"])
@pytest.mark.parametrize("value", TEXTS, ids=[repr(v) for v in TEXTS])
def test_every_kind_of_value_in_each_open_cell_reads_the_same_both_ways(packages, monkeypatch, name, value):
    for row, column in OPEN_CELLS[name]:
        grid = grid_of(packages[name])
        grid[row - 1][column - 1] = value
        fast, searched, _taken = both_ways(edited(packages[name], grid), monkeypatch)
        same(fast, searched)
