"""Nothing typed or shown is lost without a word: a no-JS error hands the message (and a
follow-up's codename) back in the form, a wrong codename stays as typed, the no-JS language
switch keeps the codename, and a page that lost it says so."""

from __future__ import annotations

import html
import re

from crypto.codename import Codename

from .conftest import check, codename_of, submit


def field(page: str, element_id: str) -> str:
    match = re.search(rf'<textarea id="{element_id}"[^>]*>(.*?)</textarea>', page, re.S)
    assert match, f"no #{element_id} on the page"
    return html.unescape(match.group(1))


def test_a_no_js_error_hands_back_the_message_and_codename_as_typed(intake):
    typed = "NOT a codename, only seven words"
    message = "Привет <b>& everything I wrote</b>\nsecond line"
    response = submit(intake.client, message, codename=typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "<title>Your message was not sent</title>" in page
    assert 'id="error-message" class="error" role="alert"' in page
    assert field(page, "message") == message
    assert field(page, "followup-codename") == typed
    assert 'action="/submit?lang=en"' in page
    assert '<div id="server-notice" class="notice">' in page  # this form seals on the server
    assert "<b>&" not in page  # handed back as text, never markup


def test_a_wrong_codename_stays_as_typed(intake):
    typed = "apple banana  CHERRY"
    page = check(intake.client, typed).get_data(as_text=True)
    assert field(page, "codename-input") == typed
    assert 'class="error"' in page


def test_404_is_not_a_failed_message(intake):
    page = intake.client.get("/no/such/page?lang=ru").get_data(as_text=True)
    assert "<title>Такой страницы нет</title>" in page
    assert "не отправлено" not in page


def test_the_no_js_language_switch_keeps_the_codename(intake):
    response = submit(intake.client, "a message")
    codename = codename_of(response)
    page = response.get_data(as_text=True)
    # The switch is a form that posts the codename back, not a link that would lose it.
    assert 'action="/sent?lang=ru"' in page and 'href="/?lang=ru"' not in page
    russian = intake.client.post(
        "/sent?lang=ru",
        data={"codename": codename},
        content_type="application/x-www-form-urlencoded",
    )
    text = russian.get_data(as_text=True)
    assert '<html lang="ru" dir="ltr">' in text and "Ваше кодовое имя" in text
    assert codename_of(russian) == codename
    assert text.count('<span class="word">') == 8
    lost = intake.client.post(
        "/sent?lang=en", data={"codename": "x"}, content_type="application/x-www-form-urlencoded"
    ).get_data(as_text=True)
    assert 'id="codename-lost"' in lost


def test_a_page_that_lost_the_codename_says_so_and_what_to_do(intake):
    page = intake.client.get("/sent?lang=en").get_data(as_text=True)
    assert 'id="codename-lost"' in page and "send a new message" in page


def test_the_form_warns_about_the_codename_and_photos_and_offers_replies_first(intake):
    page = intake.client.get("/?lang=en").get_data(as_text=True)
    order = [
        page.index('id="replies-link"'),
        page.index('id="codename-warning"'),
        page.index('<form id="submit-form"'),
        page.index('class="hint paper-reminder"'),
        page.index('<button id="send"'),
    ]
    assert order == sorted(order)
    # Without the script: what the person can do about a photo's location (issue 20).
    assert (
        '<p id="strip-nojs" class="hint">Photos and videos can show where they were taken' in page
    )
    assert '<div id="strip-js" class="hint" hidden>' in page


def test_the_codename_is_shown_numbered_word_by_word(intake):
    response = submit(intake.client, "numbered")
    page = response.get_data(as_text=True)
    words = re.findall(r'<span class="number">(\d)</span> <span class="word">(\S+)</span>', page)
    assert [number for number, _ in words] == [str(n) for n in range(1, 9)]
    assert " ".join(word for _, word in words) == codename_of(response)
    assert Codename.parse(codename_of(response))
