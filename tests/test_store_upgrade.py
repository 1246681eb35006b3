"""A store written by an earlier release is upgraded in place the first time this c315 opens it,
and then holds what a fresh ingest of the same files by this c315 holds: every problem at its
location, every quantity at its cell, the same standing, the same summary, a clean verify.

Two such stores, each made by its release's own code (see their READMEs), of the same six files —
xlsx and docx, 附件1 and 附件2, accepted with warnings, rejected, not a form:
``tests/data/store-first-release/`` (schema 1: locations kept as the text a person reads, the archive
key called ``archive_path``) and ``tests/data/store-schema-2/`` (locations as columns, one return per
file).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import cli_runner

from campaign315.cli import app
from campaign315.spec.location import Location
from campaign315.store import Store, open_store

FIRST_RELEASE = Path(__file__).parent / "data" / "store-first-release"
EARLIER = {"first-release": (FIRST_RELEASE, 0), "schema-2": (Path(__file__).parent / "data" / "store-schema-2", 2)}
"""Each earlier store, with the schema version its release wrote."""
RECEIVED_AT = "2020-03-13T11:00"
"""What the first release was given as ``--received-at`` when it made the store."""
USER_VERSION = slice(60, 64)
"""Where an SQLite database file keeps ``PRAGMA user_version`` (https://www.sqlite.org/fileformat.html)."""


def schema_version(database: Path) -> int:
    return int.from_bytes(database.read_bytes()[USER_VERSION], "big")


def c315(workspace: Path, *args: object) -> tuple[int, str]:
    result = cli_runner(C315_WORKSPACE=str(workspace)).invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout


def everything(store: Store, campaign: str) -> dict[str, dict]:
    """What the store holds of each return, by SHA-256 (ids and ingest times left out)."""
    returns = store.returns(campaign)
    ids = [r.id for r in returns]
    lines, entries = store.stats_lines(ids), store.roster_entries(ids)
    return {
        r.sha256: {
            "return": (r.filename, r.archive_key, r.unit, r.attachment, r.outcome, r.received_at, r.filler,
                       r.filler_phone, r.errors, r.warnings),
            "problems": [(p.severity, p.code, p.location, p.value) for p in r.problems],
            "stats": [(line.key, line.quantity, line.remark, line.label, line.cell) for line in lines[r.id]],
            "roster": [entry.model_dump() for entry in entries[r.id]],
        }
        for r in returns
    }


@pytest.fixture(params=sorted(EARLIER))
def upgraded(tmp_path, request) -> Path:
    """A workspace holding a copy of an earlier release's store, opened by nothing yet."""
    folder, version = EARLIER[request.param]
    workspace = tmp_path / "upgraded"
    shutil.copytree(folder, workspace / ".c315", ignore=shutil.ignore_patterns("README.md"))
    assert schema_version(workspace / ".c315" / "c315.sqlite") == version
    return workspace


@pytest.fixture
def fresh(tmp_path) -> Path:
    """A workspace where this c315 ingested the same files the first release did (their bytes
    and names taken from another copy of the first release's store, through the store)."""
    originals = tmp_path / "returned"
    originals.mkdir()
    shutil.copytree(FIRST_RELEASE, tmp_path / "reference", ignore=shutil.ignore_patterns("README.md"))
    with open_store(tmp_path / "reference") as store:
        for record in store.archive_records():
            (originals / record.filename).write_bytes(store.archive.read(record.archive_key))
    workspace = tmp_path / "fresh"
    code, _ = c315(workspace, "ingest", "--received-at", RECEIVED_AT, originals)
    assert code == 1  # two of the six are rejected
    return workspace


def test_a_first_release_store_is_upgraded_and_reads_as_a_fresh_ingest(upgraded, fresh, campaign):
    status = c315(upgraded, "status", "--json")
    assert schema_version(upgraded / ".c315" / "c315.sqlite") == Store.SCHEMA_VERSION
    assert status == c315(fresh, "status", "--json")
    rows = {(row["unit"], row["attachment"]): row for row in json.loads(status[1])}
    assert rows[(campaign.find_unit("药化科").name, "stats")]["status"] == "rejected"
    assert rows[(campaign.find_unit("劝业场所").name, "stats")]["problems"] == 3

    assert c315(upgraded, "verify", "--json") == (0, "[]\n")
    assert c315(fresh, "verify", "--json") == (0, "[]\n")

    summaries = [c315(workspace, "summary", "--json", "--out", workspace / "summary") for workspace in (upgraded, fresh)]
    assert summaries[0][0] == 0
    assert summaries[0] == summaries[1]

    with open_store(upgraded / ".c315") as old, open_store(fresh / ".c315") as new:
        kept, made = everything(old, campaign.id), everything(new, campaign.id)
    assert len(kept) == 6
    assert kept == made


def test_locations_and_cells_come_through_as_locations(upgraded, campaign):
    c315(upgraded, "status")
    with open_store(upgraded / ".c315") as store:
        returns = {r.filename: r for r in store.returns(campaign.id)}
        lines = store.stats_lines([r.id for r in returns.values()])
    located = {name: [(p.code, p.location) for p in r.problems] for name, r in returns.items()}
    assert located["五大道所-3.14值班.xlsx"] == [("staffing-short", Location.sheet("值班表"))]
    assert located["劝业场所 统计表.xlsx"] == [
        ("quantity-with-unit", Location.cell("统计表", 5, 4)),
        ("quantity-normalised", Location.cell("统计表", 11, 4)),
        ("quantity-with-unit", Location.cell("统计表", 13, 4)),
    ]
    assert located["药化科-附件2.docx"] == [
        ("quantity-not-number", Location.table_cell(1, 9, 4)),
        ("quantity-negative", Location.table_cell(1, 15, 4)),
    ]
    assert located["说明.txt"] == [("format-unknown", Location.file("说明.txt"))]
    assert located["附件1 值班表(办公室).docx"] == [("same-as-above", Location.table_cell(1, 3, 4))]

    cells = {name: {line.key: line.cell for line in lines[r.id]} for name, r in returns.items()}
    assert cells["劝业场所 统计表.xlsx"]["1.1"] == Location.cell("统计表", 5, 4)
    assert cells["附件2 统计表(区消协).docx"]["1.1"] == Location.table_cell(1, 2, 4)
    assert all(cell is not None and cell.in_file for found in cells.values() for cell in found.values())


def test_an_upgrade_changes_nothing_the_first_release_received(upgraded, tmp_path):
    """The archive is the same files, byte for byte; the records name them with the same keys."""
    before = {path.relative_to(FIRST_RELEASE): path.read_bytes() for path in FIRST_RELEASE.rglob("*")
              if path.is_file() and path.suffix not in (".sqlite", ".md")}
    assert c315(upgraded, "verify")[0] == 0
    store_dir = upgraded / ".c315"
    after = {path.relative_to(store_dir): path.read_bytes() for path in store_dir.rglob("*")
             if path.is_file() and not path.name.startswith("c315.sqlite")}
    assert after == before
    with open_store(store_dir) as store:
        assert {r.archive_key for r in store.archive_records()} == {key.as_posix() for key in before}
