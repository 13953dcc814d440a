"""Typed codenames (FORMAT.md §5.2, §5.3)."""

from __future__ import annotations

_SEPARATORS = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff0123456789-_.,;:/()"
)


def _fold(text: str) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFC", text).lower()
    return folded.translate(str.maketrans("ёйщъ", "еишь"))


def _osa_one(a: str, b: str) -> bool:
    """Optimal string alignment distance exactly 1, by brute force over the four edits."""
    if a == b:
        return False
    letters = set(a) | set(b)
    edits = {a[:i] + a[i + 1 :] for i in range(len(a))}
    edits |= {a[:i] + c + a[i:] for i in range(len(a) + 1) for c in letters}
    edits |= {a[:i] + c + a[i + 1 :] for i in range(len(a)) for c in letters}
    edits |= {a[:i] + a[i + 1] + a[i] + a[i + 2 :] for i in range(len(a) - 1)}
    return b in edits


def read_codename(text: str) -> dict:
    from pathlib import Path

    import mnemonic

    root = Path(__file__).resolve().parents[3] / "crypto" / "wordlists"
    lists = {lang: (root / f"{lang}.txt").read_text("utf-8").split() for lang in ("en", "ru")}
    bip39 = mnemonic.Mnemonic("english").wordlist
    pieces = [text]
    for separator in _SEPARATORS:
        pieces = [part for piece in pieces for part in piece.split(separator)]
    pieces = [p for p in (_fold(p) for p in pieces) if p]
    if len(pieces) != 8:
        return {"error": "count", "count": len(pieces)}
    words = [(lang, i, _fold(w)) for lang, ws in lists.items() for i, w in enumerate(ws)]

    def bip39_match(piece: str) -> str | None:
        if piece in bip39:
            return piece
        heads = [w for w in bip39 if len(piece) >= 4 and w[:4] == piece[:4]]
        return heads[0] if heads else None

    def names_new_word(piece: str) -> bool:
        heads = {w for _, _, w in words} | {w[:4] for _, _, w in words}
        return piece in heads or (len(piece) >= 4 and piece[:4] in heads)

    apart = sum(1 for p in pieces if names_new_word(p) and bip39_match(p) is None)
    if apart < 2:
        found = [bip39_match(p) for p in pieces]
        for number, word in enumerate(found, 1):
            if word is None:
                return {"error": "word", "position": number}
        canonical = " ".join(found)  # type: ignore[arg-type]
        return {"version": 1, "canonical": canonical, "secret_hex": canonical.encode().hex()}
    resolved = []
    for number, piece in enumerate(pieces, 1):
        rules = [lambda w, p=piece: w == p or w[:4] == p]
        if len(piece) >= 4:
            rules += [
                lambda w, p=piece: _osa_one(p, w),
                lambda w, p=piece: w[:4] == p[:4],
                lambda w, p=piece: _osa_one(p[:4], w[:4]),
            ]
        found = []
        for rule in rules:
            found = [(lang, i) for lang, i, w in words if rule(w)]
            if found:
                break
        if len(found) != 1:
            return {"error": "word", "position": number}
        resolved.append(found[0])
    language = resolved[0][0]
    positions = [i for _, i in resolved]
    return {
        "version": 2,
        "canonical": " ".join(lists[language][i] for i in positions),
        "secret_hex": b"".join(i.to_bytes(2, "big") for i in positions).hex(),
    }
