"""A team's week in numbers: 1,000 staff events from one reviewer through the server to a
colleague, and what one event costs in bytes for teams of different sizes.

1. Sizes: a short note sealed to 1, 3, 10 and 64 members (the padding makes short events
   alike; each member adds 88 bytes).
2. anna's `export-replies` with 1,000 new events (sign, seal to three); the server's
   `import-replies` and `export` of them (if the server extra is installed); boris's `open`
   merging them; the same bundle opened again (every event a duplicate).
"""

from __future__ import annotations

import io
import json
import tempfile
import time
from pathlib import Path

from crypto import Identity, seal_bytes
from crypto.bundle import REPLIES, SUBMISSIONS, Bundle, BundleWriter
from crypto.codename import Codename
from crypto.team import Member, Signer, seal_event, sign_event
from reviewer import caselog, opening, replies, sync
from reviewer.caselog import CaseLog, Event, conversation_id, new_event_id
from reviewer.team import Team
from reviewer.vault import Vault

EVENTS = 1000
HOUR = "2026-11-28T03:00Z"


def _note(author: str) -> bytes:
    record = {
        "v": 1,
        "id": "a" * 26,
        "author": author,
        "clock": 1,
        "conversation": "c" * 26,
        "kind": "note",
        "hour": HOUR,
        "payload": {"text": "called the lawyer back"},
    }
    return json.dumps({"event": record}).encode()


def sizes() -> None:
    author = Identity.generate()
    blob = sign_event(Signer(author), _note(author.public_key.key_id_hex))
    print("\n== team: bytes on the server per short note ==")
    for members in (1, 3, 10, 64):
        keys = [Identity.generate().public_key for _ in range(members)]
        print(f"  {members:>2} members: {len(seal_event(blob, keys)):>6} bytes")


def _open(vault: Vault, identity: Identity, path: Path) -> sync.Received | None:
    with Bundle(path) as bundle:
        todo, outcomes = opening.plan(bundle, vault)
        outcomes += opening.open_entries(bundle, vault, todo, [identity])
        return opening.merge_staff_events(bundle, vault, outcomes, identity)


def week(root: Path) -> None:
    people = {name: (Identity.generate(), Vault(root / name)) for name in ("anna", "boris", "c")}
    for _, vault in people.values():
        for name, (other, _) in people.items():
            Team(vault).add(Member.of(other, name))
    anna, anna_vault = people["anna"]
    boris, boris_vault = people["boris"]
    keys = Codename.generate().derive()
    envelope = seal_bytes(
        [i.public_key for i, _ in people.values()],
        "help",
        trailer={"reply_key": keys.public_key.line, "mailbox": keys.mailbox},
    )
    start = root / "start.tar"
    with start.open("wb") as out:
        writer = BundleWriter(out, SUBMISSIONS)
        writer.add("sub", HOUR, io.BytesIO(envelope), len(envelope))
        writer.close()
    _open(anna_vault, anna, start)
    _open(boris_vault, boris, start)
    conv = conversation_id(replies.thread_key(anna_vault.submission("sub")), "sub")
    CaseLog(anna_vault).merge(
        Event(
            new_event_id(),
            anna.public_key.key_id_hex,
            n + 1,
            conv,
            caselog.NOTE,
            {"text": f"note {n}: called the lawyer back"},
            HOUR,
        )
        for n in range(EVENTS)
    )
    print(f"\n== team: {EVENTS} staff events, anna -> server -> boris ==")
    began = time.perf_counter()
    events = sync.outgoing(anna_vault, anna)
    acks = sync.pending_acks(anna_vault, anna)
    sent = root / "replies.tar"
    replies.export_replies(anna_vault, sent, events, acks)
    took = time.perf_counter() - began
    print(f"  export-replies (sign, seal to 3): {took:6.2f} s, {sent.stat().st_size / 1e6:.2f} MB")

    carried = root / "export.tar"
    try:
        from intake.export import export_bundle
        from intake.replies import import_replies
        from intake.setup import init_data_dir
    except ImportError:
        with Bundle(sent, REPLIES) as bundle, carried.open("wb") as out:
            writer = BundleWriter(out, SUBMISSIONS)
            for entry, reader in bundle.event_envelopes():
                writer.add_event(entry.id, entry.received, reader, entry.size)  # type: ignore[arg-type]
            writer.close()
        print("  (the server extra is not installed: the export is made here)")
    else:
        card = root / "anna.pub"
        card.write_text(anna.public_key.line + "\n")
        config = {
            "DATA_DIR": str(root / "server"),
            "RECIPIENTS": [str(card)],
            "DISK_RESERVE_BYTES": 0,
        }
        init_data_dir(config)
        began = time.perf_counter()
        import_replies(config, sent)
        took = time.perf_counter() - began
        print(f"  server import-replies:            {took:6.2f} s")
        began = time.perf_counter()
        export_bundle(config, carried)
        print(f"  server export:                    {time.perf_counter() - began:6.2f} s")

    began = time.perf_counter()
    received = _open(boris_vault, boris, carried)
    took = time.perf_counter() - began
    merged = received.merged if received else 0
    print(f"  boris's open (verify, merge):     {took:6.2f} s, {merged} merged")
    began = time.perf_counter()
    again = _open(boris_vault, boris, carried)
    took = time.perf_counter() - began
    dups = again.duplicates if again else 0
    print(f"  the same bundle again:            {took:6.2f} s, {dups} duplicates")


def run() -> None:
    sizes()
    with tempfile.TemporaryDirectory() as temp:
        week(Path(temp))
