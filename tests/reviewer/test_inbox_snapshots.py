"""Screenshots of the inbox app's main screens, compared with the accepted ones in
__snapshots__/ (pytest-textual-snapshot): the list at 80x24 and 120x40 in English and
Russian (with flags, so that the preview's width shows), a thread, one night's follow-ups in
the order sent, the reply editor under the thread at both sizes in both languages, the
keys help. After a deliberate change, look at the
new screens (the report pytest writes on failure) and accept them with
`pytest tests/reviewer/test_inbox_snapshots.py --snapshot-update`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from inbox_helpers import one_night, opened_vault
from reviewer_helpers import Keys

from reviewer import i18n, templates
from reviewer.app.app import InboxApp
from reviewer.cli import main
from reviewer.conversations import Inbox
from reviewer.vault import Vault


@pytest.fixture(scope="module")
def caseload(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Path:
    directory = tmp_path_factory.mktemp("snapshots")
    vault = opened_vault(directory, keys)
    night = one_night(directory / "night.tar", keys.public)
    opened = CliRunner().invoke(
        main,
        ["open", str(night), "--vault", str(vault), "--passphrase-file", str(keys.passphrase_file)],
    )
    assert opened.exit_code == 0, opened.output
    inbox = Inbox(Vault(vault))
    inbox.refresh()
    busy = inbox.find("b1")
    for tag in ("legal", "medical"):
        inbox.set_tag(inbox.get(busy.id), tag)
    inbox.assign(inbox.get(busy.id), "anna")
    inbox.set_urgent(inbox.get(busy.id), True)
    inbox.close()
    templates.save(
        Vault(vault),
        "First answer",
        "We have read your message. We answer within two days; write again if anything changes.",
    )
    templates.save(Vault(vault), "Safe contact", "Do not keep this codename on your phone.")
    return vault


def _app(vault: Path, language: str) -> InboxApp:
    i18n.use(language)
    inbox = Inbox(Vault(vault))
    inbox.refresh()
    return InboxApp(inbox)


@pytest.fixture(autouse=True)
def _english_afterwards():
    yield
    i18n.use("en")


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_the_conversation_list(snap_compare, caseload: Path, language: str, size):
    assert snap_compare(_app(caseload, language), terminal_size=size)


@pytest.mark.parametrize(
    ("language", "size"), [("en", (120, 40)), ("ru", (80, 24))], ids=["en-120x40", "ru-80x24"]
)
def test_a_thread(snap_compare, caseload: Path, language: str, size):
    assert snap_compare(_app(caseload, language), press=["enter"], terminal_size=size)


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_the_reply_editor_under_the_thread(snap_compare, caseload: Path, language: str, size):
    async def write(pilot) -> None:
        await pilot.press("slash", *"brother", "enter", "r")
        await pilot.click("#template")
        await pilot.press("down", "enter")  # the first template
        await pilot.press(*" Ruslan")

    assert snap_compare(_app(caseload, language), run_before=write, terminal_size=size)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_one_nights_follow_ups_in_the_order_sent(snap_compare, caseload: Path, language: str):
    assert snap_compare(
        _app(caseload, language),
        press=["slash", *"приехали", "enter", "enter"],
        terminal_size=(80, 24),
    )


def test_the_keys_help_in_russian(snap_compare, caseload: Path):
    assert snap_compare(_app(caseload, "ru"), press=["question_mark"], terminal_size=(120, 40))
