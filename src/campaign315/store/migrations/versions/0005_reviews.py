"""Review by the collector (as ODK Central has it): a received return marked 已审核 (approved),
有问题 (has issues, with a comment for the department) or 退回 (sent back by hand, with a reason),
with who and when. Reviews are only ever added: the latest of a return is its state, the earlier
ones its history. A return sent back by hand counts no more than one ingest rejected.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("return_id", sa.Integer, sa.ForeignKey("returns.id", ondelete="CASCADE"), nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("reviewer", sa.Text, nullable=False),
        sa.Column("reviewed_at", sa.Text, nullable=False),
        sa.CheckConstraint("state IN ('approved', 'has_issues', 'rejected')", name="reviews_state_check"),
    )
    op.create_index("reviews_by_return", "reviews", ["return_id", "id"])
