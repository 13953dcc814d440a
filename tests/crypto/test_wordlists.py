"""The codename word lists (crypto/wordlists/*.txt) obey every rule docs/FORMAT.md §5 states.

The rules are mechanical on purpose: a list edited by hand must pass them all before it ships.
Whether a word is common, concrete and calm is judged by people; what can be checked is here.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

import pytest

from crypto import wordlists
from crypto.codename import LIST_SIZE, entropy_bits, fold

ALPHABETS = {"en": re.compile(r"[a-z]+"), "ru": re.compile(r"[а-яё]+")}
LENGTHS = range(3, 11)

# Charged words: violence, police, law, prison, spying, escape, sex, religion, politics, drugs
# (and their slang), money trouble, illness, death, and slang for those or for gay people, in
# Russian or English. A stem denies every word it begins (after folding); a short word is denied
# alone, so that innocent longer words sharing its letters stay possible.
_EN_STEMS = """
        police prison jail arrest spy spie kiss betray bomb rifle pistol knife blade sword kill
        murder blood army soldier weapon bullet shoot fight attack drug pills weed hemp coke crack
        heroin opium poppy needle syringe sex nude naked love lover gay queer fag rainbow pink
        cock fairy pansy queen church pray holy devil angel bible mosque priest saint cross
        death dead grave coffin ghost skull bank money cash debt loan coin court judge crime
        thief steal escape flee border passport visa ticket sick virus cancer hospital
        doctor fever vote president party rebel protest flag secret hide hidden camera
        phone radio wire tape record agent torch fire smoke poison chain rope handcuff
        bars lock trap hammer razor wine beer vodka whisky whiskey liquor pork bacon snake
        canary copper mule rubber magazine barrel collar stocking toilet bidet stool
        """
_RU_STEMS = """
        полиц милиц мент тюрьм тюрем арест шпион поцел бомб оруж нож пистол автомат ружь
        винтов убий убит кров войн армия армей солдат пуля пули стрел драк нарко таблет шприц
        игл секс голый голая любов любим гей голуб петух петуш радуг розов киск бог церк
        храм мечет молит свят крест ангел черт смерт мертв могил гроб призрак череп банк
        деньг долг кредит налог закон краж граб побег бегле границ паспорт виза билет
        болезн больн больниц вирус врач лекар аптек выбор партия партии митинг флаг тайн
        прят камер телефон радио провод запис агент огонь пожар газов отрав цеп верев наруч
        решет замок ловуш мусор крыс козел стукач дятел ствол пушк маслин трав шишк колес
        марк закладк клубник курица курить курен параш пахан сучк водк пиво вино коньяк
        свин сало окур сигар табак сухар бутылк швабр утюг подвал чебурек яйц капуст хрен
        гвоздик мясоруб паровоз фуфайк повязк резинк жмур
        """
_EN_WORDS = """cop gun war die ill tax god ash pot ice rat pig ham axe law rob tit bum pain pill
    tie bog"""
_RU_WORDS = """газ рак жар боль кур кис коз сук лох яд дым вор суд бес зона соль фен малина осел
    сучок"""
DENIED_STEMS = {"en": _EN_STEMS.split(), "ru": _RU_STEMS.split()}
DENIED_WORDS = {"en": _EN_WORDS.split(), "ru": _RU_WORDS.split()}


def _lists():
    return {language: wordlists.load(language) for language in wordlists.LANGUAGES}


def test_sizes_and_bits():
    for words in _lists().values():
        assert len(words) == LIST_SIZE == 1056
    assert min(entropy_bits(lang) for lang in wordlists.LANGUAGES) >= 80


@pytest.mark.parametrize("language", ["en", "ru"])
def test_alphabet_length_and_normal_form(language):
    for word in wordlists.load(language):
        assert ALPHABETS[language].fullmatch(word), word
        assert len(word) in LENGTHS, word
        assert unicodedata.normalize("NFC", word) == word


@pytest.mark.parametrize("language", ["en", "ru"])
def test_unique_prefixes_after_folding(language):
    words = wordlists.load(language)
    folded = [fold(word) for word in words]
    assert len(set(folded)) == len(folded)
    assert len({word[:4] for word in folded}) == len(folded)
    for word in folded:
        for other in folded:
            assert word == other or not other.startswith(word), (word, other)


def test_lists_are_the_ones_format_md_pins():
    # A list's order is part of the format: changing it changes every codename's keys.
    pinned = {
        "en": "4efa5fcad9a6b5cc5db5d938248ea7d75db6222a32c16174bc29ae31bede7c33",
        "ru": "02a492ce81c1c96702c9fdcf47f1a4bfec20bf719e8a8bffe9cf9cd0f017b2b3",
    }
    for language, digest in pinned.items():
        text = "".join(f"{word}\n" for word in wordlists.load(language))
        assert hashlib.sha256(text.encode("utf-8")).hexdigest() == digest


def test_the_browser_has_the_same_lists():
    shipped = Path(__file__).parents[2] / "intake" / "static" / "src" / "wordlists.js"
    assert shipped.read_text(encoding="utf-8") == wordlists.javascript(), (
        "regenerate it: python -m crypto.wordlists > intake/static/src/wordlists.js"
    )


def test_lists_do_not_share_a_prefix():
    en, ru = (frozenset(fold(w)[:4] for w in wordlists.load(lang)) for lang in ("en", "ru"))
    assert not en & ru


@pytest.mark.parametrize("language", ["en", "ru"])
def test_no_charged_word(language):
    words = {fold(denied) for denied in DENIED_WORDS[language]}
    stems = tuple(fold(stem) for stem in DENIED_STEMS[language])
    for word in wordlists.load(language):
        assert fold(word) not in words, word
        assert not fold(word).startswith(stems), word
