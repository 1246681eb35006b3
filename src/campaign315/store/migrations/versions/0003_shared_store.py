"""The shared store: a file is recorded once per campaign (not once for every campaign), so the
city and its districts keep their returns side by side in one database; and the archive can
live in the database (``archive_files``, by SHA-256), for a server that every machine reaches.

SQLite cannot change a table's constraints in place: ``returns`` is rebuilt (new table, rows
copied, old one dropped, new one renamed — SQLite's documented procedure, run with foreign keys
off by the caller), keeping every id, so problems, lines and entries still point at their return.
A store written by a development build between the second release and this one (schema 3 before
Alembic: a return's ``place``, unique per SHA-256 and place) keeps its places; ``0004`` then finds
it done.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = ("id, campaign, sha256, filename, source_path, archive_key, unit, attachment, outcome, received_at,"
           " received_ts, document_modified, filler, filler_phone, errors, warnings, ingested_at")

SQLITE_RETURNS = """
CREATE TABLE returns_new (
    id INTEGER NOT NULL PRIMARY KEY,
    campaign TEXT NOT NULL,
    sha256 VARCHAR(64) NOT NULL,
    filename TEXT NOT NULL,
    source_path TEXT NOT NULL,
    archive_key TEXT NOT NULL,
    unit TEXT,
    attachment TEXT CONSTRAINT returns_attachment_check CHECK (attachment IN ('roster', 'stats')),
    outcome TEXT NOT NULL CONSTRAINT returns_outcome_check CHECK (outcome IN ('accepted', 'rejected')),
    received_at TEXT NOT NULL,
    received_ts FLOAT NOT NULL,
    document_modified TEXT,
    filler TEXT DEFAULT '' NOT NULL,
    filler_phone TEXT DEFAULT '' NOT NULL,
    errors INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    ingested_at TEXT NOT NULL,
    CONSTRAINT returns_campaign_sha256_key UNIQUE (campaign, sha256)
)"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        columns, table = COLUMNS, SQLITE_RETURNS
        if "place" in {row[1] for row in op.get_bind().exec_driver_sql("PRAGMA table_info(returns)")}:
            columns += ", place"
            table = table.replace("sha256 VARCHAR(64) NOT NULL,", "sha256 VARCHAR(64) NOT NULL,\n    place TEXT DEFAULT '' NOT NULL,")
            table = table.replace("CONSTRAINT returns_campaign_sha256_key UNIQUE (campaign, sha256)",
                                  "CONSTRAINT returns_campaign_sha256_place_key UNIQUE (campaign, sha256, place)")
        op.execute(table)
        op.execute(f"INSERT INTO returns_new ({columns}) SELECT {columns} FROM returns")
        op.execute("DROP TABLE returns")
        op.execute("ALTER TABLE returns_new RENAME TO returns")
        op.create_index("returns_by_unit", "returns", ["campaign", "unit", "attachment", "received_ts"])
    else:
        op.drop_constraint("returns_sha256_key", "returns", type_="unique")
        op.create_unique_constraint("returns_campaign_sha256_key", "returns", ["campaign", "sha256"])
        op.alter_column("returns", "sha256", type_=sa.String(64))
    op.create_table(
        "archive_files",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("stored_at", sa.Text, nullable=False),
    )
