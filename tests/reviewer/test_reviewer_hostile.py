"""Hostile envelopes in a bundle: each is set aside by id with one sentence, the rest open in
the same run, and the exit status counts what failed (issue 10, items 1 and 7)."""

from __future__ import annotations

import io
import struct
from pathlib import Path
from types import SimpleNamespace

from reviewer_helpers import Keys, make_keys, seal, vault_tree, write_bundle

from crypto import Identity, MemorySink, open_envelope
from crypto.framing import BEGIN, CLOSE, DATA, END, record
from tests.vectors.generate import padded, raw_envelope


def nested_begin_envelope(keys: Keys) -> bytes:
    """A valid envelope whose BEGIN record is 8 KiB of JSON nested 4,000 deep."""
    begin = b'{"kind":"message","x":' + b"[" * 4000 + b"]" * 4000 + b"}"
    assert len(begin) <= 8192
    records = record(BEGIN, begin) + record(DATA, b"hi") + record(END, struct.pack(">Q", 2))
    return raw_envelope([keys.public], padded(records + record(CLOSE, b"{}")))


def test_three_hostile_envelopes_among_101_do_not_stop_the_98_good_ones(
    cli, keys: Keys, tmp_path: Path, vault: Path
) -> None:
    bad_ids = {"bad01", "bad50", "bad99"}
    envelopes = {}
    for number in range(98):
        envelopes[f"good{number:03}"] = seal([keys.public], f"message {number}")
        if f"bad{number:02}" in bad_ids or (number == 97 and "bad99" in bad_ids):
            envelopes["bad99" if number == 97 else f"bad{number:02}"] = nested_begin_envelope(keys)
    assert len(envelopes) == 101
    bundle = tmp_path / "bundle.tar"
    write_bundle(bundle, envelopes)

    result = cli("open", bundle, "--passphrase-file", keys.passphrase_file)

    assert result.exit_code != 0
    assert "Traceback" not in result.output and "RecursionError" not in result.output
    assert "98 opened, 0 already in the vault, 3 failed" in result.output
    assert "3 of the bundle's 101 submissions could not be opened" in result.output
    failed = [line for line in result.output.splitlines() if line.startswith("FAILED")]
    assert sorted(line.split()[1] for line in failed) == sorted(bad_ids)
    for line in failed:
        assert "nested more than" in line and "hostile software" in line
        assert "server's copy may have been altered" not in line
    opened = {p.name for p in (vault / "submissions").iterdir()}
    assert opened == {name for name in envelopes if name.startswith("good")}
    assert not any(name in path for path in vault_tree(vault) for name in bad_ids)


def test_a_stanza_sealed_with_another_key_says_a_colleague_may_open_it(
    cli, keys: Keys, tmp_path: Path, vault: Path
) -> None:
    colleague = make_keys(tmp_path / "colleague")
    stranger = Identity.generate().public_key
    # The stanza carries our key id but was sealed to a different public key.
    wrong = SimpleNamespace(key_id=keys.public.key_id, raw=stranger.raw)
    records = (
        record(BEGIN, b'{"kind":"message"}')
        + record(DATA, b"hi")
        + record(END, struct.pack(">Q", 2))
        + record(CLOSE, b"{}")
    )
    envelope = raw_envelope([colleague.public, wrong], padded(records))
    bundle = tmp_path / "bundle.tar"
    write_bundle(bundle, {"miss1": envelope})

    result = cli("open", bundle, "--passphrase-file", keys.passphrase_file)

    assert result.exit_code != 0
    line = next(line for line in result.output.splitlines() if line.startswith("FAILED"))
    assert "miss1" in line
    assert "was not sealed for this key correctly" in line and "colleague" in line
    assert "altered" not in line and "tell the admin" not in line
    # The colleague opens the very same envelope.
    contents = open_envelope(io.BytesIO(envelope), [colleague.identity], MemorySink())
    assert contents.message is not None and contents.message.data == b"hi"


def test_an_unexpected_error_in_one_envelope_sets_only_that_one_aside(
    cli, keys: Keys, tmp_path: Path, vault: Path, monkeypatch
) -> None:
    from reviewer import opening

    real = opening.open_envelope

    def fragile(source, identities, sink):
        if b"boom" in source.getvalue():
            raise RuntimeError("a bug met only by this envelope")
        return real(source, identities, sink)

    monkeypatch.setattr(opening, "open_envelope", fragile)
    bundle = tmp_path / "bundle.tar"
    envelopes = {"ok1": seal([keys.public], "fine"), "ok2": seal([keys.public], "fine too")}
    envelopes["boom"] = b"boom" + seal([keys.public], "x")[4:]
    write_bundle(bundle, envelopes)

    result = cli("open", bundle, "--passphrase-file", keys.passphrase_file)

    assert result.exit_code != 0
    assert "2 opened, 0 already in the vault, 1 failed" in result.output
    assert "FAILED  boom" in result.output and "did not expect" in result.output
    assert {p.name for p in (vault / "submissions").iterdir()} == {"ok1", "ok2"}
