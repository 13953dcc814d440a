"""The submission page's first load (issue 22: at most 40 KB as served, over Tor, often on a
phone), with three reviewers who each sent their weekly keys: the page, its style and script,
the worker, the weekly keys and the codename list, each as a browser accepting gzip gets it.
Only answers that are the same for everyone are compressed (intake/compress.py: BREACH); a
page carrying a codename never is."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from crypto import Identity
from crypto.team import Member
from intake import create_app, epochs
from intake.assets import STATIC_DIR
from intake.setup import init_data_dir
from reviewer import epochs as runway
from reviewer.vault import Vault
from tests.support import first_load

from .helpers import post_form

GZIP = {"Accept-Encoding": "gzip, deflate"}


@pytest.fixture
def team_app(tmp_path: Path):
    if not (STATIC_DIR / "js" / "worker.js").is_file():
        pytest.fail("the JS bundle is not built: run `make js`")
    cards, texts = [], []
    for number in range(3):
        reviewer = Identity.generate()
        card = tmp_path / f"r{number}.card"
        card.write_text(Member.of(reviewer, f"r{number}").card_text(), encoding="utf-8")
        cards.append(str(card))
        texts.append(runway.top_up(Vault(tmp_path / f"vault{number}"), reviewer))
    config = {"DATA_DIR": str(tmp_path / "data"), "RECIPIENTS": cards, "DISK_RESERVE_BYTES": 0}
    settings = init_data_dir(config)
    epochs.store(settings, epochs.check(settings, texts)[0])
    return create_app(config)


def test_the_list_is_what_the_built_scripts_load() -> None:
    app_js = (STATIC_DIR / "js" / "app.js").read_text(encoding="utf-8")
    worker = (STATIC_DIR / "js" / "worker.js").read_text(encoding="utf-8")
    assert first_load.WORKER in app_js
    assert first_load.EPOCHS in worker and "/static/js/words-" in worker
    assert "sodium" not in app_js + worker  # format v2: no libsodium on the submission page


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_first_load_with_three_reviewers_is_under_the_target(team_app, lang: str) -> None:
    client = team_app.test_client()
    html = client.get(f"/?lang={lang}").get_data(as_text=True)
    paths = first_load.paths(html, lang)
    assert {"/static/css/style.css", "/static/js/app.js"} <= set(paths)
    assert not [p for p in paths if "sodium" in p]
    served = {path: client.get(path, headers=GZIP) for path in paths}
    assert all(r.status_code == 200 for r in served.values())
    reviewers = served[first_load.EPOCHS].headers  # the weekly keys came, compressed
    assert reviewers["Content-Encoding"] == "gzip"
    document = gzip.decompress(served[first_load.EPOCHS].get_data())
    assert document.count(b"sealdrop-epochs-v1") == 3
    total = sum(len(r.get_data()) for r in served.values())
    sizes = {p: len(r.get_data()) for p, r in served.items()}
    assert total <= first_load.TARGET_BYTES, sizes


def test_only_the_same_for_everyone_answers_are_compressed(team_app) -> None:
    client = team_app.test_client()
    page = client.get("/?lang=ru", headers=GZIP)
    plain = client.get("/?lang=ru")
    assert page.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in page.vary
    assert gzip.decompress(page.get_data()) == plain.get_data()
    assert "Content-Encoding" not in plain.headers and "Accept-Encoding" in plain.vary
    assert client.get("/api/v1/config", headers=GZIP).headers["Content-Encoding"] == "gzip"
    # a codename page, and the follow-up page: never compressed, whatever the browser accepts
    sent = post_form(client, "a message whose page shows a codename", headers=GZIP)
    assert sent.status_code == 200 and "Content-Encoding" not in sent.headers
    assert b"codename" in sent.get_data().lower()
    for path in ("/sent", "/replies"):
        assert "Content-Encoding" not in client.get(path, headers=GZIP).headers
