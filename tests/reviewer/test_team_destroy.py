"""Nothing one member sends wipes a colleague's evidence at once (issue 17, G8): a destroy
names only its own conversation, a colleague's destroy waits in the trash and can be undone,
and removing a member reaches every machine through the same sync."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from team_helpers import make_team, open_into, person_submission, send, write_submissions
from test_team_sync import events_of

from reviewer import caselog, replies, trash
from reviewer.caselog import CaseLog, conversation_id
from reviewer.cli import main as reviewer_main
from reviewer.removal import remove_member
from reviewer.team import Team


def _two_conversations(tmp_path: Path):
    anna, boris, chen = make_team(tmp_path)
    first, _ = person_submission([anna, boris, chen], "they know where I live")
    second, _ = person_submission([anna, boris, chen], "photos of the raid")
    start = write_submissions(tmp_path / "s.tar", {"s1": first, "s2": second}, {})
    for reviewer in (anna, boris, chen):
        open_into(reviewer, start)
        reviewer.vault.set_config(identity=str(_key_file(tmp_path, reviewer)))

    ids = {
        item: conversation_id(replies.thread_key(boris.vault.submission(item)), item)
        for item in ("s1", "s2")
    }
    return anna, boris, chen, ids.__getitem__


def _key_file(tmp_path: Path, reviewer) -> Path:
    path = tmp_path / f"{reviewer.label}.pub"
    path.write_text(reviewer.identity.public_key.line + "\n")
    return path


def _carry(tmp_path: Path, reviewer, name: str) -> Path:
    sent = send(reviewer, tmp_path)
    assert sent is not None
    return write_submissions(tmp_path / f"{name}.tar", {}, events_of(sent))


def test_a_destroy_naming_another_conversation_destroys_nothing(tmp_path: Path):
    anna, boris, chen, conv = _two_conversations(tmp_path)
    # chen, removed on anna's machine but not yet on boris's, "destroys" s1's conversation
    # and names s2 of another one.
    Team(anna.vault).remove("chen")
    CaseLog(chen.vault).new(chen.key_id, conv("s1"), caselog.DESTROYED, {"ids": ["s1", "s2"]})
    received = open_into(boris, _carry(tmp_path, chen, "e1"))
    [(_, why)] = received.refused
    assert (
        why
        == "a destroy by chen names s2, not of its own conversation; nothing of it was destroyed"
    )
    assert boris.vault.contains("s1") and boris.vault.contains("s2")
    assert received.trashed == 0 and trash.entries(boris.vault) == []
    # Refused once: opening the same export again neither applies nor reports it again,
    # and s1's conversation is not wiped by it.
    lines = (boris.vault.root / "caselog" / "events.jsonl").read_bytes().count(b"\n")
    assert open_into(boris, tmp_path / "e1.tar").refused == []
    assert (boris.vault.root / "caselog" / "events.jsonl").read_bytes().count(b"\n") == lines
    assert not CaseLog(boris.vault).state().get(conv("s1"), caselog.CaseState("")).destroyed_ids


def test_a_colleagues_destroy_waits_in_the_trash_and_can_be_undone(tmp_path: Path):
    _, boris, chen, conv = _two_conversations(tmp_path)
    CaseLog(boris.vault).new(boris.key_id, conv("s1"), caselog.NOTE, {"text": "evidence: keep"})
    CaseLog(chen.vault).new(chen.key_id, conv("s1"), caselog.DESTROYED, {"ids": ["s1"]})
    received = open_into(boris, _carry(tmp_path, chen, "e1"))
    assert received.trashed == 1 and not boris.vault.contains("s1")
    assert "s1" in CaseLog(boris.vault).state()[conv("s1")].destroyed_ids

    runner = CliRunner()
    env = {"SEALDROP_VAULT": str(boris.vault.root)}
    listed = runner.invoke(reviewer_main, ["trash"], env=env)
    assert "submission s1: destroyed by chen, deleted for good after" in listed.output
    restored = runner.invoke(reviewer_main, ["trash", "restore", "s1"], env=env)
    assert restored.exit_code == 0, restored.output
    assert "restored s1" in restored.output
    assert boris.vault.contains("s1") and trash.entries(boris.vault) == []
    state = CaseLog(boris.vault).state()[conv("s1")]
    assert not state.destroyed_ids and [n.text for n in state.notes] == ["evidence: keep"]
    # The same destroy arriving again (the server repeats an export) is not applied again.
    open_into(boris, tmp_path / "e1.tar")
    assert boris.vault.contains("s1")


def test_removing_a_member_reaches_every_machine_and_undoes_their_pending_destroys(
    tmp_path: Path,
):
    anna, boris, chen, conv = _two_conversations(tmp_path)
    CaseLog(chen.vault).new(chen.key_id, conv("s2"), caselog.DESTROYED, {"ids": ["s2"]})
    open_into(boris, _carry(tmp_path, chen, "e1"))
    assert not boris.vault.contains("s2")

    member = Team(anna.vault).find("chen")
    assert remove_member(anna.vault, member)
    received = open_into(boris, _carry(tmp_path, anna, "e2"))
    assert received.removed == ["chen"]
    assert [m.label for m in Team(boris.vault).members()] == ["anna", "boris"]
    assert boris.vault.contains("s2")  # chen's destroy, still in its grace period, undone
    # chen's events are refused from now on.
    CaseLog(chen.vault).new(chen.key_id, conv("s1"), caselog.DESTROYED, {"ids": ["s1"]})
    received = open_into(boris, _carry(tmp_path, chen, "e3"))
    assert received.merged == 0 and boris.vault.contains("s1")


def test_the_app_restores_from_the_trash_with_t(tmp_path: Path):
    import asyncio

    from textual.widgets import OptionList

    from reviewer import i18n
    from reviewer.app.app import InboxApp
    from reviewer.app.dialogs import ChoiceDialog, MessageDialog
    from reviewer.conversations import Inbox

    _, boris, chen, conv = _two_conversations(tmp_path)
    CaseLog(chen.vault).new(chen.key_id, conv("s2"), caselog.DESTROYED, {"ids": ["s2"]})
    open_into(boris, _carry(tmp_path, chen, "e1"))
    assert not boris.vault.contains("s2")

    async def work() -> None:
        i18n.use("ru")
        inbox = Inbox(boris.vault)
        inbox.refresh()
        app = InboxApp(inbox)
        async with app.run_test(size=(80, 24)) as pilot:
            shown = len(app.screen.rows)
            await pilot.press("B")
            assert isinstance(app.screen, ChoiceDialog)
            [option] = app.screen.query_one(OptionList)._options
            assert "s2: удалено участником chen" in str(option.prompt)
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, MessageDialog)
            await pilot.press("escape")
            assert len(app.screen.rows) == shown + 1  # the conversation is back in the list

    try:
        asyncio.run(work())
    finally:
        i18n.use("en")
    assert boris.vault.contains("s2") and trash.entries(boris.vault) == []
