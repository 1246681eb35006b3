"""The store's schema, once, for every backend (SQLAlchemy Core tables). The migrations in
``migrations/versions/`` build it step by step (``c315 store migrate``); this module is what the
queries in :mod:`.sql` are written against, and it must match the newest migration (a test checks).

A return is one form found in a received file (a workbook holding both forms gives two returns,
told apart by ``place``); a file's returns are recorded once per campaign (SHA-256 and place are
unique within a campaign, so two c315 processes that ingest the same file at once record it once); rows are only ever inserted,
never updated, so nothing can be lost to a concurrent update. ``archive_files`` keeps the exact
bytes of every file for a shared store (PostgreSQL); a workspace's SQLite store keeps them as
files beside the database instead and leaves the table empty.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

SCHEMA_REVISION = "0005"
"""The Alembic revision this code reads and writes (``Store.SCHEMA_VERSION`` as a revision id)."""

metadata = MetaData()

returns = Table(
    "returns", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("campaign", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("place", Text, nullable=False, server_default=""),
    Column("filename", Text, nullable=False),
    Column("source_path", Text, nullable=False),
    Column("archive_key", Text, nullable=False),
    Column("unit", Text),
    Column("attachment", Text, CheckConstraint("attachment IN ('roster', 'stats')", name="returns_attachment_check")),
    Column("outcome", Text, CheckConstraint("outcome IN ('accepted', 'rejected')", name="returns_outcome_check"),
           nullable=False),
    Column("received_at", Text, nullable=False),
    Column("received_ts", Float, nullable=False),
    Column("document_modified", Text),
    Column("filler", Text, nullable=False, server_default=""),
    Column("filler_phone", Text, nullable=False, server_default=""),
    Column("errors", Integer, nullable=False),
    Column("warnings", Integer, nullable=False),
    Column("ingested_at", Text, nullable=False),
    UniqueConstraint("campaign", "sha256", "place", name="returns_campaign_sha256_place_key"),
    Index("returns_by_unit", "campaign", "unit", "attachment", "received_ts"),
)



def _return_id() -> Column:
    """The return a row belongs to (deleted with it)."""
    return Column("return_id", Integer, ForeignKey("returns.id", ondelete="CASCADE"), primary_key=True)


problems = Table(
    "problems", metadata,
    _return_id(),
    Column("seq", Integer, primary_key=True),
    Column("severity", Text, nullable=False),
    Column("code", Text, nullable=False),
    Column("loc_kind", Text, nullable=False),
    Column("loc_name", Text, nullable=False),
    Column("loc_table", Integer, nullable=False),
    Column("loc_row", Integer, nullable=False),
    Column("loc_column", Integer, nullable=False),
    Column("value", Text, nullable=False),
    Column("message", Text, nullable=False),
)

stats_lines = Table(
    "stats_lines", metadata,
    _return_id(),
    Column("item_key", Text, primary_key=True),
    Column("quantity", Integer, CheckConstraint("quantity IS NULL OR quantity >= 0", name="stats_lines_quantity_check")),
    Column("remark", Text, nullable=False),
    Column("label", Text, nullable=False),
    Column("cell_kind", Text),
    Column("cell_name", Text, nullable=False, server_default=""),
    Column("cell_table", Integer, nullable=False, server_default="0"),
    Column("cell_row", Integer, nullable=False, server_default="0"),
    Column("cell_column", Integer, nullable=False, server_default="0"),
)

roster_entries = Table(
    "roster_entries", metadata,
    _return_id(),
    Column("seq", Integer, primary_key=True),
    Column("date", Text),
    Column("name", Text, nullable=False),
    Column("position", Text, nullable=False),
    Column("landline", Text, nullable=False),
    Column("mobile", Text, nullable=False),
)

reviews = Table(
    "reviews", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("return_id", Integer, ForeignKey("returns.id", ondelete="CASCADE"), nullable=False),
    Column("state", Text, CheckConstraint("state IN ('approved', 'has_issues', 'rejected')", name="reviews_state_check"),
           nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("reviewer", Text, nullable=False),
    Column("reviewed_at", Text, nullable=False),
    Index("reviews_by_return", "return_id", "id"),
)
"""The collector's reviews of returns, only ever added: a return's latest is its state."""

archive_files = Table(
    "archive_files", metadata,
    Column("key", Text, primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("stored_at", Text, nullable=False),
)
