"""Shared fixtures: the shipped campaign, a private workspace for the store, a wide CLI runner,
forms filled from a dict, and a way to read back what the store holds.

The store is the workspace's SQLite one unless a test module asks for both backends: it then
defines ``store_url`` as ``backend_url`` (parametrised: SQLite, and a fresh database in a real
throw-away PostgreSQL cluster started once per session — skipped, with the reason, where no
cluster can be started here)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
from pathlib import Path

import pytest
from fill import blank, fill_roster, fill_stats, shipped_campaign
from typer.testing import CliRunner

from campaign315.cli import app
from campaign315.common.files import shipped
from campaign315.intake.ingest import FileResult, ingest_file
from campaign315.spec.campaign import Campaign, load_campaign
from campaign315.spec.forms import RosterEntry, StatsLine
from campaign315.spec.workspace import Workspace
from campaign315.store import Store, StoredReturn, open_store

FORMATS = ("xlsx", "docx")
FILLER = {"filler": "张涛", "phone": "13682055679"}
# A complete, clean 附件2: every item 1, the 其他 rows say what they count.
GOOD_QUANTITIES: dict[str, object] = {item.key: 1 for item in shipped_campaign().attachments.stats.items}
GOOD_REMARKS: dict[str, object] = {"1.10": "消费维权进社区", "3": "发放宣传品"}
# A clean 附件1 for a station (1 leader and 2 cadres, as 工作要求（三） asks).
LEADER = {"name": "王建国", "position": "所长", "mobile": "13612345678"}
CADRE = {"name": "李明", "position": "科员", "landline": "23456789"}
CADRE_2 = {"name": "赵丽", "position": "一级主任科员", "mobile": "13912345678"}
GOOD_ROSTER = [LEADER, CADRE, CADRE_2]


@pytest.fixture(scope="session")
def campaign() -> Campaign:
    return load_campaign(shipped("data") / "campaign.toml")


@pytest.fixture
def workspace(tmp_path, monkeypatch) -> Path:
    """An empty workspace (shipped campaign and templates), chosen through C315_WORKSPACE."""
    root = tmp_path / "workspace"
    root.mkdir()
    monkeypatch.setenv("C315_WORKSPACE", str(root))
    return root


@pytest.fixture
def returned(tmp_path) -> Path:
    """Where the filled forms that came off the OA system are kept."""
    folder = tmp_path / "returned"
    folder.mkdir()
    return folder


@pytest.fixture
def forms(tmp_path):
    """Make filled forms: ``forms.stats(fmt, {"1.1": "３场"}, unit=..., remarks=..., filler=...)``
    fills a clean return with the given values over it; ``forms.roster(fmt, entries, ...)`` the
    same for the duty roster. Each call makes a new file in its own folder."""
    return FormMaker(tmp_path / "filled")


class FormMaker:
    def __init__(self, root: Path):
        self.root = root
        self.count = itertools.count(1)

    def _blank(self, unit: str, attachment: str, fmt: str) -> Path:
        return blank(self.root / str(next(self.count)), unit, attachment, fmt)

    def stats(self, fmt: str, quantities: dict | None = None, *, unit: str = "办公室", clean: bool = True,
              remarks: dict | None = None, typed_unit: str | None = None, **kwargs) -> Path:
        """The 附件2 generated for ``unit``, filled with the clean values (unless ``clean`` is
        False), then ``quantities``; ``typed_unit`` overwrites 填报部门."""
        values = {**(GOOD_QUANTITIES if clean else {}), **(quantities or {})}
        notes = {**(GOOD_REMARKS if clean else {}), **(remarks or {})}
        path = self._blank(unit, "stats", fmt)
        return fill_stats(path, values, remarks=notes, unit=typed_unit, **{**FILLER, **kwargs})

    def roster(self, fmt: str, entries: list[dict] | None = None, *, unit: str = "劝业场市场监管所",
               typed_unit: str | None = None, **kwargs) -> Path:
        """The 附件1 generated for ``unit`` (a station by default) listing ``entries`` (the clean
        three if None); ``typed_unit`` overwrites 填报部门."""
        people = GOOD_ROSTER if entries is None else entries
        path = self._blank(unit, "roster", fmt)
        return fill_roster(path, people, unit=typed_unit, **{**FILLER, **kwargs})


RUNNER_ENV = {"COLUMNS": "250", "LINES": "200", "NO_COLOR": "1", "TERM": "dumb", "C315_WORKSPACE": None,
              "C315_STORE": None, "C315_CAMPAIGN": None}
"""A wide, plain terminal so rich tables do not wrap or colour; no workspace from the caller's shell."""


def cli_runner(**env: str | None) -> CliRunner:
    """The one way tests run the command line in-process (the fixtures below use it; a module that
    builds its workspaces once per module calls it directly)."""
    return CliRunner(env={**RUNNER_ENV, **env})


# --- the store's backend --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_cluster():
    """A real PostgreSQL cluster for the session (Debian's ``postgresql``: initdb + pg_ctl on a Unix
    socket in a temporary folder, as the ``postgres`` user when run as root), stopped after."""
    from campaign315.store.pgtemp import ThrowawayCluster, Unavailable

    try:
        cluster = ThrowawayCluster.start()
    except Unavailable as exc:
        if os.environ.get("C315_REQUIRE_POSTGRESQL"):  # CI: the PostgreSQL half must run
            pytest.fail(f"no PostgreSQL cluster could be started: {exc}")
        pytest.skip(f"no PostgreSQL cluster could be started here: {exc}")
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster) -> str:
    """A fresh, migrated database in the session's cluster."""
    from campaign315.store import open_store

    url = pg_cluster.create_database()
    with open_store(url, migrating=True) as store:
        store.migrate()
    return url


BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(params=BACKENDS)
def backend_url(request) -> str | None:
    """The store a both-backends test runs against: None (the workspace's SQLite store) or a fresh
    PostgreSQL database."""
    return request.getfixturevalue("pg_url") if request.param == "postgresql" else None


@pytest.fixture
def store_url() -> str | None:
    """The store the CLI fixtures and ``kept`` use: the workspace's SQLite store by default; a module
    overrides this with ``backend_url`` to run on both backends."""
    return None


@pytest.fixture
def runner(workspace, store_url) -> CliRunner:
    """A runner for the test's workspace (``C315_WORKSPACE``) and store (``C315_STORE``)."""
    return cli_runner(C315_WORKSPACE=str(workspace), C315_STORE=store_url)


@pytest.fixture
def c315(runner, workspace):
    """Run ``c315 ARGS...`` against the test's workspace; returns the typer Result."""

    def invoke(*args: object):
        return runner.invoke(app, [str(a) for a in args])

    return invoke


@pytest.fixture
def ingest_json(c315):
    """``c315 ingest --json ARGS...`` → (exit code, the parsed JSON array)."""

    def run(*args: object):
        result = c315("ingest", "--json", *args)
        assert result.exit_code in (0, 1), (result.exit_code, result.output)
        return result.exit_code, json.loads(result.stdout)

    return run


def only(results: list[FileResult]) -> FileResult:
    """The one return a file holding one form gives."""
    assert len(results) == 1, [(r.file, r.place, r.attachment) for r in results]
    return results[0]


@pytest.fixture
def check(campaign):
    """Read and validate one file holding one form as ``c315 ingest --dry-run`` does; nothing is
    stored. ``check.all(path)`` gives every return a file holds."""

    class Check:
        def __call__(self, path: Path) -> FileResult:
            return only(self.all(path))

        def all(self, path: Path) -> list[FileResult]:
            return ingest_file(Path(path), campaign, None)

    return Check()


class Kept:
    """The workspace's store, seen from a test: ingest into it and read back what it holds."""

    def __init__(self, store: Store, campaign: Campaign):
        self.store, self.campaign = store, campaign

    def ingest(self, path: Path, received_at: dt.datetime | None = None) -> FileResult:
        """Ingest a file holding one form; its one result."""
        return only(self.ingest_all(path, received_at))

    def ingest_all(self, path: Path, received_at: dt.datetime | None = None) -> list[FileResult]:
        """Ingest a file; one result per return it holds."""
        return ingest_file(Path(path), self.campaign, self.store, received_at)

    def returns(self, unit: str | None = None) -> list[StoredReturn]:
        return self.store.returns(self.campaign.id, unit)

    def by_sha(self, sha256: str, attachment: str | None = None) -> StoredReturn:
        (found,) = [r for r in self.returns() if r.sha256 == sha256 and attachment in (None, r.attachment)]
        return found

    def stats(self, sha256: str) -> dict[str, StatsLine]:
        return_id = self.by_sha(sha256, "stats").id
        return {line.key: line for line in self.store.stats_lines([return_id])[return_id]}

    def roster(self, sha256: str) -> list[RosterEntry]:
        return_id = self.by_sha(sha256, "roster").id
        return self.store.roster_entries([return_id])[return_id]


@pytest.fixture
def kept(workspace, campaign, store_url):
    """The test's store (the workspace's ``.c315/``, or ``store_url``), opened for the test and closed after."""
    store = open_store(store_url or Workspace(workspace).store_dir)
    yield Kept(store, campaign)
    store.close()
