"""``c315 ingest`` from the operator's side: which files it takes (files, folders, globs it
expands itself, litter skipped), what it says about each (``--json``), its exit status, and what
it refuses to read — all through the real command line."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import FORMATS
from fill import codes, stats_cell

from campaign315.intake.ingest import ingest
from campaign315.spec.location import Location
from campaign315.spec.problems import Code
from campaign315.store import open_store

JSON_KEYS = {"file", "sha256", "place", "outcome", "unit", "attachment", "received_at", "problems"}
PROBLEM_KEYS = {"severity", "code", "location", "value", "message"}
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def returned_copy(path: Path, folder: Path, name: str | None = None) -> Path:
    """A filled form as it lands in the collector's folder."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (name or path.name)
    shutil.copy2(path, target)
    return target


# --- what --json says ---------------------------------------------------------------------------


def test_json_has_one_object_per_file_in_the_documented_shape(forms, returned, ingest_json):
    stats = returned_copy(forms.stats("xlsx", {"1.2": "３场"}), returned)
    roster = returned_copy(forms.roster("docx"), returned)
    status, results = ingest_json(stats, roster)
    assert status == 0
    assert [set(r) for r in results] == [JSON_KEYS, JSON_KEYS]
    by_file = {Path(r["file"]).name: r for r in results}
    first, second = by_file[stats.name], by_file[roster.name]
    assert (first["outcome"], first["unit"], first["attachment"]) == ("accepted", "办公室", "stats")
    assert (second["outcome"], second["unit"], second["attachment"]) == ("accepted", "劝业场市场监管所", "roster")
    assert first["sha256"] == hashlib.sha256(stats.read_bytes()).hexdigest()
    assert dt.datetime.fromisoformat(first["received_at"]).utcoffset() == dt.timedelta(hours=8)
    (typed,) = first["problems"]
    assert set(typed) == PROBLEM_KEYS
    assert (typed["severity"], typed["code"], typed["location"], typed["value"]) == (
        "warning", Code.QUANTITY_WITH_UNIT, str(stats_cell("xlsx", "1.2")), "３场")
    assert typed["message"]
    assert second["problems"] == []


def test_exit_status_is_1_when_any_file_is_rejected(forms, returned, ingest_json):
    good = returned_copy(forms.stats("xlsx"), returned, "good.xlsx")
    bad = returned_copy(forms.stats("xlsx", {"1.1": "五"}), returned, "bad.xlsx")
    status, results = ingest_json(good, bad)
    assert status == 1
    assert {Path(r["file"]).name: r["outcome"] for r in results} == {"good.xlsx": "accepted", "bad.xlsx": "rejected"}
    (bad_result,) = [r for r in results if r["outcome"] == "rejected"]
    assert [(p["severity"], p["code"], p["location"]) for p in bad_result["problems"]] == [
        ("error", Code.QUANTITY_NOT_NUMBER, str(stats_cell("xlsx", "1.1")))]


def test_warnings_alone_keep_exit_status_0(forms, returned, c315):
    path = returned_copy(forms.stats("docx", {"1.3": None, "1.4": "1,200"}), returned)
    result = c315("ingest", path)
    assert result.exit_code == 0, result.output
    assert Code.QUANTITY_EMPTY in result.stdout and Code.QUANTITY_NORMALISED in result.stdout


def test_human_report_names_each_problem_with_its_cell(forms, returned, c315):
    path = returned_copy(forms.stats("xlsx", {"1.1": "-3"}), returned, "neg.xlsx")
    result = c315("ingest", path)
    assert result.exit_code == 1
    assert "neg.xlsx" in result.stdout
    assert Code.QUANTITY_NEGATIVE in result.stdout
    assert str(stats_cell("xlsx", "1.1")) in result.stdout


@pytest.mark.parametrize(
    "args",
    [("no-such-folder",), ("no-such-*.xlsx",), ("--received-at", "下周一", "EXISTING")],
)
def test_usage_errors_exit_2_and_store_nothing(forms, returned, workspace, c315, args):
    existing = returned_copy(forms.stats("xlsx"), returned)
    args = [str(existing) if a == "EXISTING" else str(returned / a) if "no-such" in a else a for a in args]
    result = c315("ingest", "--json", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip()
    assert not (workspace / ".c315").exists()


def test_no_path_at_all_is_a_usage_error(c315):
    assert c315("ingest").exit_code == 2


# --- which files ---------------------------------------------------------------------------------


def test_folders_are_walked_recursively(forms, returned, ingest_json):
    returned_copy(forms.stats("xlsx", unit="办公室"), returned / "3月19日" / "办公室")
    returned_copy(forms.roster("docx", unit="南市所"), returned / "3月13日" / "南市" / "附件")
    returned_copy(forms.stats("docx", unit="广告科"), returned)
    status, results = ingest_json(returned)
    assert status == 0
    assert sorted((r["unit"], r["attachment"]) for r in results) == [
        ("办公室", "stats"), ("南市市场监管所", "roster"), ("广告监管科", "stats")]


def test_globs_are_expanded_by_c315_itself(forms, returned, ingest_json):
    for unit in ("办公室", "广告科"):
        returned_copy(forms.stats("xlsx", unit=unit), returned)
        returned_copy(forms.stats("docx", unit=unit), returned)
    # passed quoted, as from a Windows shell that does not expand patterns
    status, results = ingest_json(str(returned / "*.xlsx"))
    assert status == 0
    assert sorted(Path(r["file"]).suffix for r in results) == [".xlsx", ".xlsx"]


def test_recursive_glob_relative_to_the_current_folder(forms, returned, ingest_json, monkeypatch):
    returned_copy(forms.roster("docx", unit="南市所"), returned / "deep" / "er")
    returned_copy(forms.roster("xlsx", unit="南市所"), returned / "deep")
    monkeypatch.chdir(returned.parent)
    status, results = ingest_json("returned/**/*.docx")
    assert status == 0
    assert [Path(r["file"]).name for r in results] == [p.name for p in returned.rglob("*.docx")]


def test_the_same_file_named_twice_is_taken_once(forms, returned, ingest_json):
    path = returned_copy(forms.stats("xlsx"), returned)
    status, results = ingest_json(path, returned, str(returned / "*.xlsx"))
    assert len(results) == 1


def test_office_and_system_litter_is_skipped_with_a_note(forms, returned, c315, ingest_json):
    form = returned_copy(forms.stats("xlsx"), returned, "办公室.xlsx")
    litter = {"~$办公室.xlsx": b"\x08lock", ".DS_Store": b"\0\0\0\1Bud1", "Thumbs.db": OLE + b"\0" * 64,
              ".~lock.办公室.xlsx#": b"x,host,2020"}
    for name, data in litter.items():
        (returned / name).write_bytes(data)
    status, results = ingest_json(returned)
    assert status == 0
    assert [Path(r["file"]).name for r in results] == [form.name]

    shown = c315("ingest", "--dry-run", returned)
    assert shown.exit_code == 0
    for name in litter:
        assert name in shown.stdout
    as_json = c315("ingest", "--dry-run", "--json", returned)  # the notes go to stderr, beside the JSON
    assert as_json.exit_code == 0
    for name in litter:
        assert name in as_json.stderr and name not in as_json.stdout


def test_dry_run_reads_and_validates_but_stores_nothing(forms, returned, workspace, c315, ingest_json):
    returned_copy(forms.stats("xlsx", {"1.1": "若干"}), returned)
    returned_copy(forms.roster("docx"), returned)
    status, results = ingest_json("--dry-run", returned)
    assert status == 1
    assert sorted(r["outcome"] for r in results) == ["accepted", "rejected"]
    assert Code.QUANTITY_NOT_NUMBER in codes([p for r in results for p in r["problems"]])
    assert not (workspace / ".c315").exists()
    # and a real run afterwards is not told these are duplicates
    status, again = ingest_json(returned)
    assert sorted(r["outcome"] for r in again) == ["accepted", "rejected"]


# --- what it refuses to read ---------------------------------------------------------------------


def _zip(members: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


NOT_RETURNS = [  # file name, its bytes, the code rejecting it
    ("办公室.xls", OLE + b"\0" * 504 + "Workbook".encode("utf-16-le") + bytes(range(256)) * 4, Code.FORMAT_LEGACY),
    ("办公室.doc", OLE + b"\0" * 504 + "WordDocument".encode("utf-16-le") + b"\0" * 512, Code.FORMAT_LEGACY),
    ("办公室.et", OLE + b"\0" * 2048, Code.FORMAT_LEGACY),
    ("办公室.wps", OLE + b"\0" * 2048, Code.FORMAT_LEGACY),
    ("办公室.odt", _zip({"mimetype": "application/vnd.oasis.opendocument.text"}), Code.FORMAT_LEGACY),
    ("办公室.ods", _zip({"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<x/>"}),
     Code.FILE_CORRUPT),
    ("办公室.xlsx", b"", Code.FILE_EMPTY),
    ("办公室.docx", bytes(range(256)) * 16, Code.FORMAT_UNKNOWN),
    ("扫描件.pdf", b"%PDF-1.4\n" + b"0" * 200, Code.FORMAT_NOT_ELECTRONIC),
    ("办公室.txt", "填报部门：办公室".encode(), Code.FORMAT_UNKNOWN),
    ("截断.xlsx", b"PK\x03\x04" + b"\0" * 40, Code.FILE_CORRUPT),
    ("别的.xlsx", _zip({"[Content_Types].xml": "<Types/>", "hello.txt": "hi"}), Code.FORMAT_UNKNOWN),
    ("加密.xlsx", OLE + b"\0" * 504 + "EncryptionInfo".encode("utf-16-le") + b"\0" * 512, Code.FORMAT_ENCRYPTED),
]


@pytest.mark.parametrize(("name", "data", "code"), NOT_RETURNS, ids=[case[0] for case in NOT_RETURNS])
def test_what_is_not_a_return_is_rejected_with_a_code(returned, kept, ingest_json, name, data, code):
    path = returned / name
    path.write_bytes(data)
    status, (result,) = ingest_json(path)
    assert status == 1
    assert (result["outcome"], result["unit"], result["attachment"]) == ("rejected", None, None)
    assert [(p["severity"], p["code"], p["location"]) for p in result["problems"]] == [
        ("error", code, str(Location.file(name)))]
    # refused, but kept: the archive holds it and the history lists it
    (stored,) = kept.returns()
    assert (stored.outcome, stored.filename) == ("rejected", name)
    assert kept.store.archive.read(stored.archive_key) == data


def test_a_document_that_is_not_a_form_is_rejected(returned, ingest_json):
    from docx import Document

    document = Document()
    document.add_paragraph("关于3•15活动的通知")
    document.add_table(rows=2, cols=2).cell(0, 0).text = "姓名"
    document.save(returned / "通知.docx")
    status, (result,) = ingest_json(returned / "通知.docx")
    assert status == 1
    assert codes(result["problems"]) == [Code.NOT_A_FORM]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_renamed_file_is_read_by_its_content(forms, returned, ingest_json, fmt):
    other = "docx" if fmt == "xlsx" else "xlsx"
    path = returned_copy(forms.stats(fmt), returned, f"统计表（办公室）最终版.{other}")
    status, (result,) = ingest_json(path)
    assert (status, result["outcome"], result["unit"]) == (0, "accepted", "办公室")


def test_a_broken_shortcut_is_rejected_not_fatal(forms, returned, ingest_json):
    returned_copy(forms.stats("xlsx"), returned, "good.xlsx")
    (returned / "附件2.xlsx").symlink_to(returned / "gone" / "附件2.xlsx")
    status, results = ingest_json(returned)
    assert status == 1
    outcomes = {Path(r["file"]).name: (r["outcome"], codes(r["problems"])) for r in results}
    assert outcomes == {"good.xlsx": ("accepted", []), "附件2.xlsx": ("rejected", [Code.FILE_UNREADABLE])}


# --- many files at once ----------------------------------------------------------------------


def test_a_pool_of_workers_gives_the_same_results_as_one_process(forms, returned, tmp_path, campaign):
    """The whole district at once: every unit's two forms, a copy sent twice, a bad one, junk."""
    for n, unit in enumerate(campaign.units):
        fmt = FORMATS[n % 2]
        returned_copy(forms.stats(fmt, {"1.1": n}, unit=unit.name), returned, f"{n:02d}-stats.{fmt}")
        people = [{"name": f"值班员{n}", "position": "科员", "mobile": f"136{n:08d}"}]
        returned_copy(forms.roster(FORMATS[1 - n % 2], people, unit=unit.name), returned, f"{n:02d}-roster.{FORMATS[1 - n % 2]}")
    shutil.copy2(returned / "00-stats.xlsx", returned / "99-again.xlsx")
    returned_copy(forms.stats("docx", {"2.1": "五"}, unit="价监所"), returned, "98-bad.docx")
    (returned / "97-junk.xlsx").write_bytes(b"not a workbook")
    files = sorted(returned.iterdir())
    when = dt.datetime(2020, 3, 12, 9, 0, tzinfo=campaign.tz)

    def run(workers: int):
        with open_store(tmp_path / f"store-{workers}") as store:
            results = ingest(files, campaign, store, when, workers=workers)
            stored = {r.sha256: (r.outcome, r.unit, r.attachment, r.archive_key) for r in store.returns(campaign.id)}
            lines = store.stats_lines([r.id for r in store.returns(campaign.id)])
            quantities = sorted((line.key, line.quantity) for found in lines.values() for line in found if line.key == "1.1")
            archived = all(store.archive.digest(key) == sha256 for sha256, (*_, key) in stored.items())
        summary = [(Path(r.file).name, r.sha256, r.outcome, r.unit, r.attachment, {(p.code, p.location) for p in r.problems})
                   for r in results]
        return summary, stored, quantities, archived

    one, pool = run(1), run(2)
    assert pool == one
    summary, stored, quantities, archived = pool
    outcomes = [outcome for _, _, outcome, *_ in summary]
    assert outcomes.count("accepted") == 2 * len(campaign.units)
    assert outcomes.count("duplicate") == 1 and outcomes.count("rejected") == 2
    assert len(stored) == 2 * len(campaign.units) + 2
    assert archived
    assert len(quantities) == len(campaign.units) + 1  # 价监所's rejected return is kept too
