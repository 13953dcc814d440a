"""Writes the inbox app's screenshots for docs/REVIEWER.md into docs/img (SVG, exported by
Textual) from the test caseload: `make inbox-screenshots`. Look at them before committing."""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from inbox_helpers import write_caseload
from reviewer_helpers import PASSPHRASE, REPO, Keys, make_keys
from textual.widgets import DataTable, Input

from crypto.epochs import WEEK
from reviewer import caselog, epochs, i18n, templates
from reviewer.app.app import InboxApp
from reviewer.conversations import ALL, Inbox
from reviewer.vault import Vault

OUT = REPO / "docs" / "img"
TEMPLATES = {
    "First answer": "We have read your message. We answer within two days; write again here "
    "if anything changes.",
    "Safe contact": "Do not keep this codename on your phone.",
}


def _app(vault: Path, language: str = "en") -> InboxApp:
    i18n.use(language)
    inbox = Inbox(Vault(vault))
    inbox.refresh()
    return InboxApp(inbox)


def _casework(vault: Path) -> None:
    """A few days of work, so that the screens show statuses, flags, a note and a reply."""
    inbox = Inbox(Vault(vault))
    inbox.refresh()
    by_first = {c.submission_ids[0]: c for c in inbox.conversations(ALL)}
    inbox.set_status(by_first["b1"], caselog.NEEDS_REPLY)
    inbox.set_tag(inbox.get(by_first["b1"].id), "legal")
    inbox.assign(inbox.get(by_first["b1"].id), "anna")
    inbox.set_urgent(by_first["a1"], True)
    inbox.add_note(inbox.get(by_first["a1"].id), "Called Ruslan: a room is free from Monday.")
    inbox.set_tag(inbox.get(by_first["a1"].id), "shelter")
    inbox.reply(
        inbox.get(by_first["a1"].id), "We read you. Write again tonight: we are arranging a place."
    )
    inbox.set_status(by_first["d1"], caselog.SPAM)
    inbox.close()


async def _shots(vault: Path, bundle: Path, keys: Keys) -> None:
    app = _app(vault)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("o")
        app.screen.query_one("#bundle", Input).value = str(bundle)
        app.screen.query_one("#passphrase", Input).value = PASSPHRASE
        await pilot.click("#go")
        await pilot.pause()  # the press reaches the screen, which starts the worker
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.screen.query_one("#bundle", Input).value = "/media/amnesia/USB/bundle.tar"
        await pilot.pause()
        app.save_screenshot("inbox-open.svg", str(OUT))
    _casework(vault)
    app = _app(vault)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("6")
        app.screen.query_one(DataTable).move_cursor(row=0)
        await pilot.wait_for_scheduled_animations()
        await pilot.pause(0.5)
        app.save_screenshot("inbox-list.svg", str(OUT))
        await pilot.press("enter")  # the newest: the one we just answered
        await pilot.pause()
        app.save_screenshot("inbox-thread.svg", str(OUT))
        await pilot.press("r")
        await pilot.click("#template")
        await pilot.press("down", "enter")
        await pilot.pause()
        app.save_screenshot("inbox-reply.svg", str(OUT))
    app = _app(vault, "ru")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("slash", *"убежищем", "enter")
        await pilot.wait_for_scheduled_animations()
        await pilot.pause(0.5)
        app.save_screenshot("inbox-search-ru.svg", str(OUT))
        await pilot.press("escape", "question_mark")
        await pilot.pause()
        app.save_screenshot("inbox-help-ru.svg", str(OUT))
    # As if the last bundle was opened twelve weeks ago: the weekly keys run out soon.
    shutil.rmtree(vault / "epochs")
    epochs.top_up(Vault(vault), keys.identity, time.time() - 12 * WEEK)
    app = _app(vault)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.save_screenshot("inbox-weekly-keys.svg", str(OUT))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        keys = make_keys(Path(work) / "keys")
        vault = Path(work) / "vault"
        Vault(vault).set_config(identity=str(keys.key_file))
        for title, text in TEMPLATES.items():
            templates.save(Vault(vault), title, text)
        bundle = write_caseload(Path(work) / "bundle.tar", keys.public)
        asyncio.run(_shots(vault, bundle, keys))
    i18n.use("en")
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
