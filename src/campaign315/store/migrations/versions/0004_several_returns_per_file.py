"""Several returns per file (files as departments send them): a workbook holding both forms, or a
zip of two files, gives one return per form found, each with its ``place`` in the file (a sheet's
name, ``表2`` in a document). A file's SHA-256 is unique per campaign and place instead of per
campaign; every earlier return is its file's only one, at place ``''``.

SQLite cannot drop a UNIQUE constraint: ``returns`` is rebuilt as in ``0003`` (foreign keys off by
the caller), every id kept. PostgreSQL alters the table in place.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = ("id, campaign, sha256, filename, source_path, archive_key, unit, attachment, outcome, received_at,"
           " received_ts, document_modified, filler, filler_phone, errors, warnings, ingested_at")

SQLITE_RETURNS = """
CREATE TABLE returns_new (
    id INTEGER NOT NULL PRIMARY KEY,
    campaign TEXT NOT NULL,
    sha256 VARCHAR(64) NOT NULL,
    place TEXT DEFAULT '' NOT NULL,
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
    CONSTRAINT returns_campaign_sha256_place_key UNIQUE (campaign, sha256, place)
)"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        if "place" in {row[1] for row in bind.exec_driver_sql("PRAGMA table_info(returns)")}:
            return  # a development store of schema 3 before Alembic: 0003 kept its places
        op.execute(SQLITE_RETURNS)
        op.execute(f"INSERT INTO returns_new ({COLUMNS}) SELECT {COLUMNS} FROM returns")
        op.execute("DROP TABLE returns")
        op.execute("ALTER TABLE returns_new RENAME TO returns")
        op.create_index("returns_by_unit", "returns", ["campaign", "unit", "attachment", "received_ts"])
    else:
        op.execute("ALTER TABLE returns ADD COLUMN place TEXT DEFAULT '' NOT NULL")
        op.drop_constraint("returns_campaign_sha256_key", "returns", type_="unique")
        op.create_unique_constraint("returns_campaign_sha256_place_key", "returns", ["campaign", "sha256", "place"])
