"""Staff events between the team's machines, through the server as ciphertext only.

Outgoing (``export-replies``): each of this reviewer's events that has not yet come back from
the server is wrapped as a *staff item*, signed and sealed to every team member
(crypto.team), and leaves in the replies bundle with the confirmations of what this machine
opened. Incoming (``open``): each event in a submissions bundle is opened, checked to be
signed by a team member who is also its author, and merged into the case log (idempotent by
event id, so duplicates and any order are harmless). Then what the log says was destroyed is
destroyed here too, so retention runs the same on every machine.

A staff item is UTF-8 JSON: ``{"event": <caselog record>}``, plus ``"reply": {...}`` for a
reply-written event: the staff copy of the reply (text, attachments up to 512 KiB), so every
colleague's thread shows it with its author. The submitter's copy never names an author.

    <vault>/sync/signed/<event id>   signed items (to pass on unchanged: handover)
    <vault>/sync/state.json          {"back": [own event ids seen coming back],
                                      "acks": {"submissions": [...], "events": [...]},
                                      "confirmed": [submission ids a signed confirmation
                                                    has carried] (reviewer.confirming)}
    <vault>/sync/refused.jsonl       events refused, with the reason (also printed)
    <vault>/sync/set-aside/          envelopes signed by a key not in the team (setaside)
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crypto import (
    EnvelopeError,
    Identity,
    NotForYou,
    PublicKey,
    SealdropError,
    strictbase64,
    strictjson,
)
from crypto.bundle import (
    HOUR_PATTERN,
    ID_PATTERN,
    MAILBOX_PATTERN,
    Bundle,
    BundleError,
    hour_stamp,
)
from crypto.sinks import fsync_dir
from crypto.team import (
    MAX_EVENT_BYTES,
    ForgedEvent,
    Member,
    Signer,
    UnknownSigner,
    open_event,
    seal_event,
    sign_event,
)

from . import destroying, replies, setaside
from .caseevent import MEMBER_REMOVED, clock_refusal
from .caselog import (
    ASSIGNED,
    DESTROYED,
    REPLY_WRITTEN,
    CaseLog,
    CaseLogError,
    Event,
    conversation_id,
    from_record,
)
from .confirming import acks_sent, pending_acks, record_opened
from .syncstate import SyncState
from .team import Team
from .vault import Vault, VaultError

MAX_REPLY_FILES = 512 * 1024  # attachment bytes carried in a reply's staff copy
MAX_ITEM = MAX_EVENT_BYTES - 4096
CUT_NOTE = "\n[… the rest of this reply is only in its author's vault]"


@dataclass
class Received:
    merged: int = 0
    own_back: int = 0
    duplicates: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)  # (entry id, why)
    destroyed: int = 0  # by this reviewer's own destroys (from another of their machines)
    trashed: int = 0  # by a colleague's: in the trash for its grace period (reviewer.trash)
    removed: list[str] = field(default_factory=list)  # members a colleague removed


# Re-exported: their callers import them from here (this module once held them).
__all__ = ["SyncState", "acks_sent", "pending_acks", "record_opened"]


# --- outgoing -------------------------------------------------------------------------------


def staff_item(vault: Vault, event: Event) -> bytes:
    """The event as it is signed and sent. A reply's staff copy that would not fit in an
    event loses its attachments' contents first (their names stay), then the end of its
    text, each said in the copy: the whole reply stays in its author's vault."""
    item: dict[str, Any] = {"event": event.to_record()}
    if event.kind == REPLY_WRITTEN:
        copy = _reply_copy(vault, str(event.payload["reply"]))
        if copy is not None:
            item["reply"] = copy
    data = _encode(item)
    if len(data) > MAX_ITEM and "reply" in item:
        for part in item["reply"]["files"]:
            part["data"] = None
        data = _encode(item)
    text = item["reply"]["text"].encode("utf-8") if len(data) > MAX_ITEM else b""
    while len(data) > MAX_ITEM:  # JSON escapes make the encoded text a little longer
        text = text[: max(0, len(text) - (len(data) - MAX_ITEM) - 1024)]
        item["reply"]["text"] = text.decode("utf-8", "ignore") + CUT_NOTE
        data = _encode(item)
    return data


def _encode(item: dict[str, Any]) -> bytes:
    return json.dumps(item, ensure_ascii=False, sort_keys=True).encode("utf-8")


def _reply_copy(vault: Vault, reply_id: str) -> dict[str, Any] | None:
    try:
        reply = replies.load_reply(vault, reply_id)
    except VaultError:
        return None
    message = reply.message
    text = reply.part_path(message).read_text("utf-8", "replace") if message else ""
    files, budget = [], MAX_REPLY_FILES
    for part in reply.attachments:
        size = int(part["size"])
        content = None
        if size <= budget:
            content = base64.b64encode(reply.part_path(part).read_bytes()).decode("ascii")
            budget -= size
        files.append({"name": part["name"], "type": part["type"], "size": size, "data": content})
    return {
        "id": reply.id,
        "in_reply_to": reply.in_reply_to,
        "reply_key": reply.reply_key,
        "mailbox": reply.mailbox,
        "written": reply.written,
        "text": text,
        "files": files,
    }


def ensure_reply_events(vault: Vault, author: str) -> list[Event]:
    """Records a reply-written event for each reply this machine wrote that has none yet
    (the inbox records one as it queues; replies written by older commands get theirs
    here), so every reply reaches the colleagues' machines."""
    log = CaseLog(vault)
    noted = {str(e.payload.get("reply")) for e in log.events() if e.kind == REPLY_WRITTEN}
    made = []
    for reply in replies.replies(vault):
        if reply.id in noted or author_of_copy(reply.path) is not None:
            continue
        conversation = conversation_id(reply.reply_key, reply.in_reply_to)
        made.append(log.new(author, conversation, REPLY_WRITTEN, {"reply": reply.id}))
    return made


def author_of_copy(path: Path) -> str | None:
    try:
        data = json.loads((path / "contents.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    author = data.get("author") if isinstance(data, dict) else None
    return author if isinstance(author, str) else None


def team_recipients(team: Team, identity: Identity) -> list[PublicKey]:
    team.ensure_self(identity)
    return [m.public_key for m in team.members()]


def outgoing(vault: Vault, identity: Identity) -> list[tuple[str, str, bytes]]:
    """(entry id, hour, envelope) for each own event not yet seen back from the server."""
    me = identity.public_key.key_id_hex
    team = Team(vault)
    recipients = team_recipients(team, identity)
    ensure_reply_events(vault, me)
    state = SyncState(vault)
    signer = Signer(identity)
    out = []
    for event in CaseLog(vault).events():
        if event.author != me or event.id in state.back:
            continue
        blob = state.blob(event.id)
        if blob is None:
            blob = sign_event(signer, staff_item(vault, event))
            state.keep(event.id, blob)
        out.append((event.id, event.hour, seal_event(blob, recipients)))
    state.save()
    return out


# --- incoming -------------------------------------------------------------------------------


def receive(vault: Vault, bundle: Bundle, identity: Identity) -> Received:
    """Merges the bundle's staff events into the case log, then applies what was destroyed.
    Every event refused for what it is gets confirmed all the same (reviewer.setaside)."""
    result = Received()
    me = identity.public_key.key_id_hex
    team = Team(vault)
    team.ensure_self(identity)
    members = team.members()
    state = SyncState(vault)
    log = CaseLog(vault)
    known = {e.id: e for e in log.events()}
    current = log.clock()

    def set_aside(entry_id: str, why: str) -> None:
        result.refused.append((entry_id, why))
        state.acked_events.add(entry_id)

    opened: list[tuple[str, Event, bytes, dict[str, Any], bool]] = []
    seen: dict[str, Event] = {}
    keeper = setaside.Keeper(vault)
    for entry_id, data, kept in _arrivals(vault, bundle, members, result):
        try:
            event, blob, item = open_staff_item(data, identity, members)
        except UnknownSigner as exc:
            if not kept:  # one kept already was reported when it arrived
                set_aside(entry_id, _kept_or_not(keeper, entry_id, data, str(exc)))
            continue
        except NotForYou:
            event, why = None, "it is not sealed to your key: its author's team lacks you"
        except (EnvelopeError, ForgedEvent, CaseLogError) as exc:
            event, why = None, str(exc)
        if kept:
            setaside.drop(vault, entry_id)
        if event is None:
            set_aside(entry_id, why)
            continue
        existing = known.get(event.id) or seen.get(event.id)
        too_far = clock_refusal(event.clock, current) if existing is None else None
        if too_far is not None:
            set_aside(entry_id, too_far)
            continue
        if existing is not None and existing.canonical() != event.canonical():
            set_aside(entry_id, "it reuses the id of a different event")
            continue
        seen[event.id] = event
        opened.append((entry_id, event, blob, item, existing is not None))

    member_keys = {m.key_id_hex for m in members}
    cutoffs = removal_cutoffs((e for _, e, _, _, dup in opened if not dup), member_keys, me)
    batch: dict[str, Event] = {}
    for entry_id, event, blob, item, duplicate in opened:
        if not duplicate and after_removal(event, cutoffs):
            set_aside(entry_id, f"{_late(members, event.author)}; set aside")
            continue
        state.acked_events.add(entry_id)
        state.keep(event.id, blob)
        if event.author == me:
            state.back.add(event.id)
            result.own_back += 1
        if duplicate:
            result.duplicates += 1
            continue
        batch[event.id] = event
        if event.kind == REPLY_WRITTEN and reply_copy_ok(item.get("reply"), event):
            _store_reply_copy(vault, event, item["reply"])
    log.merge(batch.values())
    result.merged = len(batch)
    state.save()
    for event in known.values():  # merged before the removal arrived, signed after it
        if after_removal(event, cutoffs):
            log.reject(event.id)
            result.refused.append((event.id, f"{_late(members, event.author)}; no longer used"))
    setaside.log(vault, result.refused, hour_stamp())
    result.removed = destroying.apply_removals(vault, list(batch.values()), me)
    applied = destroying.apply_destroyed(vault, me)
    result.destroyed, result.trashed = applied.destroyed, applied.trashed
    result.refused += applied.refused
    setaside.log(vault, applied.refused, hour_stamp())
    return result


def _arrivals(
    vault: Vault, bundle: Bundle, members: Sequence[Member], result: Received
) -> Iterator[tuple[str, bytes, bool]]:
    """(entry id, envelope, whether it was kept here before): the events kept aside as
    signed by an unknown key when the team has changed since, then the bundle's. One the
    bundle carries damaged is refused and not confirmed: the server's copy may be whole."""
    for entry_id, data in setaside.due(vault, (m.key_id_hex for m in members)):
        yield entry_id, data, True
    for entry, reader in bundle.event_envelopes():
        try:
            data = reader.read()
            reader.check()
        except (BundleError, OSError) as exc:
            result.refused.append((entry.id, f"it could not be read ({exc})"))
            continue
        yield entry.id, data, False


def _kept_or_not(keeper: setaside.Keeper, entry_id: str, data: bytes, why: str) -> str:
    if keeper.keep(entry_id, data):
        return f"{why}; kept aside, and opened again once your team changes"
    return f"{why}; not kept (too many such events are kept already)"


def removal_cutoffs(
    events: Iterable[Event], member_keys: Collection[str], me: str
) -> dict[str, tuple[int, str, str]]:
    """FORMAT.md §8.6: the members that ``member-removed`` events among ``events`` remove
    (key id -> the removal's place in the log's order: clock, author, id). A removal of this
    machine's own reviewer, of a non-member, or by a member removed before it counts for
    nothing."""
    cutoffs: dict[str, tuple[int, str, str]] = {}
    for event in sorted(events, key=lambda e: e.order):
        if event.kind != MEMBER_REMOVED:
            continue
        key = str(event.payload["key"])
        if key == me or key not in member_keys or key in cutoffs:
            continue
        if event.author in cutoffs and event.order > cutoffs[event.author]:
            continue
        cutoffs[key] = event.order
    return cutoffs


def after_removal(event: Event, cutoffs: Mapping[str, tuple[int, str, str]]) -> bool:
    return event.author in cutoffs and event.order > cutoffs[event.author]


def _late(members: Sequence[Member], author: str) -> str:
    label = next((m.label for m in members if m.key_id_hex == author), author)
    return f"it was signed by {label} after their removal from the team"


def open_staff_item(
    data: bytes, identity: Identity, members: Sequence[Member]
) -> tuple[Event, bytes, dict[str, Any]]:
    """FORMAT.md §8.2 in its order: ForgedEvent (shape, signer, signature, author) or
    CaseLogError (signed by a member, but not an item this version reads)."""
    signed = open_event(data, identity, members)
    try:
        item = strictjson.loads_object(signed.event, max_bytes=MAX_EVENT_BYTES, max_depth=8)
    except strictjson.JSONRefused as refused:
        raise CaseLogError(
            f"it is signed by a member but is not a staff item ({refused})"
        ) from None
    if "event" not in item:
        raise CaseLogError("it is signed by a member but is not a staff item (no event)")
    event = from_record(item["event"], measured=False)  # the item's 1 MiB is the bound
    if event.author != signed.author.key_id_hex:
        raise ForgedEvent(
            f"it is signed by {signed.author.label} but claims another author ({event.author})"
        )
    return event, signed.blob, item


def reply_copy_ok(copy: Any, event: Event) -> bool:
    """Whether a staff copy of a reply has every field of FORMAT.md §8.2 in its form (one
    that does not is dropped; its event is kept)."""
    if not isinstance(copy, dict) or copy.get("id") != event.payload.get("reply"):
        return False
    texts = [copy.get(name) for name in ("id", "in_reply_to", "reply_key", "written", "text")]
    if not all(isinstance(text, str) for text in texts) or not isinstance(copy.get("files"), list):
        return False
    try:
        PublicKey.from_line(copy["reply_key"])
    except SealdropError:
        return False
    if not (
        ID_PATTERN.fullmatch(copy["id"])
        and ID_PATTERN.fullmatch(copy["in_reply_to"])
        and isinstance(copy.get("mailbox"), str)
        and MAILBOX_PATTERN.fullmatch(copy["mailbox"])
        and HOUR_PATTERN.fullmatch(copy["written"])
    ):
        return False
    return all(_file_ok(item) for item in copy["files"])


def _file_ok(item: Any) -> bool:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        return False
    size, data = item.get("size"), item.get("data")
    if type(size) is not int or not 0 <= size < 1 << 53:
        return False
    if not (item.get("type") is None or isinstance(item.get("type"), str)):
        return False
    if data is None:
        return True
    try:
        return isinstance(data, str) and len(strictbase64.decode(data)) == size
    except ValueError:
        return False


def _store_reply_copy(vault: Vault, event: Event, copy: dict[str, Any]) -> None:
    """A colleague's reply, kept like one's own (already sent) so the thread shows it."""
    reply_id = str(copy.get("id"))
    if reply_id != event.payload.get("reply") or not ID_PATTERN.fullmatch(reply_id):
        return
    replies_dir = vault.root / "replies"
    replies_dir.mkdir(mode=0o700, exist_ok=True)
    if (replies_dir / reply_id).exists():
        return
    workdir = Path(tempfile.mkdtemp(prefix=f".{reply_id}.partial-", dir=replies_dir))
    try:
        parts = [_write_part(workdir, 0, "message", None, None, str(copy.get("text", "")))]
        for item in copy.get("files") or []:
            if isinstance(item, dict) and isinstance(item.get("data"), str):
                content = strictbase64.decode(item["data"])
                parts.append(
                    _write_part(
                        workdir, len(parts), "file", str(item["name"]), item.get("type"), content
                    )
                )
        listing = {
            "id": reply_id,
            "in_reply_to": str(copy["in_reply_to"]),
            "reply_key": str(copy["reply_key"]),
            "mailbox": str(copy["mailbox"]),
            "written": str(copy["written"]),
            "parts": parts,
            "author": event.author,
        }
        (workdir / "contents.json").write_text(json.dumps(listing, indent=2), "utf-8")
        (workdir / "exported.json").write_text(json.dumps({"exported": listing["written"]}))
        os.rename(workdir, replies_dir / reply_id)
        fsync_dir(replies_dir)
        replies.load_reply(vault, reply_id)
    except (OSError, ValueError, KeyError, TypeError, VaultError):
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(replies_dir / reply_id, ignore_errors=True)


def _write_part(
    workdir: Path, index: int, kind: str, name: str | None, media: Any, content: str | bytes
) -> dict[str, Any]:
    data = content.encode("utf-8") if isinstance(content, str) else content
    file_name = f"part-{index:03d}"
    fd = os.open(workdir / file_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    media_type = media if isinstance(media, str) else None
    return {"file": file_name, "kind": kind, "name": name, "type": media_type, "size": len(data)}


def in_team(vault: Vault) -> bool:
    return Team(vault).path.exists()


def settle(vault: Vault) -> destroying.Applied:
    """Destroys, or moves to the trash, what the case log says was destroyed (a submission
    may arrive again)."""
    return destroying.apply_destroyed(vault)


# --- "mine": who a conversation is assigned to ----------------------------------------------


def assignee_keys(vault: Vault) -> dict[str, str]:
    """Conversation -> the key id of the member it is assigned to ("" if nobody, or a label
    that names no member of this machine's team). Assignments name a label; an event may
    also carry the member's ``key`` (see ``assignment``), which wins over the local label."""
    team = Team(vault)
    current: dict[str, str] = {}
    for event in sorted(CaseLog(vault).events(), key=lambda e: e.order):
        if event.kind == DESTROYED:
            current.pop(event.conversation, None)
        elif event.kind == ASSIGNED:
            key = event.payload.get("key")
            label = str(event.payload.get("label", ""))
            if not isinstance(key, str) or not key:
                key = team.key_id_for(label) if label else ""
            current[event.conversation] = key or ""
    return current


def mine(vault: Vault, me: str) -> set[str]:
    """The conversations assigned to the reviewer whose key id is ``me``."""
    return {conv for conv, key in assignee_keys(vault).items() if key == me}


def assignment(vault: Vault, label: str) -> dict[str, str]:
    """The payload of an assigned event: with a team, the member's label as this team
    spells it and their key id, so every machine agrees whose it is whatever labels it uses
    (a label that names no member is refused); without one, the label alone."""
    team = Team(vault)
    if not label.strip() or not team.path.exists():
        return {"label": label}
    member = team.find(label)
    return {"label": member.label, "key": member.key_id_hex}
