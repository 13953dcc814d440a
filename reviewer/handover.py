"""Hand-over: past conversations for a new team member, stick to stick, never the server.

``handover`` writes a submissions bundle sealed to the new member alone: each chosen
submission re-sealed from the vault (parts and trailer as they were, plus the hash of the
server's envelope), and the conversations' staff events as their authors signed them. The new
member opens it like any export (reviewer.opening, then reviewer.sync); ``adopt_handed_over``
files such a submission under the server's hash, so the server's copy counts as opened.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

from crypto import Identity, PartInfo, PublicKey, Sealer
from crypto.bundle import SHA256_PATTERN, SUBMISSIONS, BundleWriter, hour_stamp
from crypto.sinks import fsync_dir
from crypto.team import Member, Signer, seal_event, sign_event

from . import threads
from .caselog import CaseLog, conversation_id
from .sync import SyncState, ensure_reply_events, staff_item
from .team import Team
from .threadview import member_key
from .vault import Vault, VaultError

HANDED_OVER = "handed_over"  # trailer member of a re-sealed submission (FORMAT.md §8.4)


def handover(
    vault: Vault, identity: Identity, to: Member, prefixes: Sequence[str], out_path: Path
) -> tuple[int, int]:
    """Writes a submissions bundle sealed to ``to`` alone: the chosen conversations (all,
    if no ids) re-sealed from the vault, and their staff events as signed by their authors.
    Returns (submissions, events)."""
    chosen = _conversations(vault, prefixes)
    me = identity.public_key.key_id_hex
    Team(vault).ensure_self(identity)
    ensure_reply_events(vault, me)
    state = SyncState(vault)
    signer = Signer(identity)
    if out_path.exists():
        raise VaultError(f"{out_path} already exists; give a new file name (nothing written)")
    temporary = out_path.with_name(f".{out_path.name}.partial-{os.getpid()}")
    submissions = events = 0
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            writer = BundleWriter(out, SUBMISSIONS)
            for submission_id in chosen:
                received = vault.submission(submission_id).record.received
                if received == "unknown":
                    received = hour_stamp()
                with tempfile.TemporaryFile(dir=vault.root) as sealed:  # ciphertext only
                    size = _reseal(vault, submission_id, to.public_key, sealed)
                    sealed.seek(0)
                    writer.add(submission_id, received, sealed, size)
                submissions += 1
            wanted = set(chosen.values())
            for event in CaseLog(vault).events():
                if prefixes and event.conversation not in wanted:
                    continue
                blob = state.blob(event.id)
                if blob is None and event.author == me:
                    blob = sign_event(signer, staff_item(vault, event))
                    state.keep(event.id, blob)
                if blob is None:
                    continue  # a colleague's event this machine holds no signed copy of
                envelope = seal_event(blob, [to.public_key])
                writer.add_event(event.id, event.hour, io.BytesIO(envelope), len(envelope))
                events += 1
            writer.close()
            out.flush()
            os.fsync(out.fileno())
        os.rename(temporary, out_path)
        fsync_dir(out_path.parent)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    state.save()
    return submissions, events


def _conversations(vault: Vault, prefixes: Sequence[str]) -> dict[str, str]:
    """Submission id -> conversation id, for the whole threads the prefixes name."""
    everything = {s.id: conversation_id(member_key(s), s.id) for s in vault.submissions()}
    if not prefixes:
        return everything
    wanted = {everything[vault.find(prefix).id] for prefix in prefixes}
    return {sid: conv for sid, conv in everything.items() if conv in wanted}


def _reseal(vault: Vault, submission_id: str, to: PublicKey, out: BinaryIO) -> int:
    """Seals a submission's plaintext, parts and trailer as they were, to ``to``."""
    submission = vault.submission(submission_id)
    trailer = dict(threads.trailer_of(submission))
    if SHA256_PATTERN.fullmatch(submission.record.sha256):
        # The server's envelope, for the new member's vault to count as already opened.
        trailer[HANDED_OVER] = submission.record.sha256
    header_hash = threads.header_hash_of(submission)
    if header_hash is not None:
        trailer[threads.HANDED_OVER_HEADER] = header_hash
    sealer = Sealer(out, [to])
    for part in submission.parts:
        sealer.begin_part(PartInfo(part["kind"], part.get("name"), part.get("type")))
        with submission.part_path(part).open("rb") as source:
            while block := source.read(1 << 16):
                sealer.write(block)
        sealer.end_part()
    sealer.close(trailer)
    return out.tell()


def adopt_handed_over(vault: Vault, opened: Iterable[str]) -> None:
    """Records a submission that came in a hand-over under the hash of the server's envelope
    (in its trailer), so the server's copy, should it come later, counts as already opened."""
    for submission_id in opened:
        record = vault.record(submission_id)
        try:
            original = threads.trailer_of(vault.submission(submission_id)).get(HANDED_OVER)
        except VaultError:
            continue
        if (
            record is not None
            and isinstance(original, str)
            and SHA256_PATTERN.fullmatch(original)
            and record.sha256 != original
        ):
            record.sha256 = original
            vault.write_record(record)
