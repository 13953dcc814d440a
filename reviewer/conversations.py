"""The caseload: conversations with their case state, and the changes staff make to them.

A conversation is what reviewer.threadview groups (one person's submissions, through
``member_key``) plus the replies written to them; the index (reviewer.index) caches that
grouping. Its state is the fold of the case log (reviewer.caselog). Both the app and the
scripting commands go through ``Inbox``, so a change made either way is the same event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path

from . import caselog, collector, names, replies, threads
from .caselog import CLOSED, NEEDS_REPLY, NEW, SPAM, WAITING, CaseLog, CaseState
from .display import clean_name
from .index import NOTE, REPLY, SUBMISSION, Index, Listed
from .vault import Submission, Vault, VaultError

TODO = "todo"  # the default view: new and needs-reply
ALL = "all"
URGENT_VIEW = "urgent"
VIEWS = (TODO, WAITING, CLOSED, SPAM, URGENT_VIEW, ALL)
ME = ("me", "я")  # assigning to oneself, in either language
# The list's order, reversed: the latest hour, then the order things entered the vault (within
# one hour, the server's publish order: docs/FORMAT.md §4.4), then the id, for a total order.
NEWEST_FIRST = attrgetter("last_hour", "last_position", "id")


@dataclass(slots=True)
class Conversation:
    id: str
    status: str  # as shown: a follow-up after "waiting" or "closed" makes it "needs-reply"
    state: CaseState
    submission_ids: tuple[str, ...]
    reply_ids: tuple[str, ...]
    files: int
    first_hour: str
    last_hour: str
    last_position: int
    answerable: bool
    # The preview shown is the newest submission's, read when first shown: the list shows
    # 200 of 10,000s.
    previews: Callable[[str], str] = field(repr=False, compare=False)
    matched: bool = True

    @property
    def name(self) -> str:
        return names.name(self.id)

    @property
    def preview(self) -> str:
        return self.previews(self.submission_ids[-1])

    @property
    def follow_up(self) -> bool:
        """A submission arrived after the status was last set."""
        return self.status != self.state.status


@dataclass(frozen=True)
class Entry:
    """One item of a thread, in order: a submission, one of our replies, or a note."""

    kind: str
    id: str
    hour: str
    submission: Submission | None = None
    reply: replies.Reply | None = None
    note: caselog.Note | None = None
    author: str = ""


@dataclass
class Inbox:
    vault: Vault
    identity: Path | None = None
    log: CaseLog = field(init=False)
    index: Index = field(init=False)
    states: dict[str, CaseState] = field(init=False, default_factory=dict)
    _all: list[Conversation] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.log = CaseLog(self.vault)
        self.index = Index(self.vault)

    def close(self) -> None:
        self.index.close()

    # --- reading -------------------------------------------------------------------------

    def refresh(self) -> list[Conversation]:
        """Catches up with the vault and the case log; returns every conversation."""
        with collector.building():
            self.states = self.log.state()
            self.index.sync(self.states, self.log.stamp())
            grouped: dict[str, list[Listed]] = {}
            for row in self.index.listing():
                grouped.setdefault(row[2], []).append(row)
            self._all = [
                self._conversation(cid, rows)
                for cid, rows in grouped.items()
                if any(row[1] == SUBMISSION for row in rows)
            ]
        self._all.sort(key=NEWEST_FIRST, reverse=True)
        return list(self._all)

    def _conversation(self, cid: str, rows: list[Listed]) -> Conversation:
        """One conversation from its index rows, oldest first (run 10,000s of times)."""
        state = self.states.get(cid) or CaseState(cid)
        submissions: list[str] = []
        reply_ids: list[str] = []
        files = last_position = 0
        answerable = False
        for item_id, kind, _cid, _hour, position, item_files, item_answerable in rows:
            if kind == SUBMISSION:
                submissions.append(item_id)
                files += item_files
                answerable = answerable or bool(item_answerable)
            else:
                reply_ids.append(item_id)
            last_position = max(last_position, position)
        status = state.status
        if status in (WAITING, CLOSED) and not state.seen.issuperset(submissions):
            status = NEEDS_REPLY
        return Conversation(
            id=cid,
            status=status,
            state=state,
            submission_ids=tuple(submissions),
            reply_ids=tuple(reply_ids),
            files=files,
            first_hour=rows[0][3],
            last_hour=rows[-1][3],
            last_position=last_position,
            answerable=answerable,
            previews=self.index.preview,
        )

    def conversations(self, view: str = TODO, query: str = "") -> list[Conversation]:
        """The conversations in a view, newest activity first, narrowed by a search: words
        (full text), ``#tag``, ``@assignee`` (``@me``: assigned to this reviewer's key) or a
        conversation's name."""
        chosen = [c for c in self._all if in_view(c, view)]
        return self.narrow(chosen, query)

    def narrow(self, chosen: Sequence[Conversation], query: str) -> list[Conversation]:
        words = query.split()
        if not words:
            return list(chosen)
        tags = {w[1:].lower() for w in words if w.startswith("#") and len(w) > 1}
        people = {w[1:].lower() for w in words if w.startswith("@") and len(w) > 1}
        wanted = [c for c in words if not c.startswith(("#", "@"))]
        mine = self._mine() if "me" in people else set()  # @me: by key, whatever the label
        result = [
            c
            for c in chosen
            if tags <= {t.lower() for t in c.state.tags}
            and (not people or c.state.assignee.lower() in people or c.id in mine)
        ]
        if len(wanted) == 1 and names.looks_like_name(wanted[0]):
            return [c for c in result if c.name == names.to_latin(wanted[0])]
        if wanted:
            found = self.index.search(" ".join(wanted))
            if found is not None:
                result = [c for c in result if c.id in found]
        return result

    def why(self, query: str, found: Sequence[Conversation]) -> dict[str, str]:
        """Why each conversation matched the query's words: a few words around a match
        (cleaned of control characters). A name, #tag or @colleague shows in the row itself."""
        words = [w for w in query.split() if not w.startswith(("#", "@"))]
        if not words or (len(words) == 1 and names.looks_like_name(words[0])):
            return {}
        snippets = self.index.snippets(" ".join(words), [c.id for c in found])
        return {cid: clean_name(text) for cid, text in snippets.items()}

    def _mine(self) -> set[str]:
        from . import sync  # team work: not needed to list the caseload

        try:
            return sync.mine(self.vault, self.author())
        except VaultError:
            return set()

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(VIEWS, 0)
        counts.update(dict.fromkeys(caselog.STATUSES, 0))
        for conversation in self._all:
            counts[conversation.status] += 1
            counts[URGENT_VIEW] += conversation.state.urgent and conversation.status != SPAM
        counts[TODO] = counts[NEW] + counts[NEEDS_REPLY]
        counts[ALL] = len(self._all)
        return counts

    def get(self, conversation_id: str) -> Conversation:
        for conversation in self._all:
            if conversation.id == conversation_id:
                return conversation
        raise VaultError(f"no conversation {conversation_id} in the vault")

    def find(self, text: str) -> Conversation:
        """A conversation by its name (either script), its id, or any of its submissions' or
        replies' ids (a prefix is enough)."""
        if not self._all:
            self.refresh()
        text = text.strip().lower()
        if names.looks_like_name(text):
            found = [c for c in self._all if c.name == names.to_latin(text)]
        else:
            found = [
                c
                for c in self._all
                if text and any(i.startswith(text) for i in (c.id, *c.submission_ids, *c.reply_ids))
            ]
        if not found:
            raise VaultError(
                f"no conversation {text!r} in the vault; `sealdrop-reviewer list` shows their "
                "names and ids"
            )
        if len(found) > 1:
            listed = ", ".join(f"{c.name} ({c.id})" for c in found[:5])
            raise VaultError(f"{len(found)} conversations match {text!r}: {listed}; give the id")
        return found[0]

    def thread(self, conversation: Conversation) -> list[Entry]:
        entries: list[Entry] = []
        authors = dict(conversation.state.replies)
        for item in sorted(self.index.items(conversation.id), key=lambda i: (i.hour, i.position)):
            if item.kind == SUBMISSION:
                entries.append(
                    Entry(SUBMISSION, item.id, item.hour, submission=self.vault.submission(item.id))
                )
            elif item.kind == REPLY:
                reply = replies.load_reply(self.vault, item.id)
                entries.append(
                    Entry(REPLY, item.id, item.hour, reply=reply, author=authors.get(item.id, ""))
                )
        for note in conversation.state.notes:
            entries.append(Entry(NOTE, note.id, note.hour, note=note, author=note.author))
        entries.sort(key=lambda e: e.hour)  # stable: notes follow what they were written after
        return entries

    def mark_read(self, conversation: Conversation) -> None:
        for submission_id in conversation.submission_ids:
            try:
                self.vault.mark_read(self.vault.submission(submission_id))
            except VaultError:
                continue

    # --- changing ------------------------------------------------------------------------

    def author(self) -> str:
        return caselog.local_author(self.vault, self.identity)

    def _record(self, conversation: Conversation, kind: str, payload: dict) -> caselog.Event:
        event = self.log.new(self.author(), conversation.id, kind, payload)
        self.states = self.log.state()
        if kind == caselog.NOTE:
            self.index.add_note(conversation.id, self.states[conversation.id].notes[-1])
            self.index.db.commit()
        self._replace(conversation.id)
        return event

    def _replace(self, conversation_id: str) -> None:
        rows = self.index.listing(conversation_id)
        self._all = [c for c in self._all if c.id != conversation_id]
        if any(row[1] == SUBMISSION for row in rows):
            self._all.append(self._conversation(conversation_id, rows))
        self._all.sort(key=NEWEST_FIRST, reverse=True)

    def set_status(self, conversation: Conversation, status: str) -> None:
        if status not in caselog.STATUSES:
            raise VaultError(
                f"{status!r} is not a status; use one of: {', '.join(caselog.STATUSES)}"
            )
        self._record(
            conversation,
            caselog.STATUS,
            {"status": status, "seen": list(conversation.submission_ids)},
        )

    def add_note(self, conversation: Conversation, text: str) -> None:
        if not text.strip():
            raise VaultError("the note is empty; nothing was added")
        self._record(conversation, caselog.NOTE, {"text": text})

    def set_tag(self, conversation: Conversation, tag: str, present: bool = True) -> None:
        tag = " ".join(tag.split())
        if not tag or len(tag) > caselog.MAX_LABEL:
            raise VaultError("a tag is one to 64 characters")
        self._record(
            conversation, caselog.TAG_ADDED if present else caselog.TAG_REMOVED, {"tag": tag}
        )

    def assign(self, conversation: Conversation, label: str) -> None:
        """Hands the conversation to a colleague by label, to this reviewer by ``me`` (or
        ``я``), or to nobody (empty)."""
        from . import sync
        from .team import Team

        label = " ".join(label.split())
        if len(label) > caselog.MAX_LABEL:
            raise VaultError("a label is at most 64 characters")
        if label.lower() in ME:
            me = self.author()
            member = Team(self.vault).by_key_id(me) if sync.in_team(self.vault) else None
            payload = {"label": member.label if member else "me", "key": me}
            self._record(conversation, caselog.ASSIGNED, payload)
            return
        # With a team, the event also names the member's key id: "mine" on every machine.
        self._record(conversation, caselog.ASSIGNED, sync.assignment(self.vault, label))

    def colleagues(self) -> list[str]:
        """The team's labels, for completing an assignment."""
        from .team import Team

        try:
            return sorted(m.label for m in Team(self.vault).members())
        except VaultError:
            return []

    def tags_in_use(self) -> list[str]:
        """Tags on any conversation, the most used first, for suggestions."""
        counts: dict[str, int] = {}
        for state in self.states.values():
            for tag in state.tags:
                counts[tag] = counts.get(tag, 0) + 1
        return sorted(counts, key=lambda tag: (-counts[tag], tag))

    def set_urgent(self, conversation: Conversation, urgent: bool) -> None:
        self._record(conversation, caselog.URGENT, {"urgent": urgent})

    def reply(
        self,
        conversation: Conversation,
        text: str,
        files: Sequence[str | Path] = (),
        target: str = "",
    ) -> replies.Reply:
        """Seals a reply to ``target`` (else the latest submission that can be answered) and
        queues it; the conversation then waits for them."""
        target = target or self.answerable(conversation)
        author = self.author()  # before sealing: a reply must never go unrecorded
        written = replies.queue_reply(self.vault, target, text, files)
        self.index.sync(self.states)
        self.log.new(author, conversation.id, caselog.REPLY_WRITTEN, {"reply": written.id})
        self.log.new(
            author,
            conversation.id,
            caselog.STATUS,
            {"status": WAITING, "seen": list(conversation.submission_ids)},
        )
        self.states = self.log.state()
        self._replace(conversation.id)
        return written

    def answerable(self, conversation: Conversation) -> str:
        """The newest submission a reply reaches the person through (never an unproven
        message that may come from someone else)."""
        positions = replies.order(self.vault)
        for submission_id in reversed(conversation.submission_ids):
            try:
                submission = self.vault.submission(submission_id)
                threads.check_answerable(self.vault, submission, positions)
            except VaultError:
                continue
            return submission_id
        raise replies.ReplyError(
            f"nobody in the conversation {conversation.name} asked for replies (no reply key), "
            "so it cannot be answered"
        )

    def destroy(self, chosen: Iterable[Conversation], reason: str) -> int:
        """Deletes the conversations' submissions and replies and records that they were
        destroyed; returns how many conversations."""
        count = 0
        author = self.author()
        for conversation in chosen:
            for submission_id in conversation.submission_ids:
                self.vault.destroy(submission_id)
            ids = list(conversation.submission_ids + conversation.reply_ids)
            self.log.new(author, conversation.id, caselog.DESTROYED, {"ids": ids, "reason": reason})
            self.index.forget(
                ids + [n.id for n in caselog.state_of(self.states, conversation.id).notes]
            )
            count += 1
        if count:
            replies.destroy_orphans(self.vault)
        self.refresh()
        return count


def in_view(conversation: Conversation, view: str) -> bool:
    if view == TODO:
        return conversation.status in (NEW, NEEDS_REPLY)
    if view == URGENT_VIEW:
        return conversation.state.urgent and conversation.status != SPAM
    if view == ALL:
        return True
    return conversation.status == view
