"""Screenshots of the inbox app's main screens, compared with the accepted ones in
__snapshots__/ (pytest-textual-snapshot): the list at 80x24 and 120x40 in English and
Russian, a thread, the reply editor, the keys help. After a deliberate change, look at the
new screens (the report pytest writes on failure) and accept them with
`pytest tests/reviewer/test_inbox_snapshots.py --snapshot-update`."""

from __future__ import annotations

from pathlib import Path

import pytest
from inbox_helpers import opened_vault
from reviewer_helpers import Keys

from reviewer import i18n
from reviewer.app.app import InboxApp
from reviewer.conversations import Inbox
from reviewer.drafts import templates_path
from reviewer.vault import Vault

TEMPLATES = """## First answer
We have read your message. We answer within two days; write again here if anything changes.
## Safe contact
Do not keep this codename on your phone.
"""


@pytest.fixture(scope="module")
def caseload(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Path:
    vault = opened_vault(tmp_path_factory.mktemp("snapshots"), keys)
    templates_path(Vault(vault)).write_text(TEMPLATES, encoding="utf-8")
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


def test_the_reply_editor_with_a_template(snap_compare, caseload: Path):
    async def write(pilot) -> None:
        await pilot.press("enter", "r")
        await pilot.click("#template")
        await pilot.press("down", "down", "enter")  # past the prompt, to the first

    assert snap_compare(_app(caseload, "en"), run_before=write, terminal_size=(80, 24))


def test_the_keys_help_in_russian(snap_compare, caseload: Path):
    assert snap_compare(_app(caseload, "ru"), press=["question_mark"], terminal_size=(120, 40))
