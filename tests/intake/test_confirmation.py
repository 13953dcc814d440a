"""The no-JS confirmation page is rendered once per language and kind, then filled in: it
must be the very page the template renders for that codename."""

from __future__ import annotations

import pytest
from flask import render_template

from crypto.codename import new_codename
from intake.confirmation import confirmation_page

from .conftest import Intake


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("again", [False, True])
def test_the_filled_in_page_is_the_rendered_page(intake: Intake, lang: str, again: bool) -> None:
    codenames = [str(new_codename(lang)) for _ in range(2)]
    codenames += ["", "a<b c&d e\"f g'h i j k l", "only three words"]
    with intake.app.test_request_context(f"/submit?lang={lang}", method="POST"):
        for codename in codenames:
            expected = render_template("submitted.html", codename=codename, again=again)
            assert confirmation_page(codename, again=again) == expected
        assert codenames[0].split()[0] in confirmation_page(codenames[0])
