"""Where each unit stands on each attachment it owes, at a cut-off: which return counts, and
whether it is on time, late, after the cut-off, rejected or missing. Shared by ``status`` and
``summary``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from campaign315.spec.campaign import AttachmentKey, Campaign, Unit
from campaign315.store import Store, StoredReturn

Status = Literal["on_time", "late", "after_cutoff", "rejected", "missing"]


@dataclass
class Standing:
    unit: Unit
    attachment: AttachmentKey
    status: Status
    counting: StoredReturn | None
    """The return whose figures count (the latest accepted one by the cut-off that the collector
    did not send back), if any."""
    received: list[StoredReturn]
    """The returns from this unit for this attachment that were looked at, oldest first (all of
    them from ``Store.returns``; the deciding few from ``Store.latest_returns``)."""
    contact: str = "—"
    """Whom to phone: the unit's contact in the campaign data, else the 填报人 and 联系电话 of its
    latest return (either attachment)."""

    @property
    def latest(self) -> StoredReturn | None:
        return self.received[-1] if self.received else None

    @property
    def shown(self) -> StoredReturn | None:
        """The return a person is shown for this form: the counting one, else the latest received."""
        return self.counting or self.latest

    @property
    def problem_count(self) -> int:
        shown = self.shown
        return shown.errors + shown.warnings if shown else 0

    def as_json(self) -> dict:
        """``c315 status --json``: one unit × attachment (the shape documented in README)."""
        shown = self.shown
        return {
            "unit": self.unit.name,
            "attachment": self.attachment,
            "status": self.status,
            "received_at": shown.received_at.isoformat() if shown else None,
            "problems": self.problem_count,
            "contact": self.contact,
            "review": shown.review.as_json() if shown and shown.review else None,
        }


@dataclass
class Received:
    """One received return as ``c315 history`` lists it: what came, what became of it, and whether
    it is the return whose figures count now (a file holding both forms is two returns)."""

    stored: StoredReturn
    counts: bool

    def as_json(self) -> dict:
        """``c315 history --json``: one return (the shape documented in README)."""
        r = self.stored
        return {
            "id": r.id,
            "file": r.filename,
            "sha256": r.sha256,
            "place": r.place,
            "received_at": r.received_at.isoformat(),
            "unit": r.unit,
            "attachment": r.attachment,
            "outcome": r.outcome,
            "errors": r.errors,
            "warnings": r.warnings,
            "counts": self.counts,
            "review": r.review.as_json() if r.review else None,
            "reviews": [review.as_json() for review in r.reviews],
        }


def history(campaign: Campaign, store: Store, unit: Unit | None = None) -> list[Received]:
    """Every file received for the campaign (or from ``unit``), oldest first, each marked when it
    is the return that counts for its unit and attachment as things stand."""
    returns = store.returns(campaign.id, unit.name if unit else None, with_problems=False)
    counting = {s.counting.id for s in standings(campaign, returns) if s.counting}
    return [Received(r, r.id in counting) for r in returns]


def standings(
    campaign: Campaign,
    returns: list[StoredReturn],
    cutoff: dt.datetime | None = None,
    include_late: bool = False,
) -> list[Standing]:
    """One :class:`Standing` per unit × attachment it owes, in the campaign's order.

    ``cutoff`` None means "now, everything received so far counts". Returns after the cut-off are
    listed but only count with ``include_late``.
    """
    by_key: dict[tuple[str | None, str | None], list[StoredReturn]] = {}
    for ret in returns:
        by_key.setdefault((ret.unit, ret.attachment), []).append(ret)
    result = []
    for unit in campaign.units:
        for attachment in unit.returns:
            received = sorted(by_key.get((unit.name, attachment), []), key=lambda r: (r.received_at, r.id))
            accepted = [r for r in received if r.usable]  # not rejected by ingest, nor sent back by hand
            in_time = [r for r in accepted if cutoff is None or r.received_at <= cutoff]
            after = [r for r in accepted if cutoff is not None and r.received_at > cutoff]
            if include_late and after:  # the latest return counts, even one after the cut-off
                counting, status = after[-1], "after_cutoff"
            elif in_time:
                counting = in_time[-1]
                status: Status = "on_time" if counting.received_at <= campaign.due_at(attachment) else "late"
            elif after:
                counting, status = None, "after_cutoff"
            elif received:
                counting, status = None, "rejected"
            else:
                counting, status = None, "missing"
            result.append(Standing(unit, attachment, status, counting, received))
    _fill_contacts(campaign, result)
    return result


def _fill_contacts(campaign: Campaign, rows: list[Standing]) -> None:
    latest: dict[str, StoredReturn] = {}
    for s in rows:
        for r in s.received:
            if r.filler and (s.unit.name not in latest or r.received_at > latest[s.unit.name].received_at):
                latest[s.unit.name] = r
    for s in rows:
        if s.unit.contact:
            s.contact = campaign.contact_for(s.unit)
        elif s.unit.name in latest:
            r = latest[s.unit.name]
            s.contact = f"{r.filler} {r.filler_phone}".strip() + "（填报人）"
