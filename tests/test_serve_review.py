# ruff: noqa: F811 — ``server`` is the fixture imported from test_serve, named as each test asks for it
"""Review and feedback on the board of ``c315 serve``: ``POST /api/reviews`` (collector only, CSRF on
the cookie session), what the department's page then shows, and ``GET /api/feedback.zip``."""

from __future__ import annotations

import io
import zipfile

import pytest

pytest.importorskip("starlette")
from test_serve import OFFICE, server  # noqa: E402,F401 — the same app fixture as the API tests


def handed_in(server, forms, **values) -> dict:
    answer = server.upload(forms.stats("xlsx", values or None, unit=OFFICE), server.links[OFFICE])
    assert answer.status_code == 200, answer.text
    (result,) = answer.json()
    return result


def test_the_collector_sends_back_a_return_and_the_department_reads_why(server, forms):
    handed_in(server, forms)
    asked = {"unit": OFFICE, "attachment": "stats", "state": "rejected", "note": "<b>请附照片</b>", "by": "李明"}
    answer = server.client.post("/api/reviews", json=asked, headers=server.bearer(server.collector))
    assert answer.status_code == 200, answer.text
    done = answer.json()
    assert (done["unit"], done["review"]["state"], done["review"]["by"], done["status"]) == (OFFICE, "rejected", "李明", "rejected")

    status = server.client.get("/api/status", headers=server.bearer(server.collector)).json()
    (row,) = [r for r in status if r["unit"] == OFFICE and r["attachment"] == "stats"]
    assert (row["status"], row["review"]["note"]) == ("rejected", "<b>请附照片</b>")
    (entry,) = server.client.get("/api/history", headers=server.bearer(server.collector)).json()
    assert [r["state"] for r in entry["reviews"]] == ["rejected"]

    page = server.client.get(f"/u/{server.links[OFFICE]}")
    assert "退回：&lt;b&gt;请附照片&lt;/b&gt;" in page.text and "<b>请附照片" not in page.text  # escaped


@pytest.mark.parametrize(("how", "status"), [("none", 401), ("unit", 403), ("cookie-without-csrf", 403), ("cookie-wrong-csrf", 403)])
def test_only_the_collector_may_review_and_a_cookie_post_needs_the_csrf_token(server, forms, how, status):
    handed_in(server, forms)
    asked = {"unit": OFFICE, "attachment": "stats", "state": "approved"}
    headers = {}
    if how == "unit":
        headers = server.bearer(server.links[OFFICE])
    elif how.startswith("cookie"):
        server.login()
        if how == "cookie-wrong-csrf":
            headers = {"X-CSRF-Token": "forged"}
    answer = server.client.post("/api/reviews", json=asked, headers=headers)
    assert answer.status_code == status
    (entry,) = server.client.get("/api/history", headers=server.bearer(server.collector)).json()
    assert entry["reviews"] == []


def test_the_board_reviews_with_its_session_and_csrf_token(server, forms):
    handed_in(server, forms)
    csrf = server.login()
    answer = server.client.post("/api/reviews", json={"unit": OFFICE, "attachment": "附件2", "state": "approved"},
                                headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200, answer.text
    assert answer.json()["review"]["by"] == "汇总人（网页）"
    board = server.client.get("/")
    assert "按时 · 已审核" in board.text or "逾期 · 已审核" in board.text


@pytest.mark.parametrize(("body", "said"), [
    ("not json", "JSON"),
    ("[1, 2]", "JSON"),
    ('{"unit": "办公室", "attachment": "stats", "state": "rejected"}', "退回的原因"),
    ('{"unit": "办公室", "attachment": "stats", "state": "maybe"}', "审核结果只能是"),
    ('{"unit": "不存在", "attachment": "stats", "state": "approved"}', "没有这个部门"),
    ('{"unit": "办公室", "attachment": "附件9", "state": "approved"}', "附件9"),
    ('{"unit": "办公室", "attachment": "stats", "state": "approved", "return_id": "1; DROP"}', "return_id"),
    ('{"unit": ["x"], "attachment": "stats", "state": "approved"}', "unit"),
])
def test_a_wrong_review_request_gets_a_json_message_not_a_500(server, forms, body, said):
    handed_in(server, forms)
    answer = server.client.post("/api/reviews", content=body.encode(), headers={**server.bearer(server.collector),
                                                                         "Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert said in answer.json()["message"]


def test_a_review_body_is_capped(server):
    answer = server.client.post("/api/reviews", content=b"{" + b" " * 20_000 + b"}",
                                headers={**server.bearer(server.collector), "Content-Type": "application/json"})
    assert answer.status_code == 413


def test_the_feedback_zip_holds_the_letter_with_the_comment_and_the_marked_copy(server, forms):
    handed_in(server, forms, **{"1.1": "３场"})  # read as 3, with a warning: a marked copy
    server.client.post("/api/reviews", json={"unit": OFFICE, "attachment": "stats", "state": "has_issues",
                                             "note": "第1项请附活动照片"}, headers=server.bearer(server.collector))
    assert server.client.get("/api/feedback.zip", headers=server.bearer(server.links[OFFICE])).status_code == 403
    answer = server.client.get("/api/feedback.zip", headers=server.bearer(server.collector))
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(answer.content)) as bundle:
        names = bundle.namelist()
        (letter,) = [n for n in names if n.startswith(f"{OFFICE}/修改意见")]
        text = bundle.read(letter).decode("utf-8-sig")
    assert "第1项请附活动照片" in text and "统计表!D" in text
    assert any(n.startswith(f"{OFFICE}/") and n.endswith("（已标注）.xlsx") for n in names)
    assert "催报清单.txt" in names  # most units have sent nothing yet
