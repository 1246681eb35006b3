"""Returns re-saved by another office suite: LibreOffice rewrites every part of the file (styles,
shared strings, merged cells, properties). What c315 reads must not change. Skipped where
``soffice`` is not installed."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import CADRE, CADRE_2, LEADER
from fill import codes, stats_cell, strip_identity, write_formula

from campaign315.spec.problems import Code

pytestmark = pytest.mark.slow

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
FILTERS = {"xlsx": "xlsx", "docx": "docx:MS Word 2007 XML", "xls": "xls", "doc": "doc"}

MESSY_STATS = {"1.1": 3, "1.2": "３场", "1.3": "1,200", "1.4": None, "1.5": 0, "1.8": 250, "2.1": "2次"}
MESSY_REMARKS = {"1.2": "3·15 当天咨询台", "3": "消费提示  500 份"}
MESSY_ROSTER = [
    dict(LEADER, name="王  所", date="14日"),
    dict(CADRE, landline="022-2345 6789", mobile="同上", date="3月14日"),
    dict(CADRE_2, mobile="１３９ １２３４ ５６７８", date="3.14"),
]


@pytest.fixture(scope="module")
def soffice(tmp_path_factory):
    """Convert files with a private LibreOffice profile: ``soffice(paths, target) -> outputs``."""
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    profile = tmp_path_factory.mktemp("lo-profile")

    def convert(paths: list[Path], target: str, outdir: Path) -> list[Path]:
        outdir.mkdir(parents=True, exist_ok=True)
        command = [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                   "--convert-to", FILTERS[target], "--outdir", str(outdir), *map(str, paths)]
        done = subprocess.run(command, capture_output=True, timeout=300, check=False)
        outputs = [outdir / f"{path.stem}.{target}" for path in paths]
        missing = [p for p in outputs if not p.exists()]
        if missing:
            pytest.fail(f"soffice did not write {missing}: {done.stdout!r} {done.stderr!r}")
        return outputs

    return convert


def values(kept, result, attachment: str):
    """What the store holds from one return, in a form two returns can be compared by."""
    if attachment == "stats":
        return {key: (line.quantity, line.remark, line.label) for key, line in kept.stats(result.sha256).items()}
    return [entry.model_dump() for entry in kept.roster(result.sha256)]


def filled(forms, fmt: str):
    stats = forms.stats(fmt, MESSY_STATS, remarks=MESSY_REMARKS, labels={"3": "发放消费提示"})
    roster = forms.roster(fmt, MESSY_ROSTER, filler="张  涛", phone="136 8205 5679")
    return {"stats": stats, "roster": roster}


def as_named(paths: dict[str, Path], folder: Path) -> list[Path]:
    """Copies with distinct short names, so one soffice call converts them all."""
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy2(path, folder / f"{attachment}{path.suffix}")) for attachment, path in paths.items()]


@pytest.mark.parametrize("fmt", ["xlsx", "docx"])
def test_resaved_by_libreoffice_reads_the_same(forms, kept, soffice, tmp_path, fmt):
    originals = filled(forms, fmt)
    resaved = soffice(as_named(originals, tmp_path / "in"), fmt, tmp_path / "out")
    for attachment, again in zip(originals, resaved, strict=True):
        before = kept.ingest(originals[attachment])
        after = kept.ingest(again)
        assert after.sha256 != before.sha256  # a different file…
        assert (after.outcome, after.unit, after.attachment) == ("accepted", before.unit, attachment)
        assert values(kept, after, attachment) == values(kept, before, attachment)  # …saying the same
        assert {(p.code, p.location) for p in after.problems} == {(p.code, p.location) for p in before.problems}
        stored = kept.by_sha(after.sha256)
        assert (stored.filler, stored.filler_phone) == ("张涛", "13682055679")


@pytest.mark.parametrize("fmt", ["xlsx", "docx"])
def test_resaved_without_identity_is_identified_from_the_unit_field(forms, kept, soffice, tmp_path, fmt):
    path = forms.stats(fmt, {"1.1": 4}, unit="南营门所", typed_unit="南营门 所")
    strip_identity(path)
    (again,) = soffice(as_named({"stats": path}, tmp_path / "in"), fmt, tmp_path / "out")
    result = kept.ingest(again)
    assert (result.outcome, result.unit, result.attachment) == ("accepted", "南营门市场监管所", "stats")
    assert kept.stats(result.sha256)["1.1"].quantity == 4


def test_a_formula_gets_its_cached_result_from_libreoffice(forms, kept, soffice, tmp_path):
    path = forms.stats("xlsx")
    write_formula(path, stats_cell("xlsx", "1.2").ref, "2+3")  # as openpyxl or a script leaves it: no cached result
    assert Code.QUANTITY_FORMULA_UNCACHED in codes(kept.ingest(path).problems)
    (again,) = soffice(as_named({"stats": path}, tmp_path / "in"), "xlsx", tmp_path / "out")
    result = kept.ingest(again)
    assert result.outcome == "accepted"
    assert Code.QUANTITY_FORMULA in codes(result.problems)
    assert kept.stats(result.sha256)["1.2"].quantity == 5


def test_legacy_xls_is_read_through_calamine_and_doc_is_refused(forms, kept, soffice, tmp_path):
    originals = filled(forms, "xlsx")
    xls = soffice(as_named(originals, tmp_path / "in-xls"), "xls", tmp_path / "xls")
    for attachment, again in zip(originals, xls, strict=True):
        before, after = kept.ingest(originals[attachment]), kept.ingest(again)
        assert (after.outcome, after.unit, after.attachment) == ("accepted", before.unit, attachment)
        assert values(kept, after, attachment) == values(kept, before, attachment)

    (doc,) = soffice(as_named({"stats": filled(forms, "docx")["stats"]}, tmp_path / "in-doc"), "doc", tmp_path / "doc")
    result = kept.ingest(doc)
    assert (result.outcome, codes(result.problems)) == ("rejected", [Code.FORMAT_LEGACY])


def test_dates_typed_as_text_survive_a_resave(forms, kept, soffice, tmp_path):
    path = forms.roster("xlsx", [dict(LEADER, date="3月14日"), dict(CADRE, date=dt.datetime(2020, 3, 14)), CADRE_2])
    (again,) = soffice(as_named({"roster": path}, tmp_path / "in"), "xlsx", tmp_path / "out")
    result = kept.ingest(again)
    assert result.problems == []
    assert {entry.date for entry in kept.roster(result.sha256)} == {dt.date(2020, 3, 14)}
