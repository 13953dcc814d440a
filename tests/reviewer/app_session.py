"""Drives the inbox app headless through a day's work; run as a script by the air-gap test
(under the socket blocker) as `python app_session.py VAULT BUNDLE PASSPHRASE OUT`."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from textual.widgets import Input

from reviewer.app.app import InboxApp
from reviewer.conversations import Inbox
from reviewer.vault import Vault


async def session(vault: Path, bundle: Path, passphrase: str, out: Path) -> None:
    inbox = Inbox(Vault(vault))
    inbox.refresh()
    app = InboxApp(inbox)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("o")
        app.screen.query_one("#bundle", Input).value = str(bundle)
        app.screen.query_one("#passphrase", Input).value = passphrase
        await pilot.click("#go")
        await pilot.pause()  # the press reaches the screen, which starts the worker
        await app.workers.wait_for_complete()
        await pilot.press("escape", "slash", *"lawyer", "enter", "enter", "n", *"noted", "ctrl+s")
        await pilot.press("r", *"We read you", "ctrl+s", "escape", "e")
        app.screen.query_one(Input).value = str(out)
        await pilot.press("enter", "enter", "q")


if __name__ == "__main__":
    vault, bundle, passphrase, out = sys.argv[1:5]
    asyncio.run(session(Path(vault), Path(bundle), passphrase, Path(out)))
    print("app session done")
