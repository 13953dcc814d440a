"""A codename is issued in the page's language by the browser's own code, and opens replies and
follows up on a page in another language (docs/FORMAT.md §5.1): issued in Russian at Safer
(JavaScript seals and signs), used on the English page at Safest (no JavaScript)."""

from __future__ import annotations

import pytest

from crypto.codename import Codename
from crypto.followup import Proof
from intake.export import export_bundle
from intake.replies import import_replies
from reviewer import replies as reviewer_replies
from reviewer.threadview import thread
from reviewer.vault import Vault

from .conftest import require_executable
from .test_followup_browser import FIREFOX, Reviewer, check_nothing_readable_on_disk, drive

pytestmark = pytest.mark.browser
REPLY = "Мы получили ваше сообщение."


def test_russian_codename_from_the_js_path_opens_replies_on_the_english_no_js_page(
    node, tmp_path, intake_server
):
    require_executable(FIREFOX, "firefox-esr")
    server = intake_server
    reviewer = Reviewer(server, tmp_path / "reviewer")
    submitted = drive(node, tmp_path, {"level": "safer", "url": server.url, "step": "submit",
                                       "message": "Нам нужна помощь.", "lang": "ru"})  # fmt: skip
    codename = Codename.parse(submitted["codename"])
    assert codename.language == "ru" and str(codename) == submitted["codename"]

    bundle = tmp_path / "first.tar"
    [first_id] = export_bundle(server.app, bundle)
    reviewer.open(bundle)
    reply = reviewer_replies.queue_reply(reviewer.vault, first_id, REPLY)
    replies_bundle = tmp_path / "replies.tar"
    reviewer_replies.export_replies(reviewer.vault, replies_bundle)
    assert import_replies(server.app, replies_bundle) == [reply.id]

    followed = drive(node, tmp_path, {"level": "safest", "url": server.url, "step": "followup",
                                      "codename": str(codename), "message": "Спасибо.",
                                      "lang": "en"})  # fmt: skip
    assert followed["replies"] == [REPLY] and followed["server_decrypted"] is True
    assert Codename.parse(followed["followup_codename"]) == codename

    second = tmp_path / "second.tar"
    [second_id] = export_bundle(server.app, second)
    reviewer.open(second)
    _, messages = thread(Vault(reviewer.vault), second_id)
    assert [m.id for m in messages] == [first_id, reply.id, second_id]
    standings = [m.standing for m in messages if m.standing is not None]
    assert [s.proof for s in standings] == [Proof.PROVEN, Proof.PROVEN]  # both paths sign
    check_nothing_readable_on_disk(server, str(codename))
