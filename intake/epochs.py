"""Reviewers' epoch statements on the server (docs/FORMAT.md section 10): checked on import
against the configured reviewers' member cards, stored unchanged, served to the page, and
used by the no-JS path to pick the key each reviewer's stanza is sealed to.

A reviewer's recipient file that is a member card (it has a ``signing-key:`` line) is what
makes that reviewer's statements acceptable; a plain public key file means no epochs for that
reviewer (sealed to the long-term key, and `status` says so).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from crypto import PublicKey
from crypto.bundle import BundleError, hour_stamp
from crypto.epochs import SKEW_SECONDS, Statement, StatementError, read_statement, sealing_key
from crypto.errors import InvalidPublicKey
from crypto.team import SigningPublicKey

from .config import Settings
from .storage import blur_time

WARN_DAYS = 21
T = TypeVar("T")
# path: (identity of the file, its verified statement). File times are blurred to the hour,
# so the identity is the inode (a new statement is a new file renamed into place) and size.
_cache: dict[str, tuple[tuple[int, int, int], Statement | None]] = {}
# The same for the recipient files' signing keys (path: (identity, key)).
_cards: dict[str, tuple[tuple[int, int, int], SigningPublicKey | None]] = {}


def directory(settings: Settings) -> Path:
    return settings.data_dir / "epochs"


def signing_key_of(path: Path) -> SigningPublicKey | None:
    """The ``signing-key:`` line of a member card (None for a plain public key file). Read
    again only when the file changed: every uploaded text's header check asks (issue 18)."""
    try:
        return _read_if_changed(_cards, path, _read_signing_key)
    except OSError:
        return None


def _read_if_changed(
    cache: dict[str, tuple[tuple[int, int, int], T]], path: Path, read: Callable[[Path], T]
) -> T:
    """``read(path)``, or what it gave last time if the file is the same (its inode, size and
    modification time); OSError if it is gone."""
    info = os.stat(path)
    stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
    cached = cache.get(str(path))
    if cached is None or cached[0] != stamp:
        cached = (stamp, read(path))
        cache[str(path)] = cached
    return cached[1]


def _read_signing_key(path: Path) -> SigningPublicKey | None:
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for line in lines:
        name, _, value = line.strip().partition(":")
        if name.strip() == "signing-key":
            try:
                return SigningPublicKey.from_line(value.strip())
            except InvalidPublicKey:
                return None
    return None


def _reviewers(settings: Settings) -> list[tuple[PublicKey, SigningPublicKey | None]]:
    return [
        (key, signing_key_of(path))
        for key, path in zip(settings.recipients, settings.recipient_files, strict=True)
    ]


def check(
    settings: Settings, texts: list[str], now: float | None = None
) -> tuple[list[tuple[Statement, str]], list[str]]:
    """The statements of a replies bundle, each verified against a configured reviewer's card,
    with their texts; BundleError (naming why) for any that is forged or malformed, so the
    import stores nothing. A statement of a reviewer whose recipient file has no signing key
    cannot be checked: it is set aside (the second list says so) and the replies still go
    through, sealed to that reviewer's long-term key as before."""
    now = time.time() if now is None else now
    checked = []
    set_aside = []
    for text in texts:
        line = text.split("\n", 2)[1] if text.count("\n") >= 2 else ""
        named = line.removeprefix("reviewer: ")
        match = [(key, signing) for key, signing in _reviewers(settings) if key.line == named]
        if not match:
            raise BundleError(
                "the bundle carries weekly keys of a reviewer this server does not seal to; "
                "nothing was imported"
            )
        key, signing = match[0]
        if signing is None:
            set_aside.append(
                f"the weekly keys of reviewer {key.key_id_hex} were set aside: their recipient "
                "file is not a member card (no signing-key line) to check them against; "
                "configure their member card (docs/ADMIN.md) and they come with the next export"
            )
            continue
        try:
            statement = read_statement(text, key, signing)
        except StatementError as error:
            raise BundleError(f"{error}; nothing was imported") from None
        if statement.expired(now):
            raise BundleError(
                f"the weekly keys of reviewer {key.key_id_hex} are all over; nothing was "
                "imported (the reviewer's tool makes new ones: export again)"
            )
        held = current(settings).get(key.key_id_hex)
        if held is not None and held.issued > statement.issued:
            raise BundleError(
                f"the bundle's weekly keys of reviewer {key.key_id_hex} are older than the "
                "ones the server has; nothing was imported"
            )
        checked.append((statement, text))
    return checked, set_aside


def store(settings: Settings, statements: list[tuple[Statement, str]]) -> None:
    folder = directory(settings)
    folder.mkdir(mode=0o700, exist_ok=True)
    for statement, text in statements:
        target = folder / f"{statement.reviewer.key_id_hex}.txt"
        temporary = folder / f".{target.name}.tmp-{os.getpid()}"
        with temporary.open("w", encoding="ascii") as out:
            out.write(text)
            out.flush()
            blur_time(out.fileno())  # invariant 3: file times to the hour, like every file here
            os.fsync(out.fileno())
        os.replace(temporary, target)
    if statements:
        blur_time(folder)
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def texts(settings: Settings) -> dict[str, str]:
    """The stored statements by reviewer key id, as the reviewers signed them."""
    folder = directory(settings)
    found = {}
    for key in settings.recipients:
        path = folder / f"{key.key_id_hex}.txt"
        if path.exists():
            found[key.key_id_hex] = path.read_text("ascii")
    return found


def current(settings: Settings) -> dict[str, Statement]:
    """The stored statements that still verify, by reviewer key id (checked again on read,
    cached while the file is unchanged)."""
    folder = directory(settings)
    result = {}
    for key, signing in _reviewers(settings):
        path = folder / f"{key.key_id_hex}.txt"
        if signing is None:
            continue
        try:
            statement = _read_if_changed(_cache, path, partial(_verified, key, signing))
        except FileNotFoundError:
            continue
        if statement is not None:
            result[key.key_id_hex] = statement
    return result


def _verified(key: PublicKey, signing: SigningPublicKey, path: Path) -> Statement | None:
    try:
        return read_statement(path.read_bytes(), key, signing)
    except StatementError:
        return None


def sealing_keys(settings: Settings, now: float | None = None) -> list[PublicKey]:
    """The key each reviewer's stanza is sealed to now (FORMAT.md 10.2)."""
    now = time.time() if now is None else now
    statements = current(settings)
    return [sealing_key(statements.get(k.key_id_hex), k, now) for k in settings.recipients]


def acceptable_key_ids(settings: Settings, now: float | None = None) -> list[set[str]]:
    """Per reviewer, the key ids an uploaded envelope may use for them: the long-term key, or
    an epoch key not over yet (a device clock running ahead may pick a later week)."""
    now = time.time() if now is None else now
    statements = current(settings)
    accepted = []
    for key in settings.recipients:
        ids = {key.key_id_hex}
        statement = statements.get(key.key_id_hex)
        if statement is not None:
            ids |= {e.public_key.key_id_hex for e in statement.epochs if e.not_after > now}
        accepted.append(ids)
    return accepted


def served(settings: Settings, now: float | None = None) -> dict[str, object]:
    """GET /api/v1/epochs (FORMAT.md 10.3)."""
    now = time.time() if now is None else now
    stored = texts(settings)
    statements = current(settings)
    return {
        "format": "sealdrop-epochs",
        "now": hour_stamp(now),
        "skew_hours": SKEW_SECONDS // 3600,
        "reviewers": [
            {
                "public_key": key.line,
                "signing_key": signing.line if signing is not None else None,
                "statement": stored[key.key_id_hex] if key.key_id_hex in statements else None,
            }
            for key, signing in _reviewers(settings)
        ],
    }


def warnings(
    settings: Settings, now: float | None = None, *, lapses_only: bool = False
) -> list[str]:
    """Sentences for `status` and `check`: reviewers sealed to without forward secrecy now,
    or whose weekly keys run out within WARN_DAYS (``lapses_only``: only reviewers who had
    weekly keys imported, i.e. whose runway lapses or is about to)."""
    now = time.time() if now is None else now
    statements = current(settings)
    found = []
    for key, signing in _reviewers(settings):
        if lapses_only and key.key_id_hex not in statements:
            continue
        statement = statements.get(key.key_id_hex)
        if statement is None or statement.current(now) is None:
            why = (
                "their recipient file is not a member card"
                if signing is None
                else "no current weekly keys were imported"
            )
            found.append(
                f"reviewer {key.key_id_hex}: submissions are sealed to their long-term key, "
                f"without forward secrecy ({why})"
            )
        elif statement.ends - now < WARN_DAYS * 86400:
            found.append(
                f"reviewer {key.key_id_hex}: weekly keys run out on "
                f"{hour_stamp(statement.ends)}; ask them to export replies (it makes new ones)"
            )
    return found
