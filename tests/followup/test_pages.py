"""The replies page without JavaScript, the JSON API, deleting, throttling, timing."""

from __future__ import annotations

import time

import pytest

from crypto import open_envelope
from crypto.codename import Codename
from crypto.followup import Proof, signed_trailer
from crypto.followup import check as check_proof
from intake.replies import import_replies

from ..intake.helpers import open_bundle
from .conftest import check, codename_of, reply_bundle, salt_of, submit

FLOOR_MS = 300


def test_submission_shows_a_codename_once_and_seals_only_what_derives_from_it(intake, tmp_path):
    response = submit(intake.client, "hello")
    assert response.status_code == 200 and "Location" not in response.headers
    codename = Codename.parse(codename_of(response))
    keys = codename.derive(salt_of(intake))
    from intake.export import export_bundle

    export_bundle(intake.app, tmp_path / "b.tar")
    [contents] = open_bundle(tmp_path / "b.tar", intake.identity)
    assert contents.trailer == signed_trailer(keys, contents.header_hash)
    assert check_proof(contents.trailer, contents.header_hash) is Proof.PROVEN
    assert str(codename) not in repr(contents.trailer)


def test_the_no_js_page_issues_the_codename_in_its_language(intake, tmp_path):
    russian = Codename.parse(codename_of(submit(intake.client, "привет", lang="ru")))
    english = Codename.parse(codename_of(submit(intake.client, "hello", lang="en")))
    assert (russian.language, english.language) == ("ru", "en")
    # A Russian codename typed on the English page follows up the same thread, and back.
    submit(intake.client, "again", codename=str(russian), lang="en")
    submit(intake.client, "снова", codename=str(english.in_language("ru")), lang="ru")
    from intake.export import export_bundle

    export_bundle(intake.app, tmp_path / "b.tar")
    opened = open_bundle(tmp_path / "b.tar", intake.identity)
    mailboxes = sorted(c.trailer["mailbox"] for c in opened)
    salt = salt_of(intake)
    expected = [russian.derive(salt).mailbox] * 2 + [english.derive(salt).mailbox] * 2
    assert mailboxes == sorted(expected)
    assert all(check_proof(c.trailer, c.header_hash) is Proof.PROVEN for c in opened)


def test_a_follow_up_carries_the_same_reply_key_and_shows_no_new_codename(intake, tmp_path):
    first = Codename.parse(codename_of(submit(intake.client, "first")))
    typed = "  " + str(first).upper().replace(" ", "-") + "\n"
    follow = submit(intake.client, "second", codename=typed)
    assert follow.status_code == 200
    assert 'id="codename"' not in follow.get_data(as_text=True)
    from intake.export import export_bundle

    export_bundle(intake.app, tmp_path / "b.tar")
    opened = open_bundle(tmp_path / "b.tar", intake.identity)
    keys = first.derive(salt_of(intake))
    for contents in opened:
        assert contents.trailer == signed_trailer(keys, contents.header_hash)
    assert opened[0].trailer["proof"] != opened[1].trailer["proof"]  # each its own envelope


def test_a_follow_up_with_a_mistyped_codename_is_refused_and_nothing_kept(intake):
    response = submit(intake.client, "lost?", codename="not a codename at all")
    assert response.status_code == 400
    assert "codename has eight words" in response.get_data(as_text=True)
    intake.assert_nothing_stored()


def test_replies_page_shows_the_reply_escaped_and_its_file(intake, tmp_path):
    codename = Codename.generate()
    text = "We read it. <script>alert(1)</script>\nSecond line."
    bundle = reply_bundle(
        tmp_path / "r.tar", codename, text, files=[("plan.pdf", "application/pdf", b"%PDF")]
    )
    import_replies(intake.app, bundle)
    page = check(intake.client, " ".join(w[:4].upper() for w in codename.words))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "We read it. &lt;script&gt;alert(1)&lt;/script&gt;\nSecond line." in html
    assert "<script>alert(1)" not in html
    assert 'id="server-decrypted"' in html  # says the server decrypted them for this page
    assert "Download: plan.pdf" in html
    download = intake.client.post(
        "/replies/file?lang=en",
        data={"codename": str(codename), "reply": "r1", "part": "0"},
        content_type="application/x-www-form-urlencoded",
    )
    assert download.status_code == 200 and download.data == b"%PDF"
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert download.headers["Content-Disposition"].startswith('attachment; filename="plan.pdf"')


def test_a_no_js_check_finds_replies_in_the_legacy_and_the_v2_mailbox(intake, tmp_path):
    """A thread begun before mailbox v2 gets its replies at the legacy id (its submissions'
    trailers name it); newer ones at the deployment's v2 id. One check finds both, opens,
    downloads and deletes each where it is."""
    codename = Codename.generate()
    legacy = reply_bundle(tmp_path / "old.tar", codename, "old thread", reply_id="r1")
    import_replies(intake.app, legacy)
    fresh = reply_bundle(
        tmp_path / "new.tar",
        codename,
        "new thread",
        reply_id="r2",
        salt=salt_of(intake),
        files=[("v2.txt", "text/plain", b"two")],
    )
    import_replies(intake.app, fresh)
    keys = codename.derive(salt_of(intake))
    assert keys.mailbox != keys.legacy_mailbox
    html = check(intake.client, str(codename)).get_data(as_text=True)
    assert "old thread" in html and "new thread" in html
    form = "application/x-www-form-urlencoded"
    download = intake.client.post(
        "/replies/file?lang=en",
        data={"codename": str(codename), "reply": "r2", "part": "0"},
        content_type=form,
    )
    assert download.status_code == 200 and download.data == b"two"
    for reply_id in ("r1", "r2"):
        intake.client.post(
            "/replies/delete?lang=en",
            data={"codename": str(codename), "reply": reply_id, "confirm": "yes"},
            content_type=form,
        )
    html = check(intake.client, str(codename)).get_data(as_text=True)
    assert "old thread" not in html and "new thread" not in html


def test_a_typo_gets_the_codename_sentence_in_the_pages_language(intake):
    words = str(Codename.generate()).split()
    english = check(intake.client, " ".join(words[:7])).get_data(as_text=True)
    assert "A codename has 8 words; this has 7." in english
    russian = check(intake.client, " ".join([*words[:7], "qqqq"]), lang="ru")
    assert "Слово 8 не из кодового имени" in russian.get_data(as_text=True)


def test_wrong_codename_gets_the_no_replies_page_in_the_same_time(make_intake, tmp_path):
    intake = make_intake(FOLLOWUP_FLOOR_MS=FLOOR_MS)
    with_replies, without = Codename.generate(), Codename.generate()
    submit(intake.client, "has a codename but no replies", codename=str(without))
    import_replies(intake.app, reply_bundle(tmp_path / "r.tar", with_replies, "an answer"))

    def timed(codename: Codename) -> tuple[bytes, float]:
        start = time.monotonic()
        response = check(intake.client, str(codename))
        assert response.status_code == 200
        return response.data, time.monotonic() - start

    wrong = Codename.generate()
    wrong_page, wrong_time = timed(wrong)
    empty_page, empty_time = timed(without)
    full_page, full_time = timed(with_replies)
    # The same page but for the codename typed, which comes back in the form.
    assert wrong_page.replace(str(wrong).encode(), b"X") == empty_page.replace(
        str(without).encode(), b"X"
    )
    assert b"an answer" in full_page and b"an answer" not in wrong_page
    for elapsed in (wrong_time, empty_time, full_time):
        assert elapsed >= FLOOR_MS / 1000


def test_api_lists_ciphertext_and_an_unknown_mailbox_is_an_empty_list(make_intake, tmp_path):
    intake = make_intake(FOLLOWUP_FLOOR_MS=FLOOR_MS)
    codename = Codename.generate()
    keys = codename.derive()
    import_replies(intake.app, reply_bundle(tmp_path / "r.tar", codename, "cipher only"))
    listing = intake.client.get(f"/api/v1/mailboxes/{keys.mailbox}/replies")
    [entry] = listing.json["replies"]
    assert entry["id"] == "r1" and entry["received"].endswith(":00Z") and entry["size"] > 0
    envelope = intake.client.get(f"/api/v1/mailboxes/{keys.mailbox}/replies/r1")
    assert envelope.headers["Content-Type"] == "application/octet-stream"
    assert b"cipher only" not in envelope.data
    import io

    from crypto import MemorySink

    contents = open_envelope(io.BytesIO(envelope.data), [keys.identity], MemorySink())
    assert contents.message.data == b"cipher only"
    for mailbox in (Codename.generate().derive().mailbox, "not-a-mailbox"):
        start = time.monotonic()
        empty = intake.client.get(f"/api/v1/mailboxes/{mailbox}/replies")
        assert time.monotonic() - start >= FLOOR_MS / 1000
        assert (empty.status_code, empty.json) == (200, {"replies": []})
    other = Codename.generate().derive().mailbox
    assert intake.client.get(f"/api/v1/mailboxes/{other}/replies/r1").status_code == 404


def test_api_lists_a_codenames_two_mailboxes_in_one_check(intake, tmp_path):
    """The page asks for mailbox v2 and the legacy id together: one request, one check of the
    circuit's share, each reply naming the mailbox it is fetched and deleted in."""
    codename = Codename.generate()
    keys = codename.derive(salt_of(intake))
    import_replies(intake.app, reply_bundle(tmp_path / "a.tar", codename, "old", "r1"))
    fresh = reply_bundle(tmp_path / "b.tar", codename, "new", "r2", salt=salt_of(intake))
    import_replies(intake.app, fresh)
    both = intake.client.get(f"/api/v1/mailboxes/{keys.mailbox},{keys.legacy_mailbox}/replies")
    listed = {(r["id"], r["mailbox"]) for r in both.json["replies"]}
    assert listed == {("r1", keys.legacy_mailbox), ("r2", keys.mailbox)}
    three = ",".join([keys.mailbox, keys.legacy_mailbox, keys.mailbox])
    assert intake.client.get(f"/api/v1/mailboxes/{three}/replies").json == {"replies": []}
    admission = intake.app.extensions["sealdrop_followup"].admission
    assert round(admission.recent.note("")) == 2  # two requests so far: two checks, not four


def test_delete_without_and_with_javascript(intake, tmp_path):
    codename = Codename.generate()
    keys = codename.derive()
    replies = intake.app.extensions["sealdrop_replies"]
    import_replies(intake.app, reply_bundle(tmp_path / "a.tar", codename, "one", "r1"))
    import_replies(intake.app, reply_bundle(tmp_path / "b.tar", codename, "two", "r2"))
    asked = intake.client.post(
        "/replies/delete?lang=en",
        data={"codename": str(codename), "reply": "r1"},
        content_type="application/x-www-form-urlencoded",
    ).get_data(as_text=True)
    # Without JavaScript the first press asks; nothing is deleted until the person confirms.
    assert 'id="delete-confirm"' in asked and 'name="confirm" value="yes"' in asked
    assert replies.path("r1").exists() and 'id="reply-deleted"' not in asked
    page = intake.client.post(
        "/replies/delete?lang=en",
        data={"codename": str(codename), "reply": "r1", "confirm": "yes"},
        content_type="application/x-www-form-urlencoded",
    )
    html = page.get_data(as_text=True)
    assert 'id="reply-deleted"' in html and "two" in html and ">one<" not in html
    assert not replies.path("r1").exists()
    # Another mailbox cannot delete it.
    stranger = Codename.generate().derive().mailbox
    assert intake.client.delete(f"/api/v1/mailboxes/{stranger}/replies/r2").status_code == 404
    assert intake.client.delete(f"/api/v1/mailboxes/{keys.mailbox}/replies/r2").json == {
        "status": "deleted"
    }
    assert [r.id for r in replies.list(keys.mailbox)] == []
    assert list((intake.settings.data_dir / "replies").iterdir()) == []
    import_replies(intake.app, reply_bundle(tmp_path / "c.tar", codename, "three", "r3"))
    posted = intake.client.post(f"/api/v1/mailboxes/{keys.mailbox}/replies/r3/delete", json={})
    assert posted.status_code == 200 and replies.list(keys.mailbox) == []


def test_checks_are_throttled_with_a_readable_answer(make_intake):
    intake = make_intake(FOLLOWUP_CHECKS_PER_MINUTE=3)
    mailbox = Codename.generate().derive().mailbox
    for _ in range(3):  # a circuit's first checks of a minute never meet the ceiling
        assert check(intake.client, str(Codename.generate())).status_code == 200
    assert check(intake.client, str(Codename.generate())).status_code == 200
    assert intake.client.get(f"/api/v1/mailboxes/{mailbox}/replies").status_code == 200
    assert check(intake.client, str(Codename.generate())).status_code == 200
    busy = check(intake.client, str(Codename.generate()), lang="ru")
    assert busy.status_code == 503
    assert "Подождите минуту" in busy.get_data(as_text=True)
    api = intake.client.get(f"/api/v1/mailboxes/{mailbox}/replies")
    assert api.status_code == 503 and api.json["error"] == "busy"
    assert "wait a minute" in api.json["message"]


def test_the_form_body_is_small_and_urlencoded(intake):
    big = intake.client.post(
        "/replies", data="codename=" + "a" * 5000, content_type="application/x-www-form-urlencoded"
    )
    assert big.status_code == 400
    multipart = intake.client.post(
        "/replies", data={"codename": "x"}, content_type="multipart/form-data"
    )
    assert multipart.status_code == 400


def test_the_replies_page_explains_both_ways_in_both_languages(intake):
    for lang, js, nojs in (
        ("en", "stays on this device", "working without JavaScript"),
        ("ru", "не покидает это устройство", "работает без JavaScript"),
    ):
        html = intake.client.get(f"/replies?lang={lang}").get_data(as_text=True)
        assert js in html and nojs in html
        assert f'action="/replies?lang={lang}"' in html


def test_the_language_switch_stays_on_the_replies_page(intake):
    html = intake.client.get("/replies?lang=en").get_data(as_text=True)
    assert 'href="/replies?lang=ru"' in html
    after = check(intake.client, str(Codename.generate())).get_data(as_text=True)
    assert 'href="/replies?lang=ru"' in after


def test_a_codename_check_arriving_in_pieces_is_read_whole(intake, live):
    """A chunked body (as a proxy may send it) is read to its end, within the bound."""
    import http.client

    codename = Codename.generate()
    body = f"codename={str(codename).replace(' ', '+')}".encode()
    connection = http.client.HTTPConnection(*live, timeout=10)
    connection.putrequest("POST", "/replies?lang=en")
    connection.putheader("Content-Type", "application/x-www-form-urlencoded")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    for start in range(0, len(body), 7):
        piece = body[start : start + 7]
        connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    connection.send(b"0\r\n\r\n")
    response = connection.getresponse()
    page = response.read().decode()
    assert response.status == 200 and 'id="no-replies"' in page
    connection.close()


def test_the_mailbox_salt_is_made_once_served_to_pages_and_required(intake) -> None:
    """docs/ADMIN.md: init makes the salt once and never replaces it; both pages hand it to
    their scripts; the app does not start without it."""
    from intake import create_app
    from intake.config import ConfigError
    from intake.setup import init_data_dir

    salt = salt_of(intake)
    path = intake.settings.data_dir / "mailbox-salt"
    assert path.read_text() == salt.hex() + "\n"
    init_data_dir(intake.settings)
    assert path.read_text() == salt.hex() + "\n"
    for page in ("/replies?lang=en", "/?lang=ru"):
        assert f'"mailbox_salt": "{salt.hex()}"' in intake.client.get(page).get_data(as_text=True)
    path.unlink()
    with pytest.raises(ConfigError, match="sealdrop-intake init"):
        create_app(intake.settings)
