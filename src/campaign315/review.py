"""The collector's review of a received return (after intake, before the summary), as ODK Central
has it: 已审核 (approved), 有问题 (has issues — a comment the department reads on its page and in
its feedback letter) or 退回 (sent back by hand, with a reason — the return then counts no more
than one ingest rejected).
Recorded with who and when, never overwritten: a later review of the same return wins, the
earlier ones stay in its history. ``c315 review`` and the board of ``c315 serve`` both call
:func:`review_return`.

    done = review_return(campaign, store, campaign.find_unit("办公室"), "stats", "rejected",
                         note="第3项与上报材料不符", reviewer="李明")
    print(done.describe())
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from campaign315.common.errors import C315Error, UsageError
from campaign315.common.text import squash, visible
from campaign315.common.words import ATTACHMENT_ZH, REVIEW_ZH, STATUS_ZH
from campaign315.reports.standing import Standing, standings
from campaign315.spec.campaign import ATTACHMENT_KEYS, AttachmentKey, Campaign, Unit
from campaign315.store import REVIEW_STATES, Review, Store, StoredReturn

NOTE_LIMIT = 500
"""Characters of a comment or reason kept (a letter quotes it whole)."""
REVIEWER_LIMIT = 40
_ATTACHMENT_NAMES = {
    "roster": "roster", "1": "roster", "附件1": "roster", "值班表": "roster",
    "stats": "stats", "2": "stats", "附件2": "stats", "统计表": "stats",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class ReviewRefused(C315Error):
    """The review cannot be made as asked (nothing to review, a reason missing, approving a
    return ingest rejected); the message says why and what to do."""


def attachment_named(text: str) -> AttachmentKey:
    """The attachment a person typed: ``stats``, ``2``, ``附件2`` or ``统计表`` (and ``roster`` …).

    >>> attachment_named("附件２"), attachment_named(" 值班表 ")
    ('stats', 'roster')
    """
    key = _ATTACHMENT_NAMES.get(squash(text).lower())
    if key is None:
        raise UsageError(f"没有「{text}」这张表：请写 附件1（值班表）或 附件2（统计表）。")
    return key


@dataclass(frozen=True)
class Reviewed:
    """A review made: of which return, and where its unit stands on the form afterwards."""

    stored: StoredReturn
    review: Review
    standing: Standing

    def as_json(self) -> dict:
        """``c315 review --json`` and ``POST /api/reviews`` (README documents the keys)."""
        r = self.stored
        return {
            "id": r.id, "unit": r.unit, "attachment": r.attachment, "file": r.filename, "place": r.place,
            "received_at": r.received_at.isoformat(), "outcome": r.outcome,
            "review": self.review.as_json(), "status": self.standing.status,
        }

    def describe(self) -> str:
        r, review = self.stored, self.review
        said = f"：{review.note}" if review.note else ""
        return (f"已记录：{r.unit} {ATTACHMENT_ZH[r.attachment or 'stats']}（{r.filename}，编号 {r.id}）"
                f"{REVIEW_ZH[review.state]}{said}（{review.reviewer}）。现在的状态：{STATUS_ZH[self.standing.status]}。")


def review_return(
    campaign: Campaign,
    store: Store,
    unit: Unit,
    attachment: AttachmentKey,
    state: str,
    note: str = "",
    reviewer: str = "",
    return_id: int | None = None,
    now: dt.datetime | None = None,
) -> Reviewed:
    """Record the collector's review of ``unit``'s return of ``attachment``: the one shown for it
    now (the return that counts, else the latest received), or the return ``return_id`` of that
    unit and form (an earlier one, to take back a 退回, say).

    Refused (:class:`ReviewRefused`): nothing received; 有问题 or 退回 without a note; 已审核 or
    退回 of a return ingest rejected (it counts for nothing already: the department must send it
    again)."""
    if state not in REVIEW_STATES:
        raise UsageError(f"审核结果只能是：{'、'.join(REVIEW_ZH.values())}。")
    if attachment not in ATTACHMENT_KEYS or not unit.owes(attachment):
        raise UsageError(f"{unit.name} 不需要报送{ATTACHMENT_ZH.get(attachment, attachment)}。")
    note = _clean(note, NOTE_LIMIT)
    reviewer = _clean(reviewer, REVIEWER_LIMIT) or "汇总人"
    if state != "approved" and not note:
        what = "退回的原因" if state == "rejected" else "有什么问题"
        raise ReviewRefused(f"请写明{what}（--note），部门会在自己的页面和修改意见里看到它。")
    with store.snapshot():
        received = store.returns(campaign.id, unit.name)
    (standing,) = [s for s in standings(campaign, received) if s.unit == unit and s.attachment == attachment]
    target = _target(standing, unit, attachment, return_id)
    if target.outcome != "accepted" and state != "has_issues":
        raise ReviewRefused(
            f"{unit.name} 的{ATTACHMENT_ZH[attachment]}（{target.filename}）有 {target.errors} 处错误，"
            f"收表时已被退回，不计入汇总，不能{REVIEW_ZH[state]}；请部门改正后重新报送。")
    review = Review(state=state, note=note, reviewer=reviewer, reviewed_at=campaign.localize(now or dt.datetime.now(campaign.tz)).replace(microsecond=0))
    store.add_review(target.id, review)
    target.reviews.append(review)
    (after,) = [s for s in standings(campaign, received) if s.unit == unit and s.attachment == attachment]
    return Reviewed(target, review, after)


def _target(standing: Standing, unit: Unit, attachment: AttachmentKey, return_id: int | None) -> StoredReturn:
    if return_id is not None:
        for r in standing.received:
            if r.id == return_id:
                return r
        raise ReviewRefused(f"{unit.name} 的{ATTACHMENT_ZH[attachment]}里没有编号为 {return_id} 的报表；"
                            f"编号见 c315 history {unit.name}。")
    if standing.shown is None:
        raise ReviewRefused(f"还没有收到 {unit.name} 的{ATTACHMENT_ZH[attachment]}，没有可审核的报表。")
    return standing.shown


def _clean(text: str, limit: int) -> str:
    """Typed text as kept: control characters gone, invisible marks and ends stripped, capped."""
    return visible(_CONTROL.sub(" ", text or ""))[:limit]
