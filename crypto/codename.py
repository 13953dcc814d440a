"""Codenames for anonymous follow-up, and the reply keys derived from them.

A codename is eight words drawn uniformly from the BIP39 English list (2,048 words, so 88 bits).
Each word is identified by its first four letters, so a misspelt ending is forgiven. From the
codename alone, anyone holding it derives a reply key pair (reviewers seal replies to its public
half) and a mailbox id (where the server keeps those replies). See docs/FORMAT.md, section 5.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from functools import cache

from . import _sodium
from .errors import SealdropError
from .keys import Identity, PublicKey

WORD_COUNT = 8
ENTROPY_BITS = WORD_COUNT * 11
_CODENAME_LABEL = b"sealdrop-codename-v1"
_REPLY_KEY_LABEL = b"sealdrop-reply-key-v1"
_MAILBOX_LABEL = b"sealdrop-mailbox-v1"
_SEPARATORS = re.compile(r"[\s\-_.,;:/]+")


class InvalidCodename(SealdropError):
    """The text is not a codename: wrong number of words (``count`` says how many there were),
    or a word not in the list (``position`` says which, from 1)."""

    def __init__(self, message: str, *, count: int | None = None, position: int | None = None):
        super().__init__(message)
        self.count = count
        self.position = position


@cache
def wordlist() -> tuple[str, ...]:
    from mnemonic import Mnemonic  # the BIP39 list; only the server needs it

    words = tuple(Mnemonic("english").wordlist)
    assert len(words) == 2048
    return words


@cache
def _by_prefix() -> dict[str, str]:
    index = {word[:4]: word for word in wordlist()}
    index.update({word: word for word in wordlist()})
    return index


@dataclass(frozen=True)
class ReplyKeys:
    identity: Identity  # holds the reply secret key: never store it
    mailbox: str

    @property
    def public_key(self) -> PublicKey:
        return self.identity.public_key


@dataclass(frozen=True)
class Codename:
    words: tuple[str, ...]

    @classmethod
    def generate(cls) -> Codename:
        words = wordlist()
        return cls(tuple(words[_sodium.random_below(len(words))] for _ in range(WORD_COUNT)))

    @classmethod
    def parse(cls, text: str) -> Codename:
        """Accepts any case, spacing and separators; each word by its first four letters."""
        typed = [word for word in _SEPARATORS.split(text.strip().lower()) if word]
        if len(typed) != WORD_COUNT:
            raise InvalidCodename(
                f"a codename has {WORD_COUNT} words; this has {len(typed)}. "
                "Check the paper you wrote it on.",
                count=len(typed),
            )
        index = _by_prefix()
        words = []
        for position, word in enumerate(typed, start=1):
            match = index.get(word) or (index.get(word[:4]) if len(word) >= 4 else None)
            if match is None:
                raise InvalidCodename(
                    f"word {position} of the codename is not one of its words; check its spelling",
                    position=position,
                )
            words.append(match)
        return cls(tuple(words))

    def __str__(self) -> str:
        return " ".join(self.words)

    def __repr__(self) -> str:
        return "Codename(<hidden>)"

    def derive(self) -> ReplyKeys:
        master = _sodium.keyed_hash(_CODENAME_LABEL, str(self).encode("ascii"), 32)
        seed = _sodium.keyed_hash(_REPLY_KEY_LABEL, master, 32)
        mailbox = _sodium.keyed_hash(_MAILBOX_LABEL, master, 16)
        identity = Identity(_sodium.box_secret_from_seed(seed))
        return ReplyKeys(identity, base64.b32encode(mailbox).decode("ascii").rstrip("=").lower())
