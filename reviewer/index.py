"""The inbox's index: what the conversation list and search need, in SQLite in the vault.

``<vault>/inbox.sqlite`` caches, per submission and reply, its conversation, hour, a one-line
preview and its attachment count, and holds a full-text index (FTS5) over messages, fields,
replies, notes and attachment names. It is derived data: deleting it loses nothing, and
``sync`` rebuilds whatever is missing from the vault itself (new submissions, new replies,
notes in the case log), so opening a 10,000-conversation vault reads only what changed.

Search uses FTS5's ``trigram`` tokenizer: it matches any run of three or more characters,
whatever the language, so a word is found inside its inflected forms. Russian inflects by
changing endings (убежище, убежища, убежищем), so a query word is also cut back to its stem
(``stem``) before matching: "убежище" finds "убежищах". unicode61 with prefix queries would
need the same stemming and would miss words inside compounds and after prefixes; trigram costs
about three times the disk space, which a vault of text can afford. ё is folded into е on both
sides, as Russian writers mostly do.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from . import caselog, replies
from .display import clean_name, decode
from .vault import Vault, VaultError

VERSION = "1"
PREVIEW = 200
_INDEXED_TEXT = 256 * 1024  # of each message; longer ones are found by their beginning
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,             -- submission, reply, note
    conversation TEXT NOT NULL,
    hour TEXT NOT NULL,
    position INTEGER NOT NULL,
    preview TEXT NOT NULL,
    files INTEGER NOT NULL,
    answerable INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS items_by_conversation ON items (conversation);
CREATE VIRTUAL TABLE IF NOT EXISTS texts USING fts5 (
    body, item UNINDEXED, conversation UNINDEXED, tokenize = 'trigram'
);
"""
SUBMISSION, REPLY, NOTE = "submission", "reply", "note"

# Russian noun, adjective and verb endings, longest first; cut so at least 3 letters stay.
_ENDING_LIST = (
    "ами ями ого его ому ему ыми ими ией иям иях ов ев ей ой ий ый ая яя ое ее ие ые ую юю "
    "ам ям ах ях ом ем ью ия ть ет ит ут ют ат ят а я о е ы и у ю ь"
)
_ENDINGS = sorted(set(_ENDING_LIST.split()), key=lambda ending: (-len(ending), ending))
_CYRILLIC = re.compile(r"[а-я]+")
_LATIN = re.compile(r"[a-z]+")


class Item(NamedTuple):  # one row of the index (a thread reads them; the list, ``Listed``)
    id: str
    kind: str
    conversation: str
    hour: str
    position: int
    preview: str
    files: int
    answerable: int  # 1 when the submission asked for replies


# One row of ``Index.listing``: (id, kind, conversation, hour, position, files, answerable).
Listed = tuple[str, str, str, str, int, int, int]
_LISTED = (
    "SELECT id, kind, conversation, hour, position, files, answerable FROM items "
    "WHERE kind != 'note'"
)


def normalise(text: str) -> str:
    return text.lower().replace("ё", "е")


def stem(word: str) -> str:
    """A Russian word without its inflectional ending, an English one without a plural or
    verb ending (other words are returned as they are). Crude on purpose: with substring
    matching, a stem cut one letter short still finds the word."""
    word = normalise(word)
    if _LATIN.fullmatch(word) and len(word) >= 5:
        for ending in ("ing", "ed", "es", "s"):
            if word.endswith(ending) and len(word) - len(ending) >= 4:
                return word[: -len(ending)]
        return word
    if not _CYRILLIC.fullmatch(word) or len(word) < 5:
        return word
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[: -len(ending)]
    return word


def fts_query(query: str) -> str | None:
    """The FTS5 query for what a person typed: every word (stemmed) must occur. Words shorter
    than three letters cannot be matched by trigrams and are left out; None if none is left."""
    words = [stem(w) for w in re.findall(r"\w+", normalise(query))]
    terms = ['"' + w.replace('"', '""') + '"' for w in words if len(w) >= 3]
    return " AND ".join(terms) if terms else None


class Index:
    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self.path = vault.root / "inbox.sqlite"
        self._previews: dict[str, str] = {}  # read when a row is first shown
        try:
            self.db = sqlite3.connect(self.path)
            self.db.executescript(_SCHEMA)
            version = self.db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
            if version is None or version[0] != VERSION:
                self._reset()
            self.path.chmod(0o600)
        except sqlite3.DatabaseError as exc:
            raise VaultError(
                f"the inbox index {self.path} is damaged ({exc}); delete that file (it is "
                "rebuilt from the vault) and start again"
            ) from None

    def close(self) -> None:
        self.db.close()

    def _reset(self) -> None:
        with self.db:
            self.db.execute("DELETE FROM items")
            self.db.execute("DELETE FROM texts")
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (VERSION,))

    # --- keeping up with the vault -------------------------------------------------------

    def sync(self, states: dict[str, caselog.CaseState] | None = None, log_stamp: str = "") -> int:
        """Indexes what entered the vault since last time and forgets what left it; returns
        how many items changed. With the case log's stamp, nothing is read when neither the
        vault's folders nor the log changed since the last sync (directories change time when
        an entry is added or removed, and entries are only ever renamed in or out)."""
        stamp = ""
        if log_stamp:
            folders = (self.vault.submissions_dir, replies.replies_directory(self.vault))
            stamp = ":".join([log_stamp, *(str(f.stat().st_mtime_ns) for f in folders)])
            known_stamp = self.db.execute("SELECT value FROM meta WHERE key = 'synced'")
            if (known_stamp.fetchone() or [""])[0] == stamp:
                return 0
        changed = self._sync(states)
        if stamp:
            with self.db:
                self.db.execute("INSERT OR REPLACE INTO meta VALUES ('synced', ?)", (stamp,))
        return changed

    def _sync(self, states: dict[str, caselog.CaseState] | None) -> int:
        known = dict(self.db.execute("SELECT id, kind FROM items").fetchall())
        submission_ids = self.vault.ids()
        reply_ids = replies.reply_ids(self.vault)
        notes = {}
        for state in (states or {}).values():
            for note in state.notes:
                notes[note.id] = (state.conversation, note)
        present = dict.fromkeys(submission_ids, SUBMISSION)
        present.update(dict.fromkeys(reply_ids, REPLY))
        present.update(dict.fromkeys(notes, NOTE))
        gone = [i for i in known if i not in present]
        new = [i for i in present if i not in known]
        positions = replies.order(self.vault) if new else {}
        with self.db:
            for item_id in gone:
                self._forget(item_id)
            for item_id in new:
                kind = present[item_id]
                if kind == SUBMISSION:
                    self._add_submission(item_id, positions.get(item_id, 0))
                elif kind == REPLY:
                    self._add_reply(item_id, positions.get(item_id, 0))
                else:
                    conversation, note = notes[item_id]
                    self.add_note(conversation, note)
        return len(gone) + len(new)

    def _forget(self, item_id: str) -> None:
        self._previews.pop(item_id, None)
        self.db.execute("DELETE FROM items WHERE id = ?", (item_id,))
        self.db.execute("DELETE FROM texts WHERE item = ?", (item_id,))

    def _add_submission(self, submission_id: str, position: int) -> None:
        from . import threadview  # for new submissions only: the list starts without it

        try:
            submission = self.vault.submission(submission_id)
        except VaultError:
            return  # listed as damaged by the app when opened; nothing to index
        key = threadview.member_key(submission)
        conversation = caselog.conversation_id(key, submission.id)
        answerable = key is not None  # a valid reply key is what makes a thread and a reply
        text = _read(submission.part_path(submission.message)) if submission.message else ""
        fields = [
            f"{item.get('name') or ''}: {_read(submission.part_path(item))}"
            for item in submission.fields
        ]
        names = [str(item.get("name") or "") for item in submission.attachments]
        self._insert(
            Item(
                submission.id,
                SUBMISSION,
                conversation,
                submission.record.received,
                position,
                _preview(text or " ".join(fields) or " ".join(names)),
                len(names),
                answerable,
            ),
            "\n".join([text, *fields, *names]),
        )

    def _add_reply(self, reply_id: str, position: int) -> None:
        try:
            reply = replies.load_reply(self.vault, reply_id)
        except VaultError:
            return
        conversation = caselog.conversation_id(reply.reply_key, reply.in_reply_to)
        text = _read(reply.part_path(reply.message)) if reply.message else ""
        names = [str(item.get("name") or "") for item in reply.attachments]
        self._insert(
            Item(
                reply.id,
                REPLY,
                conversation,
                reply.written,
                position,
                _preview(text),
                len(names),
                False,
            ),
            "\n".join([text, *names]),
        )

    def add_note(self, conversation: str, note: caselog.Note) -> None:
        if self.db.execute("SELECT 1 FROM items WHERE id = ?", (note.id,)).fetchone():
            return
        self._insert(
            Item(note.id, NOTE, conversation, note.hour, 0, _preview(note.text), 0, False),
            note.text,
        )

    def _insert(self, item: Item, body: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                item.id,
                item.kind,
                item.conversation,
                item.hour,
                item.position,
                item.preview,
                item.files,
                int(item.answerable),
            ),
        )
        self.db.execute(
            "INSERT INTO texts (body, item, conversation) VALUES (?, ?, ?)",
            (normalise(body), item.id, item.conversation),
        )

    def forget(self, item_ids: Iterable[str]) -> None:
        with self.db:
            for item_id in item_ids:
                self._forget(item_id)

    # --- reading ---------------------------------------------------------------------------

    def items(self, conversation: str) -> list[Item]:
        """A conversation's items, notes included, oldest first."""
        rows = self.db.execute(
            "SELECT * FROM items WHERE conversation = ? ORDER BY hour, position, id",
            (conversation,),
        )
        return list(map(Item._make, rows))

    def listing(self, conversation: str | None = None) -> list[Listed]:
        """Submissions and replies, oldest first, without their texts: what the list is built
        from (10,000s of rows at every start; the previews shown are read with ``preview``)."""
        if conversation:
            rows = self.db.execute(
                f"{_LISTED} AND conversation = ? ORDER BY hour, position, id", (conversation,)
            )
        else:
            rows = self.db.execute(f"{_LISTED} ORDER BY hour, position, id")
        return rows.fetchall()

    def preview(self, item_id: str) -> str:
        known = self._previews.get(item_id)
        if known is None:
            row = self.db.execute("SELECT preview FROM items WHERE id = ?", (item_id,)).fetchone()
            known = self._previews[item_id] = row[0] if row else ""
        return known

    def search(self, query: str) -> set[str] | None:
        """The conversations whose texts match; None when the query has no searchable word."""
        match = fts_query(query)
        if match is None:
            return None
        rows = self.db.execute(
            "SELECT DISTINCT conversation FROM texts WHERE texts MATCH ?", (match,)
        )
        return {row[0] for row in rows}

    def snippets(self, query: str, conversations: list[str]) -> dict[str, str]:
        """For each of these conversations, a few words around where its texts match the
        query (in lower case, as indexed): why it was found."""
        match = fts_query(query)
        if match is None or not conversations:
            return {}
        rows = self.db.execute(
            "SELECT conversation, snippet(texts, 0, '', '', '…', 48) FROM texts "
            "WHERE texts MATCH ? AND conversation IN (SELECT value FROM json_each(?))",
            (match, json.dumps(conversations)),
        )
        found: dict[str, str] = {}
        for conversation, text in rows:
            found.setdefault(conversation, " ".join(text.split()))
        return found


def _read(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return decode(handle.read(_INDEXED_TEXT))
    except OSError:
        return ""


def _preview(text: str) -> str:
    """One line: whitespace runs become one space, invisible characters are made visible."""
    return clean_name(" ".join(text[: PREVIEW * 4].split()))[:PREVIEW]
