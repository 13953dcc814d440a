"""Issue 20 in real browsers at phone size (390x844), in English and Russian: Firefox ESR at
Tor Browser's Standard, Safer and Safest levels, and Chromium. One browser session per level
(tests/browser/drive_person.js) covers:

- the language: from the browser's Accept-Language (Chromium asks for Russian), and the
  organisation's SEALDROP_DEFAULT_LANGUAGE when the browser says nothing about the person
  (Firefox sends Tor Browser's spoofed "en-US,en;q=0.5");
- the way back: a codename copied down the old grid's columns finds its reply (and is shown
  in its right order), a typo leaves no follow-up form holding the previous codename, and a
  well-formed codename without replies is warned about its words and order before the
  follow-up form; without JavaScript, switching language keeps the typed codename;
- with JavaScript, a JPEG's GPS position and camera model gone once the reviewer opens it,
  kept when the person ticked "keep", and the staff's LOCATION flag on the kept one;
- without JavaScript, reloading the confirmation (Firefox resends the post) stores nothing
  twice and says so, with the same codename;
- the status on the first screen from the tap on Send; (Chromium) during a small send over a
  slow link, the status and a moving bar stay there, and a refusal (too large) appears there.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from crypto.codename import Codename
from intake.export import export_bundle
from reviewer.cli import main as reviewer_cli
from reviewer.vault import Vault
from tests.followup.conftest import reply_bundle
from tests.photos import LATITUDE, MODEL, identifying, photo, tags

from .conftest import require_executable
from .harness import Server
from .test_followup_browser import Reviewer

pytestmark = pytest.mark.browser

HERE = Path(__file__).resolve().parent
EXECUTABLES = {"firefox": ("/usr/bin/firefox-esr", "firefox-esr"),
               "chromium": ("/usr/lib/chromium/chromium", "chromium")}  # fmt: skip
REPLY = "We read it. Ответ ждёт."
RUNS = [
    ("firefox", "standard", "en"),
    ("firefox", "safer", "ru"),
    ("firefox", "safest", "ru"),
    ("chromium", "standard", "en"),
]
# Firefox sends exactly Tor Browser's spoofed header; Chromium asks for Russian.
BROWSER_LANGUAGE = {
    "firefox": {"prefs": {"intl.accept_languages": "en-US, en",
                          "dom.confirm_repost.testing.always_accept": True}},
    "chromium": {"args": ["--accept-lang=ru"]},
}  # fmt: skip


def drive(node: str, tmp_path: Path, spec: dict) -> dict:
    spec_path = tmp_path / "person.json"
    spec_path.write_text(json.dumps({"timeout_ms": 120_000, **spec}), encoding="utf-8")
    result = subprocess.run(
        [node, str(HERE / "drive_person.js"), str(spec_path)],
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert result.returncode == 0, f"browser run failed:\n{result.stderr[-4000:]}"
    return json.loads(result.stdout)


def opened_photos(server: Server, tmp_path: Path) -> tuple[dict[str, Path], str]:
    """Exports what was sent and opens it as the reviewer does: each submission's photo, by
    its message, and what `sealdrop-reviewer show` says about them all."""
    reviewer = Reviewer(server, tmp_path / "reviewer")
    bundle = tmp_path / "sent.tar"
    export_bundle(server.app, bundle)
    reviewer.open(bundle)
    photos, shown = {}, []
    for submission in Vault(reviewer.vault).submissions():
        message = submission.part_path(submission.message).read_text(encoding="utf-8")
        [attachment] = submission.attachments
        photos[message] = submission.part_path(attachment)
        result = CliRunner().invoke(reviewer_cli, ["show", submission.id], env=reviewer.env)
        shown.append(" ".join(result.output.split()))
    return photos, " ".join(shown)


def check_way_back(seen: dict, codename: Codename) -> None:
    columns = seen["columns"]
    assert columns["reply_shown"] and columns["reordered_shown"]
    assert Codename.parse(columns["followup_codename"]) == codename
    assert columns["typed"].split() == str(codename).split()  # shown in its right order
    typo = seen["typo"]
    assert typo["error"] and typo["followup_hidden"] and typo["followup_codename"] == ""
    empty = seen["empty"]
    assert empty["no_replies"] and not empty["reply_shown"]
    assert empty["order_warning_shown"] and not empty["followup_hidden"]


@pytest.mark.parametrize(("browser", "level", "lang"), RUNS)
def test_the_person_gets_back_in(node, tmp_path, start_intake, browser, level, lang):
    require_executable(*EXECUTABLES[browser])
    server = start_intake(FOLLOWUP_FLOOR_MS=0, FOLLOWUP_CHECKS_PER_CIRCUIT_PER_MINUTE=100)
    admin = start_intake(
        DATA_DIR=str(tmp_path / "admin-data"), DEFAULT_LANGUAGE="ru", MAX_SUBMISSION_BYTES=100_000
    )
    codename = Codename.generate(lang)
    import_replies_for(server, tmp_path, codename)
    jpeg = photo(tmp_path, "jpeg")
    big = tmp_path / "big.jpg"  # a photo of 600 kB: one chunk, a small send
    head, end, _trailer = jpeg.read_bytes().partition(b"\xff\xd9")
    big.write_bytes(head + b"\x00" * 600_000 + end)  # a long scan, kept by the cleaning
    spec = {
        "browser": browser,
        "level": level,
        "lang": lang,
        "url": server.url,
        "admin_url": admin.url,
        "codename": str(codename),
        "empty_codename": str(Codename.generate(lang)),
        "photo": str(jpeg),
        "big_photo": str(big),
        "throttle": browser == "chromium",
        **BROWSER_LANGUAGE[browser],
    }
    if browser == "chromium":
        server.recorder.upload_bytes_per_second = 100 * 1024  # a slow link, as over Tor
    report = drive(node, tmp_path, spec)

    language = report["language"]
    if browser == "chromium":
        assert language["plain"] == "ru"  # the browser asked for Russian
    else:
        assert language["plain"] == "en" and language["admin"] == "ru"  # Tor's English: default
    assert language["admin_chosen"] == "en"

    check_way_back(report["way_back"], codename)

    if level == "safest":
        switched = report["way_back"]["switched"]  # the no-JS language switch keeps it
        assert switched["lang"] == "en" and switched["typed"] == spec["empty_codename"]
        assert spec["empty_codename"].split()[0] not in switched["url"]
        resent = report["resend"]
        assert resent["first_codename"] and resent["again_codename"] == resent["first_codename"]
        assert not resent["first_says_again"] and resent["again_says_again"]
        assert resent["next_steps"]
        assert len(list((server.data_dir / "blobs").iterdir())) == 1  # stored once
        return

    for sent in (report["cleaned"], report["kept"]):
        assert sent["strip_notice_before"] is True and sent["strip_notice_after"] is False
        assert sent["nojs_notice_hidden"] is True
        assert sent["next_steps"] == ["/", "/replies"]
        after = sent["status_after_send"]  # on the first screen from the tap on Send
        assert after["done"] or (after["in_view"] and after["text"]), after
    photos, shown = opened_photos(server, tmp_path)
    cleaned, kept = photos["photo, cleaned"], photos["photo, kept as evidence"]
    assert identifying(cleaned) == [], "location or camera left in a cleaned photo"
    assert tags(cleaned)["[EXIF] Orientation"] == "6"
    found = tags(kept)
    assert found["[EXIF] GPSLatitude"] == LATITUDE and found["[EXIF] Model"] == MODEL
    assert kept.read_bytes() == jpeg.read_bytes()
    assert shown.count("LOCATION:") == 1  # the staff see the kept one flagged, only it

    if browser == "chromium":
        samples = report["status"]
        sending = [s for s in samples if not s["done"]]
        assert len(sending) >= 5, "the throttled send finished too fast to watch"
        assert all(s["status_in_view"] and s["text"] for s in sending), sending[:3]
        assert all(s["bar_in_view"] for s in sending[1:]), sending[:3]
        # The bar moves within the one chunk: at least two steps short of the end.
        moving = {s["value"] for s in sending if s["value"] is not None and s["value"] < 1}
        assert len(moving) >= 2, f"the bar did not move: {sorted(moving)}"
        assert any("%" in s["text"] for s in sending)
        refused = report["too_large"]  # the refusal where the person is looking
        assert refused["error"] and refused["in_view"] and "too large" in refused["text"]


def import_replies_for(server: Server, tmp_path: Path, codename: Codename) -> None:
    from intake.replies import import_replies

    import_replies(server.app, reply_bundle(tmp_path / "replies.tar", codename, REPLY))
