"""Three reviewers, three vaults, one server in between: random case work on each machine,
bundles carried in random order, repeated and lost. Once everyone has seen everything, every
vault folds to the same state and holds every reply with its author (issue 13)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from team_helpers import SimServer, make_team, open_into, person_submission, send, write_submissions

from reviewer import caselog, replies, sync
from reviewer.caselog import CaseLog, conversation_id
from reviewer.vault import Vault

WORK = st.sampled_from(["note", "status", "tag", "assign", "urgent", "reply", "destroy"])
STEP = st.one_of(
    st.tuples(st.just("work"), st.integers(0, 2), WORK, st.integers(0, 1)),
    st.tuples(st.just("send"), st.integers(0, 2), st.booleans(), st.booleans()),  # drop, twice
    st.tuples(st.just("export"), st.booleans(), st.just(0), st.just(0)),  # again
    st.tuples(st.just("deliver"), st.integers(0, 2), st.integers(0, 20), st.booleans()),
)


def conversation_of(vault: Vault, submission_id: str) -> str:
    return conversation_id(replies.thread_key(vault.submission(submission_id)), submission_id)


def do_work(reviewer, kind: str, which: int, n: int) -> None:
    vault = reviewer.vault
    submission_id = ("first", "second")[which]
    if not vault.contains(submission_id):
        return  # destroyed here already
    log = CaseLog(vault)
    conv = conversation_of(vault, submission_id)
    me = reviewer.key_id
    if kind == "note":
        log.new(me, conv, caselog.NOTE, {"text": f"note {n} by {reviewer.label}"})
    elif kind == "status":
        log.new(me, conv, caselog.STATUS, {"status": caselog.STATUSES[n % 5], "seen": []})
    elif kind == "tag":
        log.new(me, conv, caselog.TAG_ADDED if n % 2 else caselog.TAG_REMOVED, {"tag": "legal"})
    elif kind == "assign":
        label = ("anna", "boris", "chen")[n % 3]
        log.new(me, conv, caselog.ASSIGNED, sync.assignment(vault, label))
    elif kind == "urgent":
        log.new(me, conv, caselog.URGENT, {"urgent": bool(n % 2)})
    elif kind == "reply" and which == 0:  # replies go to the first conversation only
        written = replies.queue_reply(vault, submission_id, f"reply {n} from {reviewer.label}")
        log.new(me, conv, caselog.REPLY_WRITTEN, {"reply": written.id})
    elif kind == "destroy" and which == 1:  # retention destroys the second one
        vault.destroy(submission_id)
        log.new(me, conv, caselog.DESTROYED, {"ids": [submission_id], "reason": "retention"})


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(STEP, max_size=28))
def test_every_vault_converges_whatever_the_order_duplicates_and_drops(steps):
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        team = make_team(root)
        first, _ = person_submission(team, "please help")
        second, _ = person_submission(team, "spam")
        start = write_submissions(root / "start.tar", {"first": first, "second": second}, {})
        for reviewer in team:
            open_into(reviewer, start)
        server = SimServer(root)
        exports: list[Path] = []
        for step in steps:
            action = step[0]
            if action == "work":
                _, who, kind, which = step
                do_work(team[who], kind, which, len(exports) + who)
            elif action == "send":
                _, who, drop, twice = step
                bundle = send(team[who], root)
                if bundle is not None and not drop:
                    for _ in range(2 if twice else 1):
                        server.import_replies(bundle)
            elif action == "export":
                exports.append(server.export(again=step[1]))
            elif action == "deliver" and exports:
                _, who, pick, _ = step
                open_into(team[who], exports[pick % len(exports)])

        # Everyone catches up: send what is theirs, then the server repeats everything.
        for _ in range(2):
            for reviewer in team:
                bundle = send(reviewer, root)
                if bundle is not None:
                    server.import_replies(bundle)
            final = server.export(again=True)
            for reviewer in team:
                received = open_into(reviewer, final)
                assert received is None or not received.refused

        states = [CaseLog(r.vault).state() for r in team]
        assert states[0] == states[1] == states[2]
        written = {  # reply id -> who wrote it, from the machine that wrote it
            reply.id: reviewer.key_id
            for reviewer in team
            for reply in replies.replies(reviewer.vault)
            if sync.author_of_copy(reply.path) is None
        }
        conv = conversation_of(team[0].vault, "first")
        for reviewer, state in zip(team, states, strict=True):
            assert set(replies.reply_ids(reviewer.vault)) == set(written)
            assert dict(state[conv].replies) == written if conv in state else not written
            for reply_id, author in written.items():
                copy_author = sync.author_of_copy(reviewer.vault.root / "replies" / reply_id)
                assert copy_author in (None, author)  # None: it is this machine's own
                assert (copy_author is None) == (author == reviewer.key_id)
            assert reviewer.vault.contains("second") == (
                not any(s.destroyed_ids for s in state.values())
            )
            assert reviewer.vault.contains("first")
        # Every own event came back and is recognised: nothing is left to send.
        for reviewer in team:
            assert sync.outgoing(reviewer.vault, reviewer.identity) == []
