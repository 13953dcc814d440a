"""PostgreSQL as the database: migrations both ways, and two intake instances sharing one
database and one storage directory."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from intake.config import load
from intake.export import export_bundle
from intake.setup import downgrade, init_data_dir
from tests.intake.helpers import open_bundle
from tests.support.postgres import Cluster, cluster_for_tests

from .helpers import Client, as_submission, gunicorn, make_deployment, seal

pytestmark = pytest.mark.postgres

SUBMISSIONS = 24


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with cluster_for_tests() as cluster:
        yield cluster


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrations_upgrade_and_downgrade_on_postgresql(cluster: Cluster, tmp_path: Path) -> None:
    url = cluster.new_database()
    deployment = make_deployment(tmp_path, database_url=url)
    settings = load(deployment.config)
    assert settings.database_url == url
    assert {"submissions", "alembic_version"} <= tables(url)
    downgrade(settings, "base")
    assert tables(url) <= {"alembic_version"}
    init_data_dir(deployment.config)
    assert {"submissions", "alembic_version"} <= tables(url)


def test_two_instances_share_one_database_and_export_each_submission_once(
    cluster: Cluster, tmp_path: Path
) -> None:
    deployment = make_deployment(tmp_path, database_url=cluster.new_database())
    expected = {}
    for n in range(SUBMISSIONS):
        files = [(f"evidence-{n}.bin", "application/octet-stream", os.urandom(1000 + 9000 * n))]
        expected[f"submission {n}"] = files

    with (
        gunicorn(deployment.env, tmp_path / "a.log") as port_a,
        gunicorn(deployment.env, tmp_path / "b.log") as port_b,
    ):
        clients = [Client("127.0.0.1", port_a), Client("127.0.0.1", port_b)]
        refused: dict[int, bytes] = {}

        def submit(n: int) -> int:
            client, message = clients[n % 2], f"submission {n}"
            if n % 3:
                reply = client.submit_nojs(message, expected[message])
                if reply.status != 200:
                    refused[n] = reply.body[:4000]
                return reply.status
            envelope = seal(deployment.identity, message, expected[message])
            return client.upload_envelope(envelope, chunk_bytes=32 * 1024).status

        order = list(range(SUBMISSIONS))
        random.shuffle(order)
        bundles = [tmp_path / "during.sdbundle", tmp_path / "after.sdbundle"]
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = pool.map(submit, order)
            # One export while submissions may still be arriving, one after the last.
            export_bundle(deployment.config, bundles[0])
            statuses = list(statuses)
            assert sorted(statuses) == sorted([200 if n % 3 else 201 for n in order]), refused
        export_bundle(deployment.config, bundles[1])

    exported = [as_submission(c) for b in bundles for c in open_bundle(b, deployment.identity)]
    messages = [message for message, _ in exported]
    assert sorted(messages) == sorted(expected)  # every submission, none twice
    for message, files in exported:
        assert files == [(name, data) for name, _, data in expected[message]]
    assert export_bundle(deployment.config, tmp_path / "empty.sdbundle") == []


def test_two_instances_never_exceed_the_budget_together(cluster: Cluster, tmp_path: Path) -> None:
    """Eight simultaneous 3 MiB no-JS posts, split over two instances (each with two worker
    processes) on one database, against a budget with room for two: the ledger row makes
    every charge atomic across them all."""
    from intake.db import make_engine
    from intake.storage import Store

    budget = 7 << 20
    deployment = make_deployment(tmp_path, database_url=cluster.new_database())
    deployment.env.update(
        SEALDROP_STORAGE_BUDGET_BYTES=str(budget),
        SEALDROP_SMALL_RESERVE_BYTES="0",
        SEALDROP_UNFINISHED_SHARE_PERCENT="100",
        SEALDROP_MAX_SUBMISSION_BYTES=str(4 << 20),
    )
    files = [("big.bin", "application/octet-stream", b"y" * (3 << 20))]
    with (
        gunicorn(deployment.env, tmp_path / "a.log") as port_a,
        gunicorn(deployment.env, tmp_path / "b.log") as port_b,
    ):
        clients = [Client("127.0.0.1", port_a), Client("127.0.0.1", port_b)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(
                pool.map(lambda n: clients[n % 2].submit_nojs(f"post {n}", files).status, range(8))
            )
    # Charged by what arrives, concurrent large posts may also all run out of room part-way
    # (each answered "busy"); what matters is that the budget is never crossed.
    assert statuses.count(200) <= 2, statuses
    assert set(statuses) <= {200, 503, 507}, statuses
    settings = load(deployment.config)
    store = Store(settings, make_engine(settings.database_url))
    try:
        ledger = store.ledger()
        blobs = list(settings.blob_dir.iterdir())
        assert len(blobs) == statuses.count(200)
        assert ledger.stored == sum(p.stat().st_size for p in blobs) <= budget
        assert (ledger.unfinished_large, ledger.unfinished_small, ledger.unfinished_count) == (
            0,
            0,
            0,
        )
    finally:
        store.engine.dispose()
