"""The inbox app driven through Textual's pilot, as a case worker would use it: open a bundle,
find a conversation by a Russian word in another form, read it, set a status and a note,
reply in the built-in editor, export; and hostile text shows inert."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from pathlib import Path

from inbox_helpers import HOSTILE, opened_vault, person, write_caseload
from reviewer_helpers import PASSPHRASE, Keys
from textual.widgets import DataTable, Input, Label, OptionList, Static, TextArea

from crypto.bundle import Bundle
from crypto.epochs import WEEK
from reviewer import caselog, epochs, i18n, runway
from reviewer.app.app import InboxApp
from reviewer.app.dialogs import (
    ChoiceDialog,
    HelpScreen,
    MessageDialog,
    NoteDialog,
    TextDialog,
)
from reviewer.app.inbox_screen import InboxScreen
from reviewer.app.open_screen import OpenBundleScreen
from reviewer.app.reply_panel import ReplyPanel
from reviewer.app.thread_screen import ThreadScreen
from reviewer.caselog import CaseLog
from reviewer.conversations import Inbox
from reviewer.vault import Vault


def _app(vault: Path) -> InboxApp:
    i18n.use("en")
    inbox = Inbox(Vault(vault))
    inbox.refresh()
    return InboxApp(inbox)


def _names(app: InboxApp) -> list[str]:
    screen = app.screen
    assert isinstance(screen, InboxScreen)
    return [c.name for c in screen.rows]


def _text(app: InboxApp) -> str:
    """Everything on the screen, as plain text."""
    return "\n".join(str(static.render()) for static in app.screen.query(Static) if static.display)


def test_a_case_worker_opens_finds_reads_notes_answers_and_exports(tmp_path: Path, keys: Keys):
    vault = tmp_path / "vault"
    Vault(vault).set_config(identity=str(keys.key_file))
    bundle = write_caseload(tmp_path / "caseload.tar", keys.public)
    out = tmp_path / "stick" / "replies.tar"
    out.parent.mkdir()  # the USB stick

    async def work() -> None:
        app = _app(vault)
        async with app.run_test(size=(120, 40)) as pilot:
            assert _names(app) == []
            await pilot.press("o")
            assert isinstance(app.screen, OpenBundleScreen)
            app.screen.query_one("#bundle", Input).value = str(bundle)
            await pilot.click("#passphrase")
            await pilot.press(*PASSPHRASE, "enter")
            await pilot.pause()  # the key reaches the screen, which starts the worker
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert "5 opened" in _text(app) and "0 set aside" in _text(app)
            await pilot.press("escape")
            assert isinstance(app.screen, InboxScreen)
            assert len(_names(app)) == 4  # four people: a1 and a2 are one conversation

            await pilot.press("slash", *"убежищем", "enter")  # the text has убежище, убежища
            assert len(_names(app)) == 1
            (found,) = app.screen.rows
            assert found.submission_ids == ("a1", "a2")

            await pilot.press("enter")
            assert isinstance(app.screen, ThreadScreen)
            assert "Нам нужно убежище для двоих" in _text(app)
            assert "паспорт.jpg" in str(app.screen.query_one(".file-name").render())

            await pilot.press("s")
            assert isinstance(app.screen, ChoiceDialog)
            options = app.screen.query_one(OptionList)
            await pilot.press("down", "down")  # new -> needs reply -> waiting for them
            assert options.highlighted == 2
            await pilot.press("enter")
            await pilot.press("n")
            assert isinstance(app.screen, NoteDialog)
            await pilot.press(*"called the lawyer", "enter", *"она перезвонит", "ctrl+s")
            assert "called the lawyer\nона перезвонит" in _text(app)  # a note of two lines

            await pilot.press("r")
            assert isinstance(app.screen, ThreadScreen)  # the editor opens under the thread
            panel = app.screen.query_one(ReplyPanel)
            assert panel.open and "Нам нужно убежище" in _text(app)
            await pilot.press(*"We can help? Quite so.")  # q and ? are text here, not keys
            assert panel.query_one(TextArea).text == "We can help? Quite so."
            await pilot.press("ctrl+s")
            assert isinstance(app.screen, ThreadScreen) and not panel.open
            assert "written by you" in _text(app) and "We can help" in _text(app)

            await pilot.press("escape")
            await pilot.press("e")
            assert isinstance(app.screen, TextDialog)
            app.screen.query_one(Input).value = str(out)
            await pilot.press("enter")
            assert isinstance(app.screen, MessageDialog)
            assert f"1 reply was written to {out}" in _text(app)

    asyncio.run(work())
    with Bundle(out, "replies") as exported:
        assert [entry.mailbox for entry in exported.entries] == [person(1)["mailbox"]]
    states = CaseLog(Vault(vault)).state()
    (state,) = [s for s in states.values() if s.notes]
    assert [n.text for n in state.notes] == ["called the lawyer\nона перезвонит"]
    assert state.status == caselog.WAITING  # answering sets it after the status chosen
    assert [author for _reply, author in state.replies] == [keys.public.key_id_hex]
    kinds = [e.kind for e in CaseLog(Vault(vault)).events()]
    assert kinds == [caselog.STATUS, caselog.NOTE, caselog.REPLY_WRITTEN, caselog.STATUS]


def test_hostile_text_shows_inert(tmp_path: Path, keys: Keys):
    vault = opened_vault(tmp_path, keys)

    async def look() -> None:
        app = _app(vault)
        async with app.run_test(size=(120, 40)) as pilot:
            rows = app.screen.rows
            hostile = next(c for c in rows if c.submission_ids == ("c1",))
            table = app.screen.query_one(DataTable)
            table.move_cursor(row=rows.index(hostile))
            await pilot.press("enter")
            assert isinstance(app.screen, ThreadScreen)
            shown = _text(app) + app.export_screenshot()
            assert app.is_running  # the [@click=app.quit] link did nothing
            for raw in ("\x1b", "\u202e", "\u200b", "\u2066"):
                assert raw not in shown
            for visible in ("\\u001b[2J", "\\u202e", "\\u200b", "\\u2066"):
                assert visible in shown
            # markup is shown as the characters typed, not applied
            assert "[bold red]markup[/bold red]" in _text(app)
            assert "[@click=app.quit]quit[/]" in _text(app)
            assert "photo\\u202egpj.exe" in _text(app)
            assert "WARNING" in _text(app)  # a Windows program, whatever its name claims

    asyncio.run(look())
    assert "\x1b" in HOSTILE  # the fixture really is hostile


def test_every_key_is_listed_in_help_and_the_list_is_by_mouse_too(tmp_path: Path, keys: Keys):
    vault = opened_vault(tmp_path, keys)

    async def look() -> None:
        app = _app(vault)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            listed = _text(app)
            for key in ("/", "r", "s", "n", "t", "a", "u", "o", "e", "D", "R", "q", "?"):
                assert f"\n{key:>10}  " in "\n" + listed or listed.startswith(f"{key:>10}")
            await pilot.press("escape")
            await pilot.click("#all")  # a view, by mouse
            assert len(_names(app)) == 4
            await pilot.click(DataTable, offset=(3, 2))  # the second row: highlighted
            assert app.screen.query_one(DataTable).cursor_row == 1
            await pilot.click(DataTable, offset=(3, 2))  # and opened
            assert isinstance(app.screen, ThreadScreen)
            await pilot.click("#do-back")
            assert isinstance(app.screen, InboxScreen)

    asyncio.run(look())


def test_spam_is_destroyed_in_bulk_only_after_a_count_and_a_yes(tmp_path: Path, keys: Keys):
    vault = opened_vault(tmp_path, keys)

    async def clean() -> None:
        app = _app(vault)
        async with app.run_test(size=(100, 30)) as pilot:
            spam = next(c for c in app.screen.rows if c.submission_ids == ("d1",))
            app.screen.query_one(DataTable).move_cursor(row=app.screen.rows.index(spam))
            await pilot.press("s", "end", "enter")  # the last status: spam
            await pilot.press("4")  # the Spam view
            assert [c.id for c in app.screen.rows] == [spam.id]
            await pilot.press("D")
            assert "Destroy 1 conversation marked spam" in _text(app)
            await pilot.press("enter")  # the focused button is Cancel: nothing happens
            assert "d1" in Vault(vault).ids()
            await pilot.press("D")
            await pilot.click("#yes")
            assert app.screen.rows == []
            await pilot.press("6")
            assert len(app.screen.rows) == 3  # the other three were never touched

    asyncio.run(clean())
    assert "d1" not in Vault(vault).ids() and len(Vault(vault).ids()) == 4
    destroyed = [e for e in CaseLog(Vault(vault)).events() if e.kind == caselog.DESTROYED]
    assert [(e.payload["ids"], e.payload["reason"]) for e in destroyed] == [(["d1"], "spam")]


def test_opening_lists_what_was_set_aside_then_shows_retention_sparing_urgent(
    tmp_path: Path, keys: Keys
):
    vault = opened_vault(tmp_path, keys)
    Vault(vault).set_config(retention={"spam": 1})
    inbox = Inbox(Vault(vault))
    inbox.refresh()
    old = "2026-01-01T00:00Z"
    marks = []
    for first, urgent in (("d1", False), ("c1", True)):
        conversation = next(c for c in inbox.conversations("all") if c.submission_ids[0] == first)
        marks.append(
            caselog.Event(
                caselog.new_event_id(),
                "f" * 16,
                len(marks) + 1,
                conversation.id,
                caselog.STATUS,
                {"status": "spam"},
                old,
            )
        )
        if urgent:
            marks.append(
                caselog.Event(
                    caselog.new_event_id(),
                    "f" * 16,
                    len(marks) + 1,
                    conversation.id,
                    caselog.URGENT,
                    {"urgent": True},
                    old,
                )
            )
    CaseLog(Vault(vault)).merge(marks)
    again = tmp_path / "caseload.tar"  # the bundle opened_vault opened: nothing new in it
    forged = write_caseload(tmp_path / "forged.tar", keys.public)  # same ids, other envelopes

    async def open_again() -> None:
        app = _app(vault)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("o")
            app.screen.query_one("#bundle", Input).value = str(forged)
            await pilot.click("#go")
            await pilot.pause()  # the press reaches the screen, which starts the worker
            await app.workers.wait_for_complete()
            await pilot.pause()
            shown = _text(app)  # bad envelopes are listed by id, with the reason
            assert "0 opened, 0 already in the vault, 5 set aside" in shown
            assert "a1: a different submission with the same id" in shown
            app.screen.query_one("#bundle", Input).value = str(again)
            await pilot.click("#go")
            await pilot.pause()  # the press reaches the screen, which starts the worker
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert "5 already in the vault" in _text(app)
            await pilot.press("escape")
            shown = _text(app)
            assert "The retention policy destroys 1 conversation now." in shown
            assert "spam after 1 days" in shown
            await pilot.click("#yes")

    asyncio.run(open_again())
    assert "d1" not in Vault(vault).ids() and "c1" in Vault(vault).ids()


def test_the_app_starts_without_the_envelope_formats_or_team_work():
    """What the list does not need is imported when a screen or command needs it (the inbox
    of 10,000 conversations must draw in under a second: make bench)."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, reviewer.app.app; print(*sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "reviewer.conversations" in loaded and "textual.app" in loaded
    deferred = ("crypto.envelope", "crypto.envelope_v2", "crypto.gcm_stream", "crypto.team")
    deferred += ("reviewer.sync", "reviewer.threadview", "click")
    assert [name for name in deferred if name in loaded] == []


def _runway_ending_soon(vault: Path, keys: Keys) -> int:
    """The vault's weekly keys as if the last bundle was opened twelve weeks ago: the runway
    ends in one to two weeks. Returns when."""
    shutil.rmtree(vault / "epochs")
    epochs.top_up(Vault(vault), keys.identity, time.time() - 12 * WEEK)
    end = runway.runway_end(Vault(vault))
    assert end is not None and 0 < end - time.time() < runway.WARN_DAYS * 86400
    return end


def test_the_inbox_warns_weeks_ahead_that_the_weekly_keys_run_out(tmp_path: Path, keys: Keys):
    vault = opened_vault(tmp_path, keys)

    async def look(language: str, size: tuple[int, int]) -> str:
        app = _app(vault)
        i18n.use(language)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            notice = app.screen.query_one("#lapse", Label)
            shown = str(notice.render()) if notice.display else ""
            assert notice.region.height >= (2 if shown else 0)  # on screen, not scrolled off
            assert len(_names(app)) == 4
            assert app.screen.query_one(DataTable).region.height >= 5  # the list keeps room
            return shown

    assert asyncio.run(look("en", (120, 40))) == ""  # the open just made 13 weeks ahead
    day = runway.day_text(_runway_ending_soon(vault, keys))
    english = asyncio.run(look("en", (80, 24)))
    assert f"Your weekly keys run out on {day}" in english
    assert "without forward secrecy" in english
    assert "open a new bundle (o), then export replies (e)" in english
    russian = asyncio.run(look("ru", (80, 24)))
    assert f"недельные ключи закончатся {day}" in russian and "откройте новый пакет (o)" in russian


def test_the_apps_export_carries_new_weekly_keys_as_the_clis_does(tmp_path: Path, keys: Keys):
    vault = opened_vault(tmp_path, keys)
    statement = epochs.unsent_statement(Vault(vault))
    assert statement is not None  # made by the open, not yet sent
    # What the server was sent last time ends in ten days; the vault has weeks beyond.
    sent = int(time.time()) + 10 * 86400
    Vault(vault).set_config(epochs_sent_until=sent)
    out = tmp_path / "replies.tar"

    async def export() -> None:
        app = _app(vault)
        async with app.run_test(size=(120, 40)) as pilot:
            notice = app.screen.query_one("#lapse", Label)
            assert notice.display
            told = str(notice.render())
            assert f"The server has your weekly keys only until {runway.day_text(sent)}" in told
            assert "export replies (e)" in told and "open a new bundle" not in told
            await pilot.press("e")  # no reply waits: the keys alone are worth the trip
            assert isinstance(app.screen, TextDialog)
            app.screen.query_one(Input).value = str(out)
            await pilot.press("enter")
            assert isinstance(app.screen, MessageDialog)
            assert "Your new weekly keys went with them." in _text(app)
            await pilot.press("escape")
            assert not notice.display  # the server has them now

    asyncio.run(export())
    with Bundle(out, "replies") as exported:
        assert exported.epochs == [statement]
    assert epochs.unsent_statement(Vault(vault)) is None  # not sent twice
    assert runway.sent_until(Vault(vault)) == runway.runway_end(Vault(vault))


def test_opening_a_bundle_with_nothing_new_still_makes_new_weeks_when_they_run_out(
    tmp_path: Path, keys: Keys
):
    """A quiet drop: the admin's next bundle has nothing new, yet the notice's advice (open a
    new bundle) must work, so the open asks for the passphrase and makes new weeks."""
    vault = opened_vault(tmp_path, keys)
    end = _runway_ending_soon(vault, keys)

    async def reopen() -> None:
        app = _app(vault)
        async with app.run_test(size=(120, 40)) as pilot:
            notice = app.screen.query_one("#lapse", Label)
            assert notice.display
            await pilot.press("o")
            app.screen.query_one("#bundle", Input).value = str(tmp_path / "caseload.tar")
            app.screen.query_one("#passphrase", Input).value = PASSPHRASE
            await pilot.click("#go")
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert "0 opened" in _text(app)  # nothing new in it
            await pilot.press("escape")
            assert isinstance(app.screen, InboxScreen)
            assert not notice.display

    asyncio.run(reopen())
    assert runway.runway_end(Vault(vault)) > end + 8 * WEEK


def test_a_damaged_weekly_key_file_is_said_on_the_inbox(tmp_path: Path, keys: Keys):
    vault = opened_vault(tmp_path, keys)
    sorted((vault / "epochs").glob("*.json"))[0].write_text("{not json", "utf-8")

    async def look() -> None:
        app = _app(vault)
        async with app.run_test(size=(120, 40)):
            notice = app.screen.query_one("#lapse", Label)
            assert notice.display and "could not be read" in str(notice.render())
            assert "is damaged" in str(notice.render()) and len(_names(app)) == 4

    asyncio.run(look())
