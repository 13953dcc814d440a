"""The team in the inbox app (issue 13): chen opens the export in the app and finds anna's
reply and note in the thread under her name and the case assigned to him; then he exports
his own change, signed, with the confirmation of what he opened."""

from __future__ import annotations

import asyncio
from pathlib import Path

from reviewer_helpers import PASSPHRASE
from team_helpers import make_team, open_into, person_submission, send, write_submissions
from test_team_sync import events_of
from textual.widgets import Input, Static

from crypto.bundle import REPLIES, Bundle
from crypto.confirmation import verify_confirmation
from reviewer import caselog, i18n, replies, sync
from reviewer.app.app import InboxApp
from reviewer.app.dialogs import MessageDialog, TextDialog
from reviewer.app.inbox_screen import InboxScreen
from reviewer.app.open_screen import OpenBundleScreen
from reviewer.app.thread_screen import ThreadScreen
from reviewer.caselog import CaseLog, conversation_id
from reviewer.conversations import Inbox


def _text(app: InboxApp) -> str:
    return "\n".join(str(static.render()) for static in app.screen.query(Static) if static.display)


def test_chen_sees_annas_work_and_his_case_in_the_app(tmp_path: Path):
    anna, boris, chen = make_team(tmp_path)
    key_file = tmp_path / "chen.key"
    key_file.write_text(chen.identity.to_file_text(PASSPHRASE, opslimit=1, memlimit=8192))
    chen.vault.set_config(identity=str(key_file))

    envelope, _ = person_submission([anna, boris, chen], "они забрали мой телефон")
    open_into(anna, write_submissions(tmp_path / "s.tar", {"sub": envelope}, {}))
    conv = conversation_id(replies.thread_key(anna.vault.submission("sub")), "sub")
    log = CaseLog(anna.vault)
    written = replies.queue_reply(anna.vault, "sub", "We read you. Stay safe.")
    log.new(anna.key_id, conv, caselog.REPLY_WRITTEN, {"reply": written.id})
    log.new(anna.key_id, conv, caselog.NOTE, {"text": "lawyer called back"})
    log.new(anna.key_id, conv, caselog.ASSIGNED, sync.assignment(anna.vault, "chen"))
    sent = send(anna, tmp_path)
    assert sent is not None
    export = write_submissions(tmp_path / "export.tar", {"sub": envelope}, events_of(sent))
    out = tmp_path / "chen-replies.tar"

    async def work() -> None:
        i18n.use("en")
        inbox = Inbox(chen.vault)
        inbox.refresh()
        app = InboxApp(inbox)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("o")
            assert isinstance(app.screen, OpenBundleScreen)
            app.screen.query_one("#bundle", Input).value = str(export)
            await pilot.click("#passphrase")
            await pilot.press(*PASSPHRASE, "enter")
            await pilot.pause()  # the key reaches the screen, which starts the worker
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert "Team: 3 new changes, 0 refused" in _text(app)
            await pilot.press("escape")
            assert isinstance(app.screen, InboxScreen)
            await pilot.press("slash", *"@me", "enter")  # "mine": assigned to chen's key
            (found,) = app.screen.rows
            assert found.id == conv and found.state.assignee == "chen"
            await pilot.press("enter")
            assert isinstance(app.screen, ThreadScreen)
            shown = _text(app)
            assert "We read you. Stay safe." in shown and "lawyer called back" in shown
            assert "written by anna" in shown and "Note by anna" in shown  # team labels
            await pilot.press("n")
            await pilot.press(*"on it", "ctrl+s")  # a note may have several lines
            await pilot.press("escape")
            await pilot.press("e")
            assert isinstance(app.screen, TextDialog)
            app.screen.query_one(Input).value = str(out)
            await pilot.press("enter")
            assert isinstance(app.screen, TextDialog)  # the passphrase, to sign
            assert app.screen.query_one(Input).password
            await pilot.press(*PASSPHRASE, "enter")
            assert isinstance(app.screen, MessageDialog)
            assert "changes for the team" in _text(app)

    asyncio.run(work())
    assert sync.mine(chen.vault, chen.key_id) == {conv}
    with Bundle(out, REPLIES) as bundle:
        assert len(bundle.events) == 1  # chen's note; anna's came back to her, not to him
        keys = {chen.key_id: chen.member.signing_key}  # as the server checks it
        assert "sub" in verify_confirmation(bundle.confirmation, keys).submissions
