"""A throwaway PostgreSQL cluster for tests: Debian's binaries, a temp dir, a unix socket only.

    with throwaway_cluster() as cluster:
        url = cluster.new_database()     # a fresh, empty database; SQLAlchemy URL (psycopg)

The cluster listens on no TCP port at all (its socket lives in its own temp dir), trusts only
local connections, and is deleted on leaving, whatever happened. initdb refuses to run as
root, so as root the cluster runs as Debian's `postgres` user.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

SUPERUSER = "sealdrop_test"
START_DEADLINE_S = 60


class PostgresUnavailable(RuntimeError):
    """Debian's PostgreSQL server binaries are not installed (tests/install-system-deps.sh)."""


def server_bin_dir() -> Path:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parent.parent.name),
    )
    if not candidates:
        raise PostgresUnavailable(
            "no /usr/lib/postgresql/*/bin/initdb: install Debian's postgresql package"
        )
    return Path(candidates[-1]).parent


@dataclass
class Cluster:
    socket_dir: Path
    _names: Iterator[int] = field(default_factory=itertools.count)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@/{database}?host={self.socket_dir}"

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(
            host=str(self.socket_dir), user=SUPERUSER, dbname=database, autocommit=True
        )

    def new_database(self) -> str:
        """Creates an empty database and returns its SQLAlchemy URL."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        with self.connect() as connection:
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drops a database made by new_database, disconnecting whoever still uses it."""
        name = make_url(url).database
        with self.connect() as connection:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@contextlib.contextmanager
def throwaway_cluster(durable: bool = False) -> Iterator[Cluster]:
    """``durable``: commits wait for the disk, as in production (the bench); tests skip it."""
    bin_dir = server_bin_dir()
    # initdb refuses root; then the cluster belongs to Debian's postgres user.
    owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
    as_owner = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []} if owner else {}
    root = Path(tempfile.mkdtemp(prefix="sealdrop-pg-"))
    process: subprocess.Popen[bytes] | None = None
    try:
        data, sockets = root / "data", root / "run"
        sockets.mkdir()
        if owner:
            for path in (root, sockets):
                os.chown(path, owner.pw_uid, owner.pw_gid)
                os.chmod(path, 0o755)  # the test process connects through the socket
        initdb = [str(bin_dir / "initdb"), "--pgdata", str(data), "--username", SUPERUSER]
        initdb += ["--auth", "trust", "--encoding", "UTF8", "--locale", "C"]
        initdb += ["--no-sync", "--no-instructions"]
        subprocess.run(initdb, check=True, stdout=subprocess.DEVNULL, cwd=root, **as_owner)
        server = [str(bin_dir / "postgres"), "-D", str(data)]
        sync = "on" if durable else "off"
        for setting in (
            "listen_addresses=",
            f"unix_socket_directories={sockets}",
            f"fsync={sync}",
            f"synchronous_commit={sync}",
            f"full_page_writes={sync}",
            "max_connections=200",
        ):
            server += ["-c", setting]
        process = subprocess.Popen(
            server, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=root, **as_owner
        )
        cluster = Cluster(socket_dir=sockets)
        _wait_until_ready(cluster, process)
        yield cluster
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(root, ignore_errors=True)


def _wait_until_ready(cluster: Cluster, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_DEADLINE_S
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"postgres exited with status {process.returncode} on start")
        try:
            with cluster.connect():
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            # Polling a server that is starting, bounded by the deadline above.
            time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    # SIGINT is PostgreSQL's "fast shutdown": disconnect clients, then exit.
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- the test suite on PostgreSQL ----------------------------------------------------------
#
#     SEALDROP_TEST_DATABASE=postgresql pytest -p tests.support.postgres tests/intake ...
#
# (what `make test-postgres` runs). As a pytest plugin, this module starts one throwaway
# cluster for the run and gives every intake configuration that names no database of its own
# a fresh PostgreSQL database instead of SQLite in its data directory: one database per data
# directory, so the app, `init` and export in one test share it (tests with "sqlite" in their
# name are left alone). Without the variable it does nothing.

TEST_DATABASE_ENV = "SEALDROP_TEST_DATABASE"


def postgres_requested() -> bool:
    value = os.environ.get(TEST_DATABASE_ENV, "sqlite").strip().lower()
    if value not in ("sqlite", "postgresql", "postgres"):
        raise ValueError(f"{TEST_DATABASE_ENV} must be sqlite or postgresql, not {value!r}")
    return value != "sqlite"


_session: contextlib.ExitStack | None = None
_cluster: Cluster | None = None


def pytest_configure(config: Any) -> None:
    global _session, _cluster
    if not postgres_requested():
        return
    _session = contextlib.ExitStack()
    _cluster = _session.enter_context(throwaway_cluster())


def pytest_unconfigure(config: Any) -> None:
    global _session, _cluster
    if _session is not None:
        _session.close()
    _session = _cluster = None


@contextlib.contextmanager
def cluster_for_tests() -> Iterator[Cluster]:
    """The run's cluster when the plugin is active, else a throwaway one of its own."""
    if _cluster is not None:
        yield _cluster
        return
    with throwaway_cluster() as cluster:
        yield cluster


def pytest_report_header(config: Any) -> str:
    return f"database: {'PostgreSQL (throwaway cluster)' if _cluster else 'SQLite'}"


@pytest.fixture(autouse=True)
def _intake_on_postgres(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    # A test about SQLite itself says so in its name, and stays on SQLite.
    if _cluster is None or "sqlite" in request.node.name:
        yield
        return
    import intake.config

    cluster = _cluster
    original = intake.config.load
    databases: dict[Path, str] = {}

    def load(config: Any = None) -> Any:
        settings = original(config)
        raw = intake.config.from_env() if config is None else config
        if isinstance(config, intake.config.Settings) or (raw.get("DATABASE_URL")):
            return settings
        if settings.data_dir not in databases:
            databases[settings.data_dir] = cluster.new_database()
        return dataclasses.replace(settings, database_url=databases[settings.data_dir])

    monkeypatch.setattr(intake.config, "load", load)
    yield
    for url in databases.values():
        cluster.drop_database(url)
