"""The schema of c315's second release: returns, their problems (locations as columns), 附件2
lines and 附件1 entries. A store written by that release (SQLite ``user_version`` 2) is stamped
at this revision; one written by the first release is converted to it first (see ``sqlite.py``).

Revision ID: 0002
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "returns",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("campaign", sa.Text, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("source_path", sa.Text, nullable=False),
        sa.Column("archive_key", sa.Text, nullable=False),
        sa.Column("unit", sa.Text),
        sa.Column("attachment", sa.Text),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("received_at", sa.Text, nullable=False),
        sa.Column("received_ts", sa.Float, nullable=False),
        sa.Column("document_modified", sa.Text),
        sa.Column("filler", sa.Text, nullable=False, server_default=""),
        sa.Column("filler_phone", sa.Text, nullable=False, server_default=""),
        sa.Column("errors", sa.Integer, nullable=False),
        sa.Column("warnings", sa.Integer, nullable=False),
        sa.Column("ingested_at", sa.Text, nullable=False),
        sa.UniqueConstraint("sha256", name="returns_sha256_key"),
        sa.CheckConstraint("attachment IN ('roster', 'stats')", name="returns_attachment_check"),
        sa.CheckConstraint("outcome IN ('accepted', 'rejected')", name="returns_outcome_check"),
    )
    op.create_index("returns_by_unit", "returns", ["campaign", "unit", "attachment", "received_ts"])
    op.create_table(
        "problems",
        sa.Column("return_id", sa.Integer, sa.ForeignKey("returns.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("loc_kind", sa.Text, nullable=False),
        sa.Column("loc_name", sa.Text, nullable=False),
        sa.Column("loc_table", sa.Integer, nullable=False),
        sa.Column("loc_row", sa.Integer, nullable=False),
        sa.Column("loc_column", sa.Integer, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_table(
        "stats_lines",
        sa.Column("return_id", sa.Integer, sa.ForeignKey("returns.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("item_key", sa.Text, primary_key=True),
        sa.Column("quantity", sa.Integer),
        sa.Column("remark", sa.Text, nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("cell_kind", sa.Text),
        sa.Column("cell_name", sa.Text, nullable=False, server_default=""),
        sa.Column("cell_table", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cell_row", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cell_column", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint("quantity IS NULL OR quantity >= 0", name="stats_lines_quantity_check"),
    )
    op.create_table(
        "roster_entries",
        sa.Column("return_id", sa.Integer, sa.ForeignKey("returns.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("date", sa.Text),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("position", sa.Text, nullable=False),
        sa.Column("landline", sa.Text, nullable=False),
        sa.Column("mobile", sa.Text, nullable=False),
    )
