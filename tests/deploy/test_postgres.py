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

        def submit(n: int) -> int:
            client, message = clients[n % 2], f"submission {n}"
            if n % 3:
                reply = client.submit_nojs(message, expected[message])
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
            assert sorted(statuses) == sorted([200 if n % 3 else 201 for n in order])
        export_bundle(deployment.config, bundles[1])

    exported = [as_submission(c) for b in bundles for c in open_bundle(b, deployment.identity)]
    messages = [message for message, _ in exported]
    assert sorted(messages) == sorted(expected)  # every submission, none twice
    for message, files in exported:
        assert files == [(name, data) for name, _, data in expected[message]]
    assert export_bundle(deployment.config, tmp_path / "empty.sdbundle") == []
