"""The department page's 检查 through Starlette's test client: ``POST /u/<token>/check`` answers what
``c315 ingest --json`` says of the file and a picture of each return — the form's own cells as filled,
the problem cells marked — stores nothing, refuses another unit's link, keeps hostile text as data and
holds its cap on a huge sheet."""

from __future__ import annotations

import io
import os
import re
import zipfile

import pytest
from conftest import GOOD_QUANTITIES, LEADER
from fill import STATS_COLUMNS, roster_cell, stats_cell, strip_identity, unit_cell

pytest.importorskip("starlette")
import test_serve  # noqa: E402
from test_serve import OFFICE, stored_count  # noqa: E402

server = test_serve.server
"""The app for the test's workspace, its test client, the unit links and a collector token."""

from campaign315.serve.picture import MAX_COLUMNS, MAX_PICTURES, MAX_ROWS, MAX_TEXT  # noqa: E402
from campaign315.serve.tokens import Tokens  # noqa: E402
from campaign315.spec.location import Location, column_letter  # noqa: E402

STATION = "劝业场市场监管所"
WRONG = {"1.1": "-3", "1.2": "若干"}


def check(server, path, unit=OFFICE, name=None, token=None):
    """Upload ``path`` to the unit's 检查; the answer (status checked by the caller)."""
    return server.client.post(f"/u/{token or server.links[unit]}/check",
                              files={"file": (name or path.name, path.read_bytes())})


def place(where: Location) -> tuple[str, str]:
    """Where a location is in a picture: (row label, column label)."""
    if where.kind == "cell":
        return str(where.row), column_letter(where.column)
    if where.kind == "table-cell":
        return str(where.row), str(where.column)
    assert where.kind == "paragraph", where
    return f"段{where.row}", "1"


def text_at(picture: dict, row: str, column: str) -> str:
    (found,) = [r for r in picture["rows"] if r["label"] == row]
    return found["cells"][picture["columns"].index(column)]["text"]


def marked(picture: dict, problems: list[dict]) -> dict[tuple[str, str], list[str]]:
    """{(row label, column label): the codes of the problems marked there}."""
    return {(row["label"], picture["columns"][c]): [problems[i]["code"] for i in cell["marks"]]
            for row in picture["rows"] for c, cell in enumerate(row["cells"]) if "marks" in cell}


def every_problem_once(picture: dict, problems: list[dict]) -> bool:
    """Each problem is marked in one cell of the picture or listed outside it — never both, never lost."""
    shown = [i for row in picture["rows"] for cell in row["cells"] for i in cell.get("marks", ())]
    return sorted(shown + picture["outside"]) == list(range(len(problems)))


# --- what the picture shows --------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "docx"])
def test_the_picture_holds_the_filled_values_and_marks_exactly_the_problem_cells(server, forms, fmt):
    bad = forms.stats(fmt, WRONG, unit=OFFICE)
    answer = check(server, bad)
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert set(found) == {"results", "pictures"}
    # the results are exactly POST /api/returns?check=1's (the ingest --json array), received_at aside
    plain = server.upload(bad, server.links[OFFICE], check=True).json()
    assert [{k: v for k, v in r.items() if k != "received_at"} for r in found["results"]] == \
           [{k: v for k, v in r.items() if k != "received_at"} for r in plain]
    (result,), (picture,) = found["results"], found["pictures"]
    assert result["outcome"] == "rejected" and picture["place"] == result["place"] == ("统计表" if fmt == "xlsx" else "表1")

    assert marked(picture, result["problems"]) == {
        place(stats_cell(fmt, "1.1")): ["quantity-negative"],
        place(stats_cell(fmt, "1.2")): ["quantity-not-number"]}
    assert picture["outside"] == [] and every_problem_once(picture, result["problems"])
    for key in GOOD_QUANTITIES:  # every quantity as typed, at its own row and column
        assert text_at(picture, *place(stats_cell(fmt, key))) == WRONG.get(key, "1"), key
    assert text_at(picture, *place(stats_cell(fmt, "1.1", "label"))) == "组织普法活动"
    assert text_at(picture, *place(stats_cell(fmt, "1.10", "remark"))) == "消费维权进社区"
    assert OFFICE in text_at(picture, *place(unit_cell(fmt, "stats")))
    assert len(picture["columns"]) == max(STATS_COLUMNS.values()) + 1  # the form's five columns, no more
    assert picture["cut"] == {"rows": 0, "columns": 0}
    assert stored_count(server) == 0  # a check stores nothing
    assert not any(server.ws.store_dir.joinpath("archive").rglob("*.*"))


def test_a_clean_form_is_pictured_with_nothing_marked(server, forms):
    answer = check(server, forms.stats("xlsx", unit=OFFICE)).json()
    (result,), (picture,) = answer["results"], answer["pictures"]
    assert (result["outcome"], result["problems"]) == ("accepted", [])
    assert marked(picture, []) == {} and picture["outside"] == []
    assert text_at(picture, *place(stats_cell("xlsx", "1.1"))) == "1"


def test_a_problem_of_the_whole_form_is_listed_outside_the_picture(server, forms):
    short = forms.roster("docx", [LEADER], unit=STATION)  # a station's roster needs two cadres too
    answer = check(server, short, unit=STATION).json()
    (result,), (picture,) = answer["results"], answer["pictures"]
    assert [result["problems"][i]["code"] for i in picture["outside"]] == ["staffing-short"]
    assert marked(picture, result["problems"]) == {}
    assert text_at(picture, *place(roster_cell("docx", 0, "name"))) == LEADER["name"]


def test_a_documents_paragraphs_around_the_table_are_pictured_and_marked(server, forms):
    unsigned = forms.stats("docx", unit=OFFICE, filler="", phone="")
    answer = check(server, unsigned).json()
    (result,), (picture,) = answer["results"], answer["pictures"]
    codes = {p["code"] for p in result["problems"]}
    assert codes == {"filler-missing", "filler-phone-missing"}
    ((where, marks),) = marked(picture, result["problems"]).items()
    assert where[0].startswith("段") and sorted(marks) == sorted(codes)
    labels = [row["label"] for row in picture["rows"]]
    assert labels[:3] == ["段1", "段2", "段3"] and labels[3] == "1"  # title and 填报部门 above the table
    paragraph = next(row for row in picture["rows"] if row["label"] == where[0])
    assert paragraph["cells"][0]["span"] == len(picture["columns"])


def test_a_zip_of_both_files_gives_a_picture_of_each(server, forms, tmp_path):
    roster = forms.roster("xlsx", [LEADER], unit=OFFICE)
    stats = forms.stats("docx", WRONG, unit=OFFICE)
    bundle = tmp_path / "办公室.zip"
    with zipfile.ZipFile(bundle, "w") as zf:
        zf.write(roster, "附件1.xlsx")
        zf.write(stats, "附件2.docx")
    answer = check(server, bundle).json()
    assert [r["attachment"] for r in answer["results"]] == ["roster", "stats"]
    roster_picture, stats_picture = answer["pictures"]
    assert text_at(roster_picture, *place(roster_cell("xlsx", 0, "name"))) == LEADER["name"]
    assert marked(stats_picture, answer["results"][1]["problems"]) == {
        place(stats_cell("docx", "1.1")): ["quantity-negative"],
        place(stats_cell("docx", "1.2")): ["quantity-not-number"]}
    assert all(every_problem_once(p, r["problems"]) for p, r in zip(answer["pictures"], answer["results"], strict=True))


def test_an_unreadable_file_gets_its_results_and_no_picture(server):
    answer = server.client.post(f"/u/{server.links[OFFICE]}/check", files={"file": ("x.xlsx", b"not a workbook")})
    found = answer.json()
    assert answer.status_code == 200 and found["pictures"] == [None]
    assert found["results"][0]["outcome"] == "rejected" and found["results"][0]["problems"]


# --- who may check ------------------------------------------------------------------------------


def test_another_units_form_is_refused_and_not_pictured(server, forms):
    other = forms.stats("xlsx", unit="药化科")
    found = check(server, other).json()
    (result,) = found["results"]
    assert result["outcome"] == "rejected" and "unit-mismatch" in {p["code"] for p in result["problems"]}
    assert found["pictures"] == [None]  # a department never sees another unit's return
    assert stored_count(server) == 0


@pytest.mark.parametrize("fmt", ["xlsx", "docx"])
def test_a_form_whose_unit_cannot_be_told_is_pictured_with_填报部门_marked(server, forms, fmt):
    nameless = strip_identity(forms.stats(fmt, unit=OFFICE, typed_unit=""))
    found = check(server, nameless).json()
    (result,), (picture,) = found["results"], found["pictures"]
    assert (result["unit"], result["outcome"]) == (None, "rejected")  # refused for this link, yet its own file
    ((where, codes),) = marked(picture, result["problems"]).items()
    assert codes == ["unit-missing"] and text_at(picture, *where).startswith("填报部门")
    assert where[0] == place(unit_cell(fmt, "stats"))[0]


def test_the_check_needs_a_units_own_valid_link(server, forms):
    path = forms.stats("xlsx", unit=OFFICE)
    forged = check(server, path, token="x" * 43)
    assert forged.status_code == 401 and forged.json()["error"] == "unauthorized"
    assert check(server, path, token=server.collector).status_code == 401  # a collector token is no unit link
    assert server.client.get(f"/u/{server.links[OFFICE]}/check").status_code == 405
    Tokens(server.ws.store_dir, server.ws.campaign.id).revoke(server.links[OFFICE])
    assert check(server, path).status_code == 401


def test_the_check_keeps_the_upload_cap_and_refuses_malformed_bodies(server):
    from campaign315.intake.read.zipparts import MAX_FILE_BYTES

    url = f"/u/{server.links[OFFICE]}/check"
    big = server.client.post(url, files={"file": ("big.xlsx", b"\0" * (MAX_FILE_BYTES + 100 * 1024))})
    assert big.status_code == 413 and big.json()["error"] == "too-large"
    assert server.client.post(url, content=b"junk").status_code == 400
    assert server.client.post(url, data={"other": "1"}).json()["error"] == "no-file"


# --- hostile files ------------------------------------------------------------------------------


def test_text_from_a_return_comes_back_as_data(server, forms):
    from campaign315.serve.app import HERE

    image, script = '<img src=x onerror="alert(1)">', "<script>alert(2)</script>"
    path = forms.stats("xlsx", {"1.1": image}, remarks={"1.10": script}, unit=OFFICE)
    answer = check(server, path, name=f"{script}.xlsx")
    assert answer.headers["content-type"].startswith("application/json")
    found = answer.json()
    picture = found["pictures"][0]
    assert text_at(picture, *place(stats_cell("xlsx", "1.1"))) == image
    assert text_at(picture, *place(stats_cell("xlsx", "1.10", "remark"))) == script
    assert marked(picture, found["results"][0]["problems"]) == {place(stats_cell("xlsx", "1.1")): ["quantity-not-number"]}
    # the page builds the picture from that data with textContent only: no script turns text into markup,
    # and the page itself carries no inline script or style (the browser test sees it drawn as text)
    for script_file in (HERE / "static").glob("*.js"):
        assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(", script_file.read_text()), script_file
    page = server.client.get(f"/u/{server.links[OFFICE]}").text
    assert '<script src="/static/picture.js"></script>' in page
    assert all('src="/static/' in tag for tag in re.findall(r"<script[^>]*>", page))
    assert " style=" not in page and "<style" not in page


def test_a_huge_sheet_is_pictured_within_the_cap(server, forms):
    from openpyxl import load_workbook

    path = forms.stats("xlsx", WRONG, unit=OFFICE)
    workbook = load_workbook(path)
    sheet = workbook["统计表"]
    rows, columns = 400, 40
    for r in range(30, rows + 1):
        for c in range(7, columns + 1):
            sheet.cell(r, c, f"杂{r}-{c}")
    sheet.cell(30, 7, "很长" * 5000)
    workbook.save(path)
    answer = check(server, path)
    assert answer.status_code == 200
    assert len(answer.content) < 200_000  # 60 × 12 cells of 40 characters at most
    found = answer.json()
    (result,), (picture,) = found["results"], found["pictures"]
    assert len(picture["rows"]) == MAX_ROWS and len(picture["columns"]) == MAX_COLUMNS
    assert picture["cut"] == {"rows": rows - MAX_ROWS, "columns": columns - MAX_COLUMNS}
    assert all(len(cell["text"]) <= MAX_TEXT for row in picture["rows"] for cell in row["cells"])
    assert text_at(picture, "30", "G").endswith("…")
    assert marked(picture, result["problems"])[place(stats_cell("xlsx", "1.1"))] == ["quantity-negative"]
    assert every_problem_once(picture, result["problems"])  # what the cap cuts off is listed above it


def test_a_zip_of_many_forms_pictures_only_the_first(server, forms, tmp_path):
    one = forms.stats("xlsx", unit=OFFICE)
    bundle = tmp_path / "many.zip"
    with zipfile.ZipFile(bundle, "w") as zf:
        for n in range(MAX_PICTURES + 3):
            zf.writestr(f"{n:02d}.xlsx", _varied(one.read_bytes(), n))
    found = check(server, bundle).json()
    assert len(found["results"]) == MAX_PICTURES + 3
    assert [p is not None for p in found["pictures"]] == [True] * MAX_PICTURES + [False] * 3


def _varied(data: bytes, n: int) -> bytes:
    """The same workbook with a different comment in the zip (a distinct file, the same form)."""
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            out.writestr(item, source.read(item.filename))
        out.comment = f"copy {n}".encode()
    return target.getvalue()


from test_hostile import CASES, bases, kit, listener  # noqa: E402, F401 — the corpus and its fixtures


@pytest.mark.parametrize("hostile", CASES, ids=[c.name for c in CASES])
def test_every_hostile_file_is_checked_with_a_json_answer_never_a_500(hostile, kit, server):  # noqa: F811 — kit is the fixture
    bad = hostile.build(kit)
    if not bad.is_file():
        pytest.skip("not a regular file: nothing a browser could upload")
    name = os.fsencode(bad.name).decode("utf-8", "replace")  # a browser sends text, whatever the disk held
    answer = server.client.post(f"/u/{server.links[OFFICE]}/check", files={"file": (name, bad.read_bytes())})
    assert answer.status_code in (200, 413), answer.text[:500]
    assert "Traceback" not in answer.text
    found = answer.json()
    if answer.status_code == 413:
        assert found["error"] == "too-large"
        return
    assert len(found["pictures"]) == len(found["results"]) and found["results"]
    for result, picture in zip(found["results"], found["pictures"], strict=True):
        assert all(p["message"] for p in result["problems"])
        if picture is not None:
            assert len(picture["rows"]) <= MAX_ROWS + 6 and len(picture["columns"]) <= MAX_COLUMNS
            assert every_problem_once(picture, result["problems"])
