"""The way back never fails silently (issue 20): a codename copied down the columns of the old
two-column grid still finds its replies, a codename without replies is told to compare the
words and their order before writing, the follow-up form carries only the codename just
checked, and the no-JS language switch keeps what was typed."""

from __future__ import annotations

import html
import re

from crypto.codename import Codename
from intake.replies import import_replies

from .conftest import check, reply_bundle

COLUMNS = (0, 2, 4, 6, 1, 3, 5, 7)  # what copying 1 2 / 3 4 / 5 6 / 7 8 down the columns gives


def followup_codename(page: str) -> str:
    match = re.search(
        r'<input type="hidden" id="followup-codename" name="codename" value="([^"]*)"', page
    )
    assert match, "no follow-up codename on the page"
    return html.unescape(match.group(1))


def test_column_order_finds_the_replies_and_says_the_right_order(intake, tmp_path):
    codename = Codename.generate("ru")
    import_replies(intake.app, reply_bundle(tmp_path / "r.tar", codename, "ответ ждёт"))
    words = str(codename).split()
    copied = " ".join(words[i] for i in COLUMNS)
    page = check(intake.client, copied, lang="ru").get_data(as_text=True)
    assert "ответ ждёт" in page
    assert 'id="reordered" hidden' not in page and 'id="reordered"' in page
    assert followup_codename(page) == str(codename)
    assert str(codename) in page  # the codename box shows the issued order, to write down
    # Typed in the right order: no note about the order.
    right = check(intake.client, str(codename), lang="ru").get_data(as_text=True)
    assert "ответ ждёт" in right and 'id="reordered" hidden' in right


def test_no_replies_says_to_check_the_order_before_offering_to_write(intake):
    codename = Codename.generate("en")
    page = check(intake.client, str(codename)).get_data(as_text=True)
    none = page.split('id="no-replies">')[1].split("</p>")[0]
    assert "in the same order" in none
    warning = page.index('id="followup-order-warning"')
    assert 'id="followup-order-warning" class="notice paper" hidden' not in page
    assert warning < page.index('id="submit-form"')
    assert followup_codename(page) == str(codename)


def test_a_failed_check_offers_no_follow_up(intake):
    first = Codename.generate("en")
    check(intake.client, str(first))
    page = check(intake.client, "apple banana").get_data(as_text=True)
    assert str(first) not in page
    assert '<section id="followup" hidden>' in page
    assert followup_codename(page) == ""


def test_the_no_js_language_switch_posts_the_typed_codename(intake):
    page = intake.client.get("/replies?lang=en").get_data(as_text=True)
    switch = re.search(r'<button type="submit" form="codename-form"[^>]*lang="ru"[^>]*>', page)
    assert switch and 'formaction="/replies?lang=ru"' in switch.group(0)
    typed = "  some words typed so far"
    russian = check(intake.client, typed, lang="ru").get_data(as_text=True)
    assert '<html lang="ru"' in russian and html.escape(typed) in russian
    empty = check(intake.client, "   ", lang="ru")
    assert empty.status_code == 200 and 'class="error"' not in empty.get_data(as_text=True)


def test_the_delete_question_opens_in_view(intake, tmp_path):
    """Without JS the question is a new page: its address's fragment scrolls to it (a phone
    would otherwise show the top of the page and the question far below)."""
    codename = Codename.generate("en")
    import_replies(intake.app, reply_bundle(tmp_path / "r.tar", codename, "a reply"))
    page = check(intake.client, str(codename)).get_data(as_text=True)
    assert 'action="/replies/delete?lang=en#delete-confirm"' in page
    asked = intake.client.post(
        "/replies/delete?lang=en",
        data={"codename": str(codename), "reply": "r1"},
        content_type="application/x-www-form-urlencoded",
    ).get_data(as_text=True)
    assert 'id="delete-confirm"' in asked
