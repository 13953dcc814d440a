"""The deployment's mailbox salt (crypto/mailbox.py): 16 random bytes made by `init`, kept as
hex in DATA_DIR/mailbox-salt, served to every page, and never changed: every mailbox v2 id of
the deployment depends on it (docs/ADMIN.md says what losing it means). It is public: it
makes a guess good for one deployment only, it hides nothing."""

from __future__ import annotations

import os
import re
from pathlib import Path

from flask import current_app

from crypto.mailbox import SALT_BYTES, new_salt

from .config import ConfigError

FILE_NAME = "mailbox-salt"
_HEX = re.compile(rf"[0-9a-f]{{{2 * SALT_BYTES}}}")


def ensure(data_dir: Path) -> bytes:
    """The salt, made now if this data directory has none (never replaced once made)."""
    path = data_dir / FILE_NAME
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load(data_dir)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(new_salt().hex() + "\n")
        handle.flush()
        os.fsync(handle.fileno())  # on disk before any page can use it
    return load(data_dir)


def load(data_dir: Path) -> bytes:
    path = data_dir / FILE_NAME
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        raise ConfigError(
            f"{path} is missing or unreadable; run `sealdrop-intake init` (docs/ADMIN.md, "
            "'The mailbox salt')"
        ) from None
    if not _HEX.fullmatch(text):
        raise ConfigError(f"{path} must hold {SALT_BYTES} bytes as lower-case hex")
    return bytes.fromhex(text)


def current() -> bytes:
    """The serving app's salt (read once by create_app)."""
    salt: bytes = current_app.extensions["sealdrop_mailbox_salt"]
    return salt
