"""Bundles, tar and manifest (submissions for the reviewer, replies for the server): a
BundleError (ImportError_ on the server) or the envelopes, each hash-checked; a refused
replies bundle stores nothing at all."""

from __future__ import annotations

import atexit
import hashlib
import io
import json
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto import Identity
from crypto.bundle import MANIFEST, Bundle, BundleError
from crypto.codename import Codename
from tests.intake.conftest import make_config

from .harness import fuzz_target
from .strategies import IDENTITIES, mutated, records, vector_bytes

ENVELOPES = vector_bytes(".sdenv")
SCRATCH = Path(tempfile.mkdtemp(prefix="sealdrop-fuzz-bundle-"))
atexit.register(shutil.rmtree, SCRATCH, True)
HOURS = ["2026-11-24T12:00Z", "9999-99-99T99:00Z", "2026-02-29T00:00Z", "٢٠٢٦-١١-٢٤T١٢:00Z", ""]
MAILBOX = Codename.parse("abandon ability able about above absent absorb abstract").derive()


@st.composite
def bundles(draw: st.DrawFn, kind: str) -> bytes:
    """A tar of envelopes and a manifest. One in three is right in every piece (so the
    readers' later checks are reached); the others are wrong in one or more pieces."""
    hostile = draw(st.integers(0, 2)) > 0

    def pick(good: list[Any], bad: list[Any]) -> Any:
        return draw(st.sampled_from(good + (good + good + bad if hostile else [])))

    members: list[tuple[str, bytes, bytes]] = []  # name, data, tar type
    entries: list[Any] = []
    for number in range(draw(st.integers(0, 3))):
        ident = pick([f"e{number}"], ["", "A", "../x", "a" * 65, "a.b", "ä", "e0"])
        data = draw(st.sampled_from(ENVELOPES))
        member = f"sealdrop-bundle/{pick([kind], ['x', ''])}/{ident}{pick(['.sdenv'], ['', '.x'])}"
        members.append((member, data, pick([b"0"], [b"S", b"2", b"5", b"g", b"\0"])))
        entry: dict[str, Any] = {
            "id": ident,
            "received": pick(HOURS[:1], HOURS[1:]),
            "size": pick([len(data)], [len(data) + 1, -1, 1.5, True, str(len(data))]),
            "sha256": pick([hashlib.sha256(data).hexdigest()], ["0" * 64, "A" * 64, ""]),
        }
        if kind == "replies":
            entry["mailbox"] = pick([MAILBOX.mailbox], ["short", 7])
        if pick([False], [True]):
            entry.pop(draw(st.sampled_from(sorted(entry))))
        entries.append(pick([entry], [[], 1, None]))
    manifest = {
        "format": pick(["sealdrop-bundle"], ["other"]),
        "version": pick([1], [2, True, 1.0]),
        "kind": pick([kind], ["submissions", "replies", 3]),
        "created": "2026-11-24T13:00Z",
        kind: entries,
    }
    text = json.dumps(manifest).encode()
    if pick([False], [True]):
        text = draw(mutated([text], max_mutations=2))
    out = io.BytesIO()
    members.insert(pick([len(members)], list(range(len(members)))), (MANIFEST, text, b"0"))
    for name, data, kind_flag in members:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.type = kind_flag
        if draw(st.integers(0, 9)) == 0:
            record = pick(["path"], ["size", "comment"])
            info.pax_headers = {record: name if record != "size" else str(len(data))}
        out.write(info.tobuf(tarfile.PAX_FORMAT) + data + bytes(-len(data) % 512))
    out.write(bytes(pick([1024, 10240], [512, 0, 1000])))
    data = out.getvalue()
    if pick([False], [True]):
        data = draw(mutated([data], max_mutations=2))
    return data


@given(bundles("submissions"))
@fuzz_target("submissions bundles (tar + manifest)")
def test_submissions_bundles(data: bytes) -> None:
    path = SCRATCH / "bundle.tar"
    path.write_bytes(data)
    try:
        with Bundle(path) as bundle:
            for entry, reader in bundle.envelopes():
                assert reader.read() is not None
                try:
                    reader.check()
                except BundleError as error:
                    assert entry.id in str(error)
    except BundleError as error:
        assert str(error)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    from intake import create_app
    from intake.setup import init_data_dir

    config = make_config(tmp_path_factory.mktemp("intake"), [Identity.generate()])
    init_data_dir(config)
    return create_app(config)


def stored(app) -> tuple[int, list[str]]:
    from intake.replies import Reply

    with Session(app.extensions["sealdrop"].engine) as session:
        rows = session.scalar(select(func.count()).select_from(Reply)) or 0
    directory = Path(app.extensions["sealdrop"].settings.data_dir) / "replies"
    return rows, sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []


@given(data=bundles("replies"))
@fuzz_target("replies bundles (import-replies)", scale=0.5)
def test_replies_bundles(server, data: bytes) -> None:
    from intake.replies import ImportError_, import_replies

    path = SCRATCH / "replies.tar"
    path.write_bytes(data)
    before = stored(server)
    try:
        new = import_replies(server, path)
    except ImportError_ as error:
        assert str(error)
        assert stored(server) == before  # refused: nothing of it stored
        return
    rows, files = stored(server)
    assert rows == before[0] + len(new) and len(files) == len(before[1]) + len(new)


@st.composite
def hostile_envelope_bundles(draw: st.DrawFn) -> tuple[bytes, list[str]]:
    """A well-formed bundle whose envelopes are vectors, mutated or not, or built from
    generated records: the reviewer's open must set each bad one aside by id."""
    from tests.vectors.generate import raw_envelope

    envelopes = {}
    for number in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            envelope = draw(mutated(ENVELOPES, max_mutations=2))
        else:
            envelope = raw_envelope([IDENTITIES[0].public_key], draw(records()))
        envelopes[f"s{number}"] = envelope
    out = io.BytesIO()
    from crypto.bundle import BundleWriter

    writer = BundleWriter(out)
    for ident, envelope in envelopes.items():
        writer.add(ident, "2026-11-24T12:00Z", io.BytesIO(envelope), len(envelope))
    writer.close()
    return out.getvalue(), sorted(envelopes)


@given(hostile_envelope_bundles())
@fuzz_target("reviewer open (bundle into vault)", scale=0.1)
def test_reviewer_open(case: tuple[bytes, list[str]]) -> None:
    from reviewer import opening
    from reviewer.vault import Vault

    data, ids = case
    path = SCRATCH / "open.tar"
    path.write_bytes(data)
    root = SCRATCH / "vault"
    shutil.rmtree(root, ignore_errors=True)
    vault = Vault(root)
    with Bundle(path) as bundle:
        todo, settled = opening.plan(bundle, vault)
        assert settled == []
        outcomes = opening.open_entries(bundle, vault, todo, IDENTITIES)
    assert sorted(o.id for o in outcomes) == ids  # every envelope has exactly one outcome
    for outcome in outcomes:
        assert outcome.status in (opening.OPENED, opening.FAILED) and outcome.detail
        assert "did not expect" not in outcome.detail, outcome.detail
    opened = {o.id for o in outcomes if o.status == opening.OPENED}
    assert set(vault.ids()) == opened  # nothing of a failed one in the vault
