"""The caseload behind the app and the scripting verbs: conversations as threadview groups
them, names, search in Russian and English, case changes as events, retention, list."""

from __future__ import annotations

import calendar
import gc
import time
from pathlib import Path

import pytest
from inbox_helpers import opened_vault
from reviewer_helpers import Keys

from reviewer import caselog, collector, names, retention
from reviewer.caselog import CaseLog
from reviewer.conversations import ALL, TODO, Inbox
from reviewer.index import stem
from reviewer.vault import Vault, VaultError


@pytest.fixture
def inbox(tmp_path: Path, keys: Keys) -> Inbox:
    inbox = Inbox(Vault(opened_vault(tmp_path, keys)))
    inbox.refresh()
    yield inbox
    inbox.close()


def _by_first(inbox: Inbox, submission_id: str):
    return next(c for c in inbox.conversations(ALL) if c.submission_ids[0] == submission_id)


def test_conversations_group_as_threadview_does_newest_first(inbox: Inbox):
    listed = inbox.conversations(ALL)
    assert [c.submission_ids for c in listed] == [("a1", "a2"), ("d1",), ("c1",), ("b1",)]
    first = listed[0]
    assert first.preview.startswith("Мы всё ещё ждём") and first.files == 1
    assert first.answerable and not _by_first(inbox, "d1").answerable
    assert first.id == caselog.conversation_id(first.id and _key(inbox, "a1"), "a1")
    assert _by_first(inbox, "d1").id == "d1"  # no reply key: the submission's own id


def _key(inbox: Inbox, submission_id: str) -> str | None:
    from reviewer import threadview

    return threadview.member_key(inbox.vault.submission(submission_id))


def test_names_are_two_sayable_words_the_same_everywhere_in_either_script():
    name = names.name("cfrckdmvnyybaky6q77wpap3d")
    assert name == "rezo-fulo"  # fixed: every machine says the same
    assert names.looks_like_name(name) and names.looks_like_name(names.in_cyrillic(name))
    assert names.to_latin(names.in_cyrillic(name)) == name
    many = {names.name(f"c{n}") for n in range(20_000)}
    assert len(many) > 19_980  # 24 million names: collisions are rare


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("убежищем", "a1"),  # the text has убежище and убежища
        ("Москва", "a1"),  # the text has Москве
        ("УБЕЖИЩЕ ждём", "a1"),  # every word, any case, ё as е
        ("ждем", "a1"),
        ("lawyers", "b1"),  # the text has lawyer
        ("grozny", "b1"),
        ("statement", "b1"),  # an attachment's name
        ("паспорт", "a1"),
    ],
)
def test_search_finds_words_in_other_forms(inbox: Inbox, query: str, first: str):
    found = inbox.conversations(ALL, query)
    assert [c.submission_ids[0] for c in found] == [first]


def test_search_by_note_tag_assignee_and_name(inbox: Inbox):
    conversation = _by_first(inbox, "b1")
    inbox.add_note(conversation, "Адвокат согласился помочь")
    inbox.set_tag(conversation, "legal")
    inbox.assign(conversation, "Anna")
    assert [c.id for c in inbox.conversations(ALL, "адвокату")] == [conversation.id]
    assert [c.id for c in inbox.conversations(ALL, "#legal")] == [conversation.id]
    assert [c.id for c in inbox.conversations(ALL, "@anna")] == [conversation.id]
    assert [c.id for c in inbox.conversations(ALL, names.in_cyrillic(conversation.name))] == [
        conversation.id
    ]
    assert inbox.conversations(ALL, "#medical") == []
    assert stem("убежищами") == "убежищ" and stem("ok") == "ok"


def test_a_follow_up_after_waiting_needs_a_reply_again(inbox: Inbox):
    conversation = _by_first(inbox, "a1")
    assert conversation.status == caselog.NEW and conversation in inbox.conversations(TODO)
    inbox.set_status(conversation, caselog.WAITING)
    assert inbox.get(conversation.id).status == caselog.WAITING
    log = CaseLog(inbox.vault)
    # The same status recorded before a2 arrived (as a colleague might have): a2 is new.
    log.merge(
        [
            caselog.Event(
                caselog.new_event_id(),
                "f" * 16,
                log.next_clock(),
                conversation.id,
                caselog.STATUS,
                {"status": caselog.WAITING, "seen": ["a1"]},
                "2026-11-21T00:00Z",
            )
        ]
    )
    inbox.refresh()
    again = inbox.get(conversation.id)
    assert again.status == caselog.NEEDS_REPLY and again.follow_up
    assert again in inbox.conversations(TODO)


def test_changes_are_events_under_the_reviewers_key_id(inbox: Inbox, keys: Keys):
    conversation = _by_first(inbox, "b1")
    inbox.set_urgent(conversation, True)
    inbox.set_tag(conversation, "legal")
    inbox.set_tag(conversation, "legal", present=False)
    with pytest.raises(VaultError, match="not a status"):
        inbox.set_status(conversation, "maybe")
    events = CaseLog(inbox.vault).events()
    assert {e.author for e in events} == {keys.public.key_id_hex}
    assert [e.clock for e in events] == [1, 2, 3]
    state = CaseLog(inbox.vault).state()[conversation.id]
    assert state.urgent and state.tags == frozenset()


def test_changes_need_an_identity(tmp_path: Path, keys: Keys):
    vault = Vault(opened_vault(tmp_path, keys))
    vault.set_config(identity=None)
    inbox = Inbox(vault)
    inbox.refresh()
    with pytest.raises(VaultError, match="config --key"):
        inbox.set_urgent(inbox.conversations(ALL)[0], True)


def test_retention_takes_only_closed_or_spam_past_their_days_never_urgent(inbox: Inbox):
    spam, closed, urgent = (_by_first(inbox, i) for i in ("d1", "b1", "c1"))
    inbox.set_status(spam, caselog.SPAM)
    inbox.set_status(closed, caselog.CLOSED)
    inbox.set_status(urgent, caselog.SPAM)
    inbox.set_urgent(inbox.get(urgent.id), True)
    now = calendar.timegm(time.strptime(inbox.get(spam.id).state.status_hour, "%Y-%m-%dT%H:00Z"))
    rule = retention.Policy(closed_days=30, spam_days=1)
    assert retention.due(inbox.conversations(ALL), rule, now) == []
    due = retention.due(inbox.conversations(ALL), rule, now + 86400)
    assert [c.id for c in due] == [spam.id]
    due = retention.due(inbox.conversations(ALL), rule, now + 31 * 86400)
    assert {c.id for c in due} == {spam.id, closed.id}
    assert retention.due(inbox.conversations(ALL), retention.Policy(), now + 10**9) == []


def test_destroying_removes_the_messages_and_records_it(inbox: Inbox):
    spam = _by_first(inbox, "d1")
    inbox.set_status(spam, caselog.SPAM)
    assert inbox.destroy([inbox.get(spam.id)], "spam") == 1
    assert "d1" not in inbox.vault.ids()
    assert spam.id not in {c.id for c in inbox.conversations(ALL)}
    state = CaseLog(inbox.vault).state()[spam.id]
    assert state.destroyed and state.destroyed_ids == {"d1"}
    assert inbox.conversations(ALL, "watches") == []  # gone from the index too


def test_scripting_verbs(cli, tmp_path: Path, keys: Keys, vault: Path):
    opened_vault(vault.parent, keys)
    listed = cli("list").output
    assert "rezo-fulo" in listed and "new" in listed
    assert cli("status", "a2", "waiting").exit_code == 0
    result = cli("note", "rezo-fulo", "called back, safe for now")
    assert result.exit_code == 0 and "note added" in result.output
    assert cli("tag", "рэзо-фуло", "shelter").exit_code == 0
    assert cli("assign", "a1", "anna").exit_code == 0
    waiting = cli("list", "--status", "waiting").output
    assert "rezo-fulo" in waiting and "#shelter" in waiting and "@anna" in waiting
    assert "b1" not in waiting
    assert "No conversation" in cli("list", "--status", "spam").output
    found = cli("search", "safe").output
    assert "a1" in found and "a2" in found and "b1" not in found
    bad = cli("status", "a1", "maybe")
    assert bad.exit_code == 1 and "not a status" in bad.output
    unknown = cli("note", "zzz", "x")
    assert unknown.exit_code == 1 and "no conversation" in unknown.output


def test_list_prints_full_ids_when_not_a_terminal(tmp_path: Path, keys: Keys):
    from click.testing import CliRunner
    from reviewer_helpers import seal, write_bundle

    from reviewer.cli import main

    vault = opened_vault(tmp_path, keys)
    long_id = "hglixfjyffye74yvbru4pnnkx4"
    bundle = write_bundle(tmp_path / "more.tar", {long_id: seal([keys.public], "hello")})
    env = {"SEALDROP_VAULT": str(vault), "COLUMNS": "60"}
    runner = CliRunner()
    opened = runner.invoke(
        main,
        ["open", str(tmp_path / "more.tar"), "--passphrase-file", str(keys.passphrase_file)],
        env=env,
    )
    assert opened.exit_code == 0 and bundle
    result = runner.invoke(main, ["list"], env=env)
    assert result.exit_code == 0
    assert long_id in result.output.split()  # whole, on one line, though 60 columns are set
    assert names.name(long_id) in result.output


def test_no_command_opens_the_inbox_app(cli, keys: Keys, vault: Path, monkeypatch):
    from reviewer.app import app as app_module

    opened = []
    monkeypatch.setattr(app_module.InboxApp, "run", lambda self: opened.append(self.inbox))
    opened_vault(vault.parent, keys)
    result = cli()
    assert result.exit_code == 0, result.output
    (inbox,) = opened
    assert inbox.vault.root == vault and len(inbox.conversations(ALL)) == 4


def test_building_the_caseload_pauses_the_collector_and_sets_the_result_aside(inbox: Inbox):
    gc.enable()
    with collector.building():
        assert not gc.isenabled()  # no full passes over a caseload that is all alive
    assert gc.isenabled()
    gc.disable()
    with collector.building():
        pass
    assert not gc.isenabled()  # a caller that had it off keeps it off
    gc.enable()
    assert gc.get_freeze_count() > 0  # the first caseload, kept out of later full passes
    assert inbox.refresh() and gc.isenabled()
