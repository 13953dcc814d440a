"""`make screenshots`: serves the real intake app (a reply waiting for one codename, times in
Europe/Moscow) and has Chromium photograph every submitter page, at phone and desktop size,
in every language, with and without JavaScript (tests/browser/screenshots.js).

    python -m tests.browser.screenshots OUTPUT_DIR
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from crypto.codename import Codename
from intake.replies import import_replies
from tests.followup.conftest import reply_bundle
from tests.photos import photo

from .harness import running_intake

HERE = Path(__file__).resolve().parent
REPLY = "Thank you for writing. We read everything.\nСпасибо, что написали. Мы всё прочитали."


def add_reply(app, directory: Path, codename: Codename) -> None:
    files = [("plan.pdf", "application/pdf", b"%PDF-1.4 test")]
    import_replies(app, reply_bundle(directory / "replies.tar", codename, REPLY, files=files))


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "screenshots").resolve()
    with tempfile.TemporaryDirectory() as temp:
        directory = Path(temp)
        # The pages' own reply-check limit (10 a minute per circuit) is for people; this run
        # checks far more often, all from one "circuit", so it gets a limit of its own.
        limits = {"FOLLOWUP_CHECKS_PER_CIRCUIT_PER_MINUTE": 10_000,
                  "FOLLOWUP_CHECKS_PER_MINUTE": 10_000}  # fmt: skip
        with running_intake(
            directory, TIME_ZONE="Europe/Moscow", FOLLOWUP_FLOOR_MS=0, **limits
        ) as server:
            codename = Codename.generate()
            add_reply(server.app, directory, codename)
            spec = {
                "photo": str(photo(directory, "jpeg", "IMG_2041.jpg")),
                "url": server.url,
                "out": str(out),
                "languages": list(server.app.extensions["sealdrop_languages"]),
                "codename": str(codename),
                "timeout_ms": 60_000,
            }
            (directory / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
            result = subprocess.run(
                ["node", str(HERE / "screenshots.js"), str(directory / "spec.json")], check=False
            )
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
