"""The case worker's day in the app (issue 21): keys in the Russian layout, answering with the
thread in view, two follow-ups of one hour in the order sent, a readable preview at 80x24,
a dialog whose default button shows, and a template made in the app reaching a colleague."""

from __future__ import annotations

import asyncio
import io
import zipfile
from pathlib import Path

import pytest
from inbox_helpers import HOUR, one_night, person, write_caseload
from reviewer_helpers import Keys, make_keys
from team_helpers import make_team, open_into, person_submission, send, write_submissions
from test_team_sync import events_of
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Input, Select, Static, TextArea

from crypto import seal_bytes
from crypto.bundle import BundleWriter
from reviewer import i18n, templates
from reviewer.app.app import InboxApp
from reviewer.app.dialogs import ChoiceDialog, ConfirmDialog, TextDialog
from reviewer.app.inbox_screen import InboxScreen
from reviewer.app.reply_panel import ReplyPanel
from reviewer.app.templates_screen import TemplateEditor, TemplatesDialog
from reviewer.app.thread_screen import ThreadScreen
from reviewer.conversations import Inbox
from reviewer.vault import Vault


@pytest.fixture(autouse=True)
def _english_afterwards():
    yield
    i18n.use("en")


def _app(vault: Path | Vault, language: str = "en") -> InboxApp:
    i18n.use(language)
    inbox = Inbox(vault if isinstance(vault, Vault) else Vault(vault))
    inbox.refresh()
    return InboxApp(inbox)


def _text(app: InboxApp) -> str:
    return "\n".join(str(static.render()) for static in app.screen.query(Static) if static.display)


@pytest.fixture
def night(tmp_path: Path, keys: Keys, vault: Path, cli) -> Path:
    cli("config", "--key", keys.key_file)
    cli("open", write_caseload(tmp_path / "c.tar", keys.public), "--passphrase-file",
        keys.passphrase_file)  # fmt: skip
    result = cli("open", one_night(tmp_path / "night.tar", keys.public), "--passphrase-file",
                 keys.passphrase_file)  # fmt: skip
    assert result.exit_code == 0, result.output
    return vault


def test_one_letter_keys_act_in_the_russian_layout_but_type_in_boxes(night: Path):
    async def work() -> None:
        app = _app(night, "ru")
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("ы")  # s, in the Russian layout
            assert isinstance(app.screen, ChoiceDialog)
            await pilot.press("escape", ".")  # / is . there: the search box
            assert isinstance(app.focused, Input)
            await pilot.press(*"кыт")  # typed, not taken for r s n
            assert app.focused.value == "кыт" and isinstance(app.screen, InboxScreen)
            await pilot.press("escape")
            await pilot.press("к")  # r: the thread opens with the editor under it
            assert isinstance(app.screen, ThreadScreen)
            assert app.screen.query_one(ReplyPanel).open
            await pilot.press(*"йцук")  # q is й: text in the editor, the app stays
            assert app.is_running
            assert app.screen.query_one(TextArea).text == "йцук"
            await pilot.press("escape", "escape")  # the editor closes, then the thread
            assert isinstance(app.screen, InboxScreen)
            table = app.screen.query_one(DataTable)
            flags = table.get_cell_at(Coordinate(table.cursor_row, 3))
            assert "✎" in flags.plain  # the draft shows in the list
            await pilot.press("ч")  # x: spam
            assert app.screen.current() is not None

    asyncio.run(work())
    inbox = Inbox(Vault(night))
    assert [c.status for c in inbox.refresh() if c.status == "spam"] == ["spam"]
    # The draft written in the editor is kept and the list marks it.
    assert any(p.read_text() == "йцук" for p in (night / "drafts").glob("*.txt"))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_the_reply_is_written_with_the_question_in_view(night: Path, size):
    async def work() -> None:
        app = _app(night)
        async with app.run_test(size=size) as pilot:
            await pilot.press("slash", *"приехали", "enter", "r")
            assert isinstance(app.screen, ThreadScreen)
            panel = app.screen.query_one(ReplyPanel)
            thread = app.screen.query_one("#thread")
            assert panel.open and thread.region.height >= 6  # both on screen at once
            assert panel.region.y >= thread.region.bottom  # the editor under the thread
            visible = app.export_screenshot()
            assert "СРОЧНО" in visible or "спокойно" in visible  # what is answered shows
            await pilot.press(*"Уезжайте")
            thread.focus()  # to scroll what they wrote; r brings the editor back as it was
            await pilot.press("r", *" к родственникам")
            assert panel.query_one(TextArea).text == "Уезжайте к родственникам"
            await pilot.press("ctrl+s")
            assert not panel.open and "Уезжайте к родственникам" in _text(app)

    asyncio.run(work())


def test_follow_ups_of_one_hour_read_in_the_order_sent(night: Path):
    inbox = Inbox(Vault(night))
    (person7,) = [c for c in inbox.refresh() if set(c.submission_ids) == {"zz9", "aa1"}]
    assert person7.submission_ids == ("zz9", "aa1")  # sent first, though its id sorts last
    same_hour = [c.submission_ids[-1] for c in inbox.refresh() if c.last_hour == HOUR]
    assert same_hour == ["bb2", "mm5", "aa1"]  # newest first, in the server's order

    async def work() -> None:
        app = _app(night)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("slash", *"приехали", "enter", "enter")
            shown = _text(app)
            assert shown.index("СРОЧНО: они приехали") < shown.index("Всё спокойно")

    asyncio.run(work())


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_preview_stays_readable_at_80_columns(night: Path, language: str):
    inbox = Inbox(Vault(night))
    busy = inbox.find("zz9")
    for tag in ("legal", "medical", "housing"):
        inbox.set_tag(busy, tag)
    inbox.assign(inbox.get(busy.id), "someone-long-name")
    inbox.set_urgent(inbox.get(busy.id), True)
    inbox.close()

    async def work() -> None:
        app = _app(night, language)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            table = app.screen.query_one(DataTable)
            rows = app.screen.rows
            row = [c.id for c in rows].index(busy.id)
            preview = table.get_cell_at(Coordinate(row, len(table.columns) - 1))
            assert preview.plain.startswith("Всё спокойно")
            assert len(preview.plain) >= 30, preview.plain
            await pilot.pause()  # the footer composes its keys after the screen's first draw
            keys = list(app.screen.query("FooterKey"))
            assert keys and all(key.region.right <= 80 for key in keys)  # the bar is whole
            assert keys[-1].region.width >= len(str(keys[-1].description)) + 2

    asyncio.run(work())


def test_the_default_button_of_a_dialog_is_marked(night: Path):
    async def work() -> None:
        app = _app(night)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("x", "4")  # mark one spam, open the Spam view
            await pilot.press("D")
            assert isinstance(app.screen, ConfirmDialog)
            labels = {b.id: str(b.label) for b in app.screen.query("Button")}
            assert labels["cancel"].startswith("▸") and not labels["yes"].startswith("▸")
            assert "Enter presses the marked button" in _text(app)
            await pilot.press("tab")
            labels = {b.id: str(b.label) for b in app.screen.query("Button")}
            assert labels["yes"].startswith("▸") and not labels["cancel"].startswith("▸")

    asyncio.run(work())


def test_assigning_me_and_tag_suggestions(night: Path, keys: Keys):
    async def work() -> None:
        app = _app(night)
        inbox = app.inbox
        inbox.set_tag(inbox.find("zz9"), "legal")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("slash", *"#legal", "enter", "t")
            assert isinstance(app.screen, TextDialog)
            assert "legal" in _text(app)  # the tags in use are offered
            await pilot.press("escape", "a")
            await pilot.press(*"me", "enter")
            await pilot.press("escape", "slash", *"@me", "enter")
            assert [c.state.assignee for c in app.screen.rows] == ["me"]

    asyncio.run(work())


def test_a_template_made_in_the_app_is_used_by_a_colleague(tmp_path: Path):
    anna, boris, chen = make_team(tmp_path)
    for reviewer in (anna, chen):
        key = tmp_path / f"{reviewer.label}.pub"
        key.write_text(reviewer.member.card_text())
        reviewer.vault.set_config(identity=str(key))
    envelope, _ = person_submission([anna, boris, chen], "Нам нужна помощь юриста")
    open_into(anna, write_submissions(tmp_path / "s.tar", {"sub": envelope}, {}))

    async def make() -> None:
        app = _app(anna.vault)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("T")
            assert isinstance(app.screen, TemplatesDialog)
            await pilot.press("ctrl+n")
            assert isinstance(app.screen, TemplateEditor)
            await pilot.press(*"First answer", "enter")
            await pilot.press(*"We read you.", "enter", *"Мы ответим в течение двух дней.")
            await pilot.press("ctrl+s", "escape")
            assert isinstance(app.screen, InboxScreen)

    asyncio.run(make())
    sent = send(anna, tmp_path)
    assert sent is not None
    open_into(chen, write_submissions(tmp_path / "e.tar", {"sub": envelope}, events_of(sent)))
    (template,) = templates.current(chen.vault)
    assert template.author == anna.key_id

    async def use() -> None:
        app = _app(chen.vault, "ru")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("r")
            panel = app.screen.query_one(ReplyPanel)
            assert panel.open
            panel.query_one(Select).value = template.id
            await pilot.pause()
            text = panel.query_one(TextArea).text
            assert text == "We read you.\nМы ответим в течение двух дней."

    asyncio.run(use())


def test_an_urgent_follow_up_in_a_quiet_case_stands_out(tmp_path: Path, cli, keys: Keys):
    cli("config", "--key", keys.key_file)

    def bundle(name: str, submission_id: str, hour: str, text: str) -> Path:
        with (tmp_path / name).open("wb") as out:
            writer = BundleWriter(out)
            envelope = seal_bytes([keys.public], text, trailer=person(3))
            writer.add(submission_id, hour, io.BytesIO(envelope), len(envelope))
            writer.close()
        return tmp_path / name

    opened = cli("open", bundle("1.tar", "q1", "2026-11-01T10:00Z", "Thank you, we are fine."),
                 "--passphrase-file", keys.passphrase_file)  # fmt: skip
    assert opened.exit_code == 0, opened.output
    calm = cli("status", "q1", "waiting")
    assert calm.exit_code == 0, calm.output
    cli("open", bundle("2.tar", "q2", "2026-11-20T03:00Z", "СРОЧНО: они приехали за мной"),
        "--passphrase-file", keys.passphrase_file)  # fmt: skip

    async def look() -> None:
        app = _app(tmp_path / "vault")
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            table = app.screen.query_one(DataTable)
            flags = table.get_cell_at(Coordinate(0, 3))
            preview = table.get_cell_at(Coordinate(0, 4))
            assert flags.plain.startswith("!!+") and "red" in str(flags.spans[0].style)
            assert preview.plain.startswith("СРОЧНО") and "red" in str(preview.spans[0].style)
            await pilot.press("slash", *"приехали", "enter")  # why it matched, in the row
            preview = table.get_cell_at(Coordinate(0, 4))
            assert preview.plain.startswith("» ") and "приехали" in preview.plain

    asyncio.run(look())


def test_l_writes_the_case_for_a_lawyer(night: Path, tmp_path: Path, monkeypatch):
    fake = tmp_path / "bin" / "mat2"  # stands in for mat2, so the run does not need it
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    out = tmp_path / "for-lawyer.zip"

    async def work() -> None:
        app = _app(night, "ru")
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("slash", *"приехали", "enter", "Д")  # L, in the Russian layout
            assert isinstance(app.screen, TextDialog)
            app.screen.query_one(Input).value = str(out)
            await pilot.press("enter")
            assert "для юриста" not in _text(app) and str(out) in _text(app)

    asyncio.run(work())
    with zipfile.ZipFile(out) as archive:
        case = archive.read("for-lawyer/case.txt").decode()
    assert case.index("СРОЧНО: они приехали") < case.index("Всё спокойно")


def test_a_new_colleagues_first_open_in_the_app_sets_nothing_aside(tmp_path: Path):
    from reviewer_helpers import PASSPHRASE, make_keys

    from crypto.team import Member
    from reviewer.app.open_screen import OpenBundleScreen
    from reviewer.team import Team

    anna, dana = make_keys(tmp_path / "anna"), make_keys(tmp_path / "dana")
    vault = Vault(tmp_path / "dana-vault")
    vault.set_config(identity=str(dana.key_file))
    Team(vault).add(Member.of(anna.identity, "anna"))
    Team(vault).ensure_self(dana.identity, "dana")
    bundle = tmp_path / "export.tar"
    with bundle.open("wb") as out:
        writer = BundleWriter(out)
        for number in range(3):  # sealed to anna alone, before dana joined
            envelope = seal_bytes([anna.public], "an old case")
            writer.add(f"old{number}", "2026-10-01T09:00Z", io.BytesIO(envelope), len(envelope))
        writer.close()

    async def work() -> None:
        app = _app(vault, "ru")
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("щ")  # o, in the Russian layout
            assert isinstance(app.screen, OpenBundleScreen)
            app.screen.query_one("#bundle", Input).value = str(bundle)
            await pilot.click("#passphrase")
            await pilot.press(*PASSPHRASE, "enter")
            await pilot.pause()  # the key reaches the screen, which starts the worker
            await app.workers.wait_for_complete()
            await pilot.pause()
            shown = _text(app)
            assert "отложено: 0" in shown  # nothing set aside: they are not failures
            assert "3 сообщения старше вас" in shown and "anna" in shown

    asyncio.run(work())


def test_a_passphrase_typed_in_the_russian_layout_gets_a_hint(night: Path, tmp_path: Path):
    from reviewer.app.open_screen import OpenBundleScreen

    async def work() -> None:
        app = _app(night, "ru")
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("o")
            assert isinstance(app.screen, OpenBundleScreen)
            app.screen.query_one("#bundle", Input).value = str(tmp_path / "c.tar")
            await pilot.click("#passphrase")
            await pilot.press(*"ыуфдвкщз", "enter")  # "sealdrop" with the Russian layout on
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert "русской раскладке" in _text(app)

    with (tmp_path / "c.tar").open("wb") as out:  # something new, so the key is needed
        writer = BundleWriter(out)
        envelope = seal_bytes([make_keys(tmp_path / "k").public], "new")
        writer.add("new7", HOUR, io.BytesIO(envelope), len(envelope))
        writer.close()
    asyncio.run(work())
