"""A throw-away PostgreSQL cluster for the tests, ``make demo-city`` and ``make bench``: ``initdb``
and ``pg_ctl`` from the machine's PostgreSQL (Debian's ``postgresql`` package) in a fresh folder,
listening on a Unix socket in that folder only (no TCP port), removed when stopped.

``initdb`` refuses to run as root; run as root (as CI is), the cluster is made and run by the
``postgres`` user the package creates (``runuser -u postgres --``), in a folder under ``/tmp``
that user can reach. Where none of this is possible, :class:`Unavailable` says why.

    with ThrowawayCluster.start() as cluster:
        url = cluster.create_database("c315")     # postgresql://postgres@/c315?host=/tmp/c315-pg-…
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

SUPERUSER = "postgres"


class Unavailable(Exception):
    """No throw-away cluster can be started here; the message says why."""


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise Unavailable("PostgreSQL is not installed (no initdb): apt-get install postgresql")


class ThrowawayCluster:
    """One running cluster in its own folder; :meth:`stop` (or leaving ``with``) removes it."""

    def __init__(self, folder: Path, bindir: Path, runas: list[str]):
        self.folder, self.bindir, self.runas = folder, bindir, runas
        self.data = folder / "data"
        self._databases = 0

    @classmethod
    def start(cls, durable: bool = False) -> ThrowawayCluster:
        """Make and start a cluster. ``durable``: keep PostgreSQL's defaults (every commit waits
        for the disk), as a real server would — for the benchmark; the tests turn fsync off."""
        bindir = _binaries()
        runas: list[str] = []
        folder = Path(tempfile.mkdtemp(prefix="c315-pg-", dir="/tmp"))
        try:
            if getattr(os, "geteuid", lambda: 1)() == 0:  # root (POSIX only): initdb runs as postgres
                import pwd

                try:
                    account = pwd.getpwnam(SUPERUSER)
                except KeyError:
                    raise Unavailable("running as root and there is no 'postgres' user to run the cluster") from None
                runuser = shutil.which("runuser")
                if runuser is None:
                    raise Unavailable("running as root and runuser is missing (util-linux)")
                os.chown(folder, account.pw_uid, account.pw_gid)
                runas = [runuser, "-u", SUPERUSER, "--"]
            folder.chmod(0o755)
            cluster = cls(folder, bindir, runas)
            cluster._initdb()
            cluster._pg_ctl_start(durable)
            return cluster
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def _run(self, *command: str) -> None:
        done = subprocess.run([*self.runas, *command], capture_output=True, text=True, cwd=self.folder)
        if done.returncode:
            raise Unavailable(f"{Path(command[0]).name} failed: {(done.stderr or done.stdout).strip()[-800:]}")

    def _initdb(self) -> None:
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                  "--encoding=UTF8", "--locale=C", "--no-sync")

    def _pg_ctl_start(self, durable: bool) -> None:
        options = f"-k {self.folder} -c listen_addresses='' -c max_connections=60"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "server.log"),
                  "-w", "-t", "60", "-o", options, "start")

    def url(self, dbname: str = "postgres") -> str:
        """A libpq URL of one database of the cluster, through its socket."""
        return f"postgresql://{SUPERUSER}@/{dbname}?host={self.folder}"

    def create_database(self, name: str | None = None, **settings: str) -> str:
        """A new empty database (``settings``: ``ALTER DATABASE … SET``); its URL."""
        import psycopg

        self._databases += 1
        name = name or f"c315_{self._databases}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
            for setting, value in settings.items():
                conn.execute(f'ALTER DATABASE "{name}" SET {setting} = {value}')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        if self.data.exists():
            subprocess.run([*self.runas, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w",
                            "stop"], capture_output=True, cwd=self.folder)
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> ThrowawayCluster:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
