"""Codenames for anonymous follow-up, and the keys derived from them (docs/FORMAT.md §5).

A codename is eight words. Issued since version 2: eight positions in lists of 1,056 words,
written with the list of the page's language (crypto/wordlists: English and Russian; 80.36 bits,
80.19 for English, see ``entropy_bits``). The positions, not the words, are the secret: the same
codename typed in Russian or in English derives the same keys, so a codename opens replies on
any language's page. Codenames issued before (version 1) are eight words of the BIP39 English
list (88 bits); they are read by the rules they were issued with and keep their keys.

Typing is forgiven: any case, spacing, separators or numbering; ё for е (and й/и, щ/ш, ъ/ь);
a word by its first four letters; one wrong, missing, extra or swapped letter when that leaves
a single word. Which version a text is read as depends on how many of its words belong to a new
list and not to BIP39 (see ``Codename.parse``), so neither version is ever read as the other.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from . import _sodium, wordlists
from . import mailbox as mailboxes
from .errors import SealdropError
from .keys import Identity, PublicKey

WORD_COUNT = 8
LIST_SIZE = 1056
LEGACY_BITS = WORD_COUNT * 11  # 88
PREFIX = 4
APART_ISSUED = 3  # an English codename is issued with at least this many words apart from BIP39
APART_READ = 2  # a text with at least this many such words is read as version 2
LEGACY = "bip39"  # the language of a version 1 codename
LANGUAGES = wordlists.LANGUAGES
_LEGACY_LABEL = b"sealdrop-codename-v1"
_CODENAME_LABEL = b"sealdrop-codename-v2"
_REPLY_KEY_LABEL = b"sealdrop-reply-key-v1"
# White space, digits (people number the words they copy) and punctuation separate words. Spelt
# out rather than \s and \d, whose meaning differs between Python and JavaScript.
_SEPARATORS = re.compile(
    "[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff0-9\\-_.,;:/()]+"
)
_FOLD = str.maketrans("ёйщъ", "еишь")


class InvalidCodename(SealdropError):
    """The text is not a codename: wrong number of words (``count`` says how many there were),
    or a word not in the list (``position`` says which, from 1)."""

    def __init__(self, message: str, *, count: int | None = None, position: int | None = None):
        super().__init__(message)
        self.count = count
        self.position = position


def fold(text: str) -> str:
    """What matching compares: NFC, lower case, and letters that handwriting confuses merged."""
    return unicodedata.normalize("NFC", text).lower().translate(_FOLD)


# --- the lists -------------------------------------------------------------------------


@cache
def legacy_wordlist() -> tuple[str, ...]:
    from mnemonic import Mnemonic  # the BIP39 list; only the server needs it

    words = tuple(Mnemonic("english").wordlist)
    assert len(words) == 2048
    return words


@cache
def _legacy_index() -> dict[str, str]:
    """Version 1 rules, unchanged: a word, or its first four letters."""
    index = {word[:PREFIX]: word for word in legacy_wordlist()}
    index.update({word: word for word in legacy_wordlist()})
    return index


@dataclass(frozen=True)
class _Entry:
    language: str
    position: int
    folded: str


@cache
def _entries() -> tuple[_Entry, ...]:
    entries = []
    for language in LANGUAGES:
        words = wordlists.load(language)
        assert len(words) == LIST_SIZE
        entries += [_Entry(language, i, fold(word)) for i, word in enumerate(words)]
    return tuple(entries)


@cache
def _new_index() -> dict[str, _Entry]:
    index = {entry.folded[:PREFIX]: entry for entry in _entries()}
    index.update({entry.folded: entry for entry in _entries()})
    return index


# --- codenames ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplyKeys:
    identity: Identity  # holds the reply secret key: never store it
    mailbox: str  # what new submissions carry: the deployment's (v2) id, see Codename.derive
    verify_key: bytes  # Ed25519; proves a follow-up comes from the codename (crypto.followup)
    signing_key: bytes = b""  # its secret half: never store it
    legacy_mailbox: str = ""  # the id submissions sealed before mailbox v2 carry

    @property
    def mailboxes(self) -> tuple[str, ...]:
        """Every mailbox a check looks in: the current id, then the legacy one."""
        return tuple(dict.fromkeys(m for m in (self.mailbox, self.legacy_mailbox) if m))

    @property
    def public_key(self) -> PublicKey:
        return self.identity.public_key

    def __repr__(self) -> str:
        return f"ReplyKeys(mailbox={self.mailbox!r})"


@dataclass(frozen=True)
class Codename:
    words: tuple[str, ...]  # as shown: in ``language``'s list
    language: str  # "en", "ru", or LEGACY
    positions: tuple[int, ...] = ()  # version 2 only: the secret

    @classmethod
    def generate(cls, language: str = "en") -> Codename:
        """A new codename written in ``language``'s list; ``entropy_bits`` says how strong."""
        while True:
            positions = tuple(_sodium.random_below(LIST_SIZE) for _ in range(WORD_COUNT))
            codename = cls.from_positions(positions, language)
            if apart_from_legacy(codename.words) >= APART_ISSUED:
                return codename

    @classmethod
    def from_positions(cls, positions: tuple[int, ...], language: str = "en") -> Codename:
        words = wordlists.load(language)
        return cls(tuple(words[p] for p in positions), language, positions)

    @classmethod
    def parse(cls, text: str) -> Codename:
        """Reads a typed codename. Version 2 when at least two words are, whole or by their
        first four letters, words of a new list that BIP39 does not have (every version 2
        codename is issued with three, so one typo leaves two); version 1 otherwise, by the
        version 1 rules (which a version 1 codename with at most one mistyped word always
        gets). Raises InvalidCodename saying what is wrong."""
        typed = [word for word in _SEPARATORS.split(fold(text)) if word]
        if len(typed) != WORD_COUNT:
            raise InvalidCodename(
                f"a codename has {WORD_COUNT} words; this has {len(typed)}. "
                "Check the paper you wrote it on.",
                count=len(typed),
            )
        if apart_from_legacy(typed) < APART_READ:
            return _read_legacy(typed)
        found = []
        for number, word in enumerate(typed, start=1):
            entry = _resolve(word)
            if entry is None:
                raise InvalidCodename(
                    f"word {number} of the codename is not one of its words; check its spelling",
                    position=number,
                )
            found.append(entry)
        return cls.from_positions(tuple(e.position for e in found), found[0].language)

    def in_language(self, language: str) -> Codename:
        """The same codename written in another list (a version 1 codename stays as it is).
        An English spelling of a Russian codename reads back only when it has the words apart
        from BIP39 that `parse` needs; a codename issued in English always has them."""
        if self.language == LEGACY:
            return self
        return Codename.from_positions(self.positions, language)

    @property
    def legacy(self) -> bool:
        return self.language == LEGACY

    def secret(self) -> bytes:
        """What keys are derived from: for version 2 the eight positions, each two bytes
        big-endian (16 bytes), for version 1 the canonical text."""
        if self.legacy:
            return " ".join(self.words).encode("ascii")
        return b"".join(position.to_bytes(2, "big") for position in self.positions)

    def __str__(self) -> str:
        return " ".join(self.words)

    def __repr__(self) -> str:
        return f"Codename(<hidden>, language={self.language!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Codename) and self.secret() == other.secret()

    def __hash__(self) -> int:
        return hash(self.secret())

    def master(self) -> bytes:
        """The master secret every key and mailbox of the codename comes from."""
        label = _LEGACY_LABEL if self.legacy else _CODENAME_LABEL
        return _sodium.keyed_hash(label, self.secret(), 32)

    def derive(self, deployment_salt: bytes | None = None) -> ReplyKeys:
        """The keys and mailboxes of this codename. With the deployment's mailbox salt (what
        a server and its pages always pass), ``mailbox`` is the mailbox v2 id; without one
        (tools that know no deployment) it is the legacy id, as ``legacy_mailbox`` always is."""
        master = self.master()
        seed = _sodium.keyed_hash(_REPLY_KEY_LABEL, master, 32)
        legacy = mailboxes.legacy_id(master)
        current = legacy if deployment_salt is None else mailboxes.v2_id(master, deployment_salt)
        verify_key, signing_key = _sodium.sign_seed_keypair(seed)
        identity = Identity(_sodium.sign_secret_to_box(signing_key))
        return ReplyKeys(identity, current, verify_key, signing_key, legacy)


def new_codename(language: str) -> Codename:
    """A new codename in the list of the page's language (English for any other language)."""
    return Codename.generate(language if language in LANGUAGES else "en")


# --- reading -------------------------------------------------------------------------------


def _legacy_match(word: str) -> str | None:
    index = _legacy_index()
    return index.get(word) or (index.get(word[:PREFIX]) if len(word) >= PREFIX else None)


def _read_legacy(typed: list[str]) -> Codename:
    words = []
    for number, word in enumerate(typed, start=1):
        match = _legacy_match(word)
        if match is None:
            raise InvalidCodename(
                f"word {number} of the codename is not one of its words; check its spelling",
                position=number,
            )
        words.append(match)
    return Codename(tuple(words), LEGACY)


def apart_from_legacy(words: list[str] | tuple[str, ...]) -> int:
    """How many of the (folded) words are, whole or by their first four letters, words of a
    new list, and are not BIP39 words by the version 1 rules."""
    index = _new_index()
    return sum(
        1
        for word in words
        if (word in index or (len(word) >= PREFIX and word[:PREFIX] in index))
        and _legacy_match(word) is None
    )


def entropy_bits(language: str) -> float:
    """The strength of a codename issued in ``language``: log2 of how many codenames can be
    issued (all 1,056^8 in Russian; in English those with three words apart from BIP39)."""
    words = wordlists.load(language)
    apart = apart_from_legacy(tuple(fold(word) for word in words))
    close = len(words) - apart
    floor = APART_ISSUED if language == "en" else 0
    count = sum(
        math.comb(WORD_COUNT, j) * apart**j * close ** (WORD_COUNT - j)
        for j in range(floor, WORD_COUNT + 1)
    )
    return math.log2(count)


def _resolve(word: str) -> _Entry | None:
    """The list word a typed word means, or None when there is none or more than one. In
    order, the first rule that finds anything decides: a whole word or exactly a word's first
    four letters; then, for four letters or more, a word one edit away; a word whose first
    four letters are the typed word's; a word whose first four are one edit from them. (An
    edit to the whole word comes before the first four letters: that halves the typos read as
    another word.)"""
    index = _new_index()
    if word in index:
        return index[word]
    if len(word) < PREFIX:
        return None
    head = word[:PREFIX]
    for matches in (
        lambda e: _one_edit(word, e.folded),
        lambda e: e.folded[:PREFIX] == head,
        lambda e: _one_edit(head, e.folded[:PREFIX]),
    ):
        found = [entry for entry in _entries() if matches(entry)]
        if found:
            return found[0] if len(found) == 1 else None
    return None


def _one_edit(a: str, b: str) -> bool:
    """True when a and b differ by exactly one insertion, deletion, substitution, or swap of
    two neighbouring letters (optimal string alignment distance 1)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        if a[i + 1 :] == b[i + 1 :]:
            return True
        return a[i + 2 :] == b[i + 2 :] and a[i] == b[i + 1] and a[i + 1] == b[i]
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return longer[i + 1 :] == shorter[i:]
