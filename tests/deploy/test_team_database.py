"""Staff events and confirmations on the server's database, SQLite and PostgreSQL alike:
stored once however often imported, carried by the next export, purged once confirmed."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from crypto import Identity
from crypto.bundle import REPLIES, Acks, Bundle, BundleWriter, hour_stamp
from crypto.confirmation import SignedConfirmation, sign_confirmation
from crypto.team import Member, Signer, open_event, seal_event, sign_event
from intake.config import load
from intake.db import make_engine
from intake.export import export_bundle, purge
from intake.replies import import_replies
from intake.storage import Store
from intake.team import cleanup_events, status
from tests.support.postgres import Cluster, cluster_for_tests

from .helpers import Deployment, make_deployment


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with cluster_for_tests() as cluster:
        yield cluster


def replies_bundle(
    path: Path,
    events: dict[str, bytes],
    acks: Acks | None,
    confirmation: SignedConfirmation | None = None,
) -> Path:
    with path.open("wb") as out:
        writer = BundleWriter(out, REPLIES)
        for event_id, envelope in events.items():
            writer.add_event(event_id, hour_stamp(), io.BytesIO(envelope), len(envelope))
        writer.close(acks, confirmation=confirmation.text if confirmation else None)
    return path


def exercise(deployment: Deployment, tmp_path: Path) -> None:
    config = deployment.config
    reviewer = deployment.identity
    team = [Member.of(reviewer, "anna")]
    events = {
        f"event{n}": seal_event(
            sign_event(Signer(reviewer), json.dumps({"n": n}).encode()), [reviewer.public_key]
        )
        for n in range(2)
    }
    bundle = replies_bundle(tmp_path / "r1.tar", events, None)
    report: dict[str, int] = {}
    assert import_replies(config, bundle, report) == []
    assert report == {"events": 2, "confirmed": 0}
    import_replies(config, bundle, report)
    assert report["events"] == 0  # the same events again: stored once
    events_dir = Path(str(config["DATA_DIR"])) / "events"
    for path in (events_dir, *events_dir.iterdir()):  # no time on disk finer than the hour
        assert path.stat().st_mtime % 3600 == 0, path

    exported: dict[str, int] = {}
    export_bundle(config, tmp_path / "e1.tar", report=exported)
    assert exported == {"events": 2}
    with Bundle(tmp_path / "e1.tar") as out:
        carried = {}
        for entry, reader in out.event_envelopes():
            carried[entry.id] = open_event(reader.read(), reviewer, team).event
            reader.check()
    assert carried == {"event0": b'{"n": 0}', "event1": b'{"n": 1}'}
    export_bundle(config, tmp_path / "e2.tar", report=exported)
    assert exported == {"events": 0}

    key_id = reviewer.public_key.key_id_hex
    settings = load(config)
    store = Store(settings, make_engine(settings.database_url))
    try:
        orphan = settings.data_dir / "events" / "orphan.sdenv"  # a crash before its row
        orphan.write_bytes(b"ciphertext")
        assert cleanup_events(store) == {"orphan_events": 1}
        assert sorted(p.name for p in (settings.data_dir / "events").iterdir()) == [
            "event0.sdenv",
            "event1.sdenv",
        ]
        assert status(store).pending[key_id] == (0, 2)
        unsigned = Acks(key_id, (), ("event0", "event1", "unknown"))
        import_replies(config, replies_bundle(tmp_path / "r2.tar", {}, unsigned), report)
        assert report == {"events": 0, "confirmed": 0}  # never trusted
        assert status(store).pending[key_id] == (0, 2)
        # The server checks a signed one against the signing key in the reviewer's card.
        settings.recipient_files[0].write_text(team[0].card_text(), encoding="utf-8")
        signed = sign_confirmation(Signer(reviewer), key_id, (), ("event0", "event1", "unknown"))
        import_replies(config, replies_bundle(tmp_path / "r3.tar", {}, None, signed), report)
        assert report == {"events": 0, "confirmed": 2}
        assert status(store).pending[key_id] == (0, 0)
    finally:
        store.engine.dispose()

    # A reviewer who joins now cannot open what was sealed before: nobody waits for them.
    newcomer = Identity.generate()
    card = tmp_path / "newcomer.pub"
    card.write_text(newcomer.public_key.line + "\n")
    config = {**config, "RECIPIENTS": [str(p) for p in load(config).recipient_files] + [str(card)]}
    settings = load(config)
    store = Store(settings, make_engine(settings.database_url))
    try:
        assert status(store).pending[newcomer.public_key.key_id_hex] == (0, 0)
        purge(config, all_exported=True)
        assert list((settings.data_dir / "events").iterdir()) == []
    finally:
        store.engine.dispose()


def test_staff_events_on_sqlite(tmp_path: Path) -> None:
    exercise(make_deployment(tmp_path), tmp_path)


@pytest.mark.postgres
def test_staff_events_on_postgresql(cluster: Cluster, tmp_path: Path) -> None:
    exercise(make_deployment(tmp_path, database_url=cluster.new_database()), tmp_path)
