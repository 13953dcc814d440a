"""Configuration: from SEALDROP_* environment variables, or a dict passed to create_app.

Keys (dict form / environment variable):

    DATA_DIR               SEALDROP_DATA_DIR               required
    DATABASE_URL           SEALDROP_DATABASE_URL           default: sqlite in DATA_DIR (WAL)
    RECIPIENTS             SEALDROP_RECIPIENTS             public key files (os.pathsep or ",")
    MAX_SUBMISSION_BYTES   SEALDROP_MAX_SUBMISSION_BYTES   default 2 GiB
    STORAGE_BUDGET_BYTES   SEALDROP_STORAGE_BUDGET_BYTES   default: no budget beyond free space
    UPLOAD_TTL_HOURS       SEALDROP_UPLOAD_TTL_HOURS       default 24
    DISK_RESERVE_BYTES     SEALDROP_DISK_RESERVE_BYTES     default 256 MiB kept free on the disk

Fairness under load (docs/UPLOAD.md, "Fair shares"):

    UPLOAD_IDLE_MINUTES           an upload with no progress this long expires (30); rows
                                  keep only a coarse tick of half this length, never a time
    UNFINISHED_SHARE_PERCENT      unfinished large uploads may hold this share of the budget
                                  together (50); past it new starts are "busy", not "full"
    SMALL_RESERVE_BYTES           kept for small submissions (envelopes up to 1 MiB): default
                                  1 % of the budget, at least 256 MiB, at most half of it
    MAX_UNFINISHED_UPLOADS        uploads in progress at once, all instances together (10000)
    STREAM_MIN_BYTES_PER_SECOND   a request body must average this after the grace (2048)
    STREAM_GRACE_SECONDS          ... counted from this long after the request began (60)
    WORKER_THREADS                threads per worker process (32; gunicorn.conf.py sets it)
    STREAMING_THREADS_PERCENT     share of them body-streaming requests may hold (50)
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crypto import PublicKey, SealdropError

GIB = 1 << 30
DEFAULT_MAX_SUBMISSION_BYTES = 2 * GIB
DEFAULT_UPLOAD_TTL_HOURS = 24
CHUNK_BYTES = 1 << 20
# Never let the disk's free space fall below this, whatever the budget says.
DISK_RESERVE_BYTES = 256 << 20
MIB = 1 << 20
# An envelope up to this size is "small": a message and a photo or two. Small submissions
# may use the slice of the budget kept for them (SMALL_RESERVE_BYTES).
SMALL_ENVELOPE_BYTES = MIB
MIN_SMALL_RESERVE_BYTES = 256 * MIB
DEFAULT_UPLOAD_IDLE_MINUTES = 30
DEFAULT_UNFINISHED_SHARE_PERCENT = 50
DEFAULT_MAX_UNFINISHED_UPLOADS = 10_000
DEFAULT_STREAM_MIN_BYTES_PER_SECOND = 2048
DEFAULT_STREAM_GRACE_SECONDS = 60
DEFAULT_WORKER_THREADS = 32
DEFAULT_STREAMING_THREADS_PERCENT = 50

_KEYS = (
    "DATA_DIR",
    "DATABASE_URL",
    "RECIPIENTS",
    "MAX_SUBMISSION_BYTES",
    "STORAGE_BUDGET_BYTES",
    "UPLOAD_TTL_HOURS",
    "DISK_RESERVE_BYTES",
    "UPLOAD_IDLE_MINUTES",
    "UNFINISHED_SHARE_PERCENT",
    "SMALL_RESERVE_BYTES",
    "MAX_UNFINISHED_UPLOADS",
    "STREAM_MIN_BYTES_PER_SECOND",
    "STREAM_GRACE_SECONDS",
    "WORKER_THREADS",
    "STREAMING_THREADS_PERCENT",
)


class ConfigError(Exception):
    """The configuration is missing or wrong; the message says which setting and how."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    recipient_files: tuple[Path, ...]
    recipients: tuple[PublicKey, ...]
    max_submission_bytes: int
    storage_budget_bytes: int | None
    upload_ttl_hours: int
    disk_reserve_bytes: int
    chunk_bytes: int = CHUNK_BYTES
    upload_idle_minutes: int = DEFAULT_UPLOAD_IDLE_MINUTES
    unfinished_share_percent: int = DEFAULT_UNFINISHED_SHARE_PERCENT
    small_reserve_bytes: int = MIN_SMALL_RESERVE_BYTES
    max_unfinished_uploads: int = DEFAULT_MAX_UNFINISHED_UPLOADS
    stream_min_bytes_per_second: int = DEFAULT_STREAM_MIN_BYTES_PER_SECOND
    stream_grace_seconds: int = DEFAULT_STREAM_GRACE_SECONDS
    worker_threads: int = DEFAULT_WORKER_THREADS
    streaming_threads_percent: int = DEFAULT_STREAMING_THREADS_PERCENT

    @property
    def general_limit(self) -> int | None:
        """What submissions of any size may fill: the budget less the small slice."""
        budget = self.storage_budget_bytes
        return None if budget is None else budget - self.small_reserve_bytes

    @property
    def unfinished_limit(self) -> int | None:
        """What unfinished large uploads may hold together."""
        general = self.general_limit
        return None if general is None else general * self.unfinished_share_percent // 100

    @property
    def streaming_threads(self) -> int:
        """How many body-streaming requests one worker process serves at once."""
        return max(1, self.worker_threads * self.streaming_threads_percent // 100)

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def tmp_dir(self) -> Path:
        return self.data_dir / "tmp"


def from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    environ = os.environ if environ is None else environ
    return {key: environ[f"SEALDROP_{key}"] for key in _KEYS if f"SEALDROP_{key}" in environ}


def load(config: Mapping[str, Any] | Settings | None = None) -> Settings:
    """Settings from a dict (keys above) or, when None, from the environment."""
    if isinstance(config, Settings):
        return config
    raw = dict(from_env() if config is None else config)
    if not raw.get("DATA_DIR"):
        raise ConfigError("set SEALDROP_DATA_DIR to the directory that holds sealdrop's data")
    data_dir = Path(raw["DATA_DIR"]).expanduser().absolute()
    url = raw.get("DATABASE_URL") or f"sqlite:///{data_dir / 'sealdrop.db'}"
    files = _paths(raw.get("RECIPIENTS"))
    if not files:
        raise ConfigError(
            "set SEALDROP_RECIPIENTS to the reviewers' public key files "
            f"(separated by {os.pathsep!r} or ','), made with `sealdrop-reviewer keygen`"
        )
    recipients = []
    for path in files:
        _refuse_identity_file(path)
        try:
            recipients.append(PublicKey.from_file(path))
        except (OSError, UnicodeDecodeError, SealdropError) as exc:
            raise ConfigError(f"cannot use recipient key {path}: {exc}") from None
    if len({key.key_id for key in recipients}) != len(recipients):
        raise ConfigError("SEALDROP_RECIPIENTS names the same public key twice")
    budget_raw = raw.get("STORAGE_BUDGET_BYTES")
    budget = None if budget_raw in (None, "") else _int(raw, "STORAGE_BUDGET_BYTES")
    return Settings(
        data_dir=data_dir,
        database_url=str(url),
        recipient_files=tuple(files),
        recipients=tuple(recipients),
        max_submission_bytes=_int(raw, "MAX_SUBMISSION_BYTES", DEFAULT_MAX_SUBMISSION_BYTES),
        storage_budget_bytes=budget,
        upload_ttl_hours=_int(raw, "UPLOAD_TTL_HOURS", DEFAULT_UPLOAD_TTL_HOURS),
        disk_reserve_bytes=_int(raw, "DISK_RESERVE_BYTES", DISK_RESERVE_BYTES),
        **_fairness(raw, budget),
    )


def _fairness(raw: Mapping[str, Any], budget: int | None) -> dict[str, int]:
    default_small = MIN_SMALL_RESERVE_BYTES
    if budget is not None:
        default_small = min(max(budget // 100, MIN_SMALL_RESERVE_BYTES), budget // 2)
    small = _int(raw, "SMALL_RESERVE_BYTES", default_small)
    if budget is not None and small > budget:
        raise ConfigError(
            f"SEALDROP_SMALL_RESERVE_BYTES ({small}) is larger than "
            f"SEALDROP_STORAGE_BUDGET_BYTES ({budget}): the slice kept for small submissions "
            "is part of the budget"
        )
    return {
        "upload_idle_minutes": _int(raw, "UPLOAD_IDLE_MINUTES", DEFAULT_UPLOAD_IDLE_MINUTES, 1),
        "unfinished_share_percent": _percent(
            raw, "UNFINISHED_SHARE_PERCENT", DEFAULT_UNFINISHED_SHARE_PERCENT
        ),
        "small_reserve_bytes": small,
        "max_unfinished_uploads": _int(
            raw, "MAX_UNFINISHED_UPLOADS", DEFAULT_MAX_UNFINISHED_UPLOADS, 1
        ),
        "stream_min_bytes_per_second": _int(
            raw, "STREAM_MIN_BYTES_PER_SECOND", DEFAULT_STREAM_MIN_BYTES_PER_SECOND
        ),
        "stream_grace_seconds": _int(raw, "STREAM_GRACE_SECONDS", DEFAULT_STREAM_GRACE_SECONDS),
        "worker_threads": _int(raw, "WORKER_THREADS", DEFAULT_WORKER_THREADS, 1),
        "streaming_threads_percent": _percent(
            raw, "STREAMING_THREADS_PERCENT", DEFAULT_STREAMING_THREADS_PERCENT
        ),
    }


def _percent(raw: Mapping[str, Any], key: str, default: int) -> int:
    number = _int(raw, key, default, 1)
    if number > 100:
        raise ConfigError(f"SEALDROP_{key} is a percentage: give a whole number from 1 to 100")
    return number


def _refuse_identity_file(path: Path) -> None:
    """A reviewer's identity file names its public key too, but it holds the private key
    (encrypted): it must never be on the server, so it is refused, not quietly used."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return  # reported by the key reader below, with its reason
    if any(line.strip().startswith("secret-key") for line in text.splitlines()):
        raise ConfigError(
            f"{path} contains a private key (it is a reviewer's identity file): give the public "
            "key file instead (the .pub file from `sealdrop-reviewer keygen`), remove this "
            "file from the server and treat that key as compromised"
        )


def _paths(value: Any) -> list[Path]:
    if value is None:
        return []
    if isinstance(value, str | os.PathLike):
        parts = re.split(f"[,{re.escape(os.pathsep)}]", os.fspath(value))
    else:
        parts = [os.fspath(p) for p in value]
    return [Path(p.strip()).expanduser() for p in parts if p.strip()]


def _int(raw: Mapping[str, Any], key: str, default: int | None = None, minimum: int = 0) -> int:
    value = raw.get(key)
    if value in (None, ""):
        if default is None:
            raise ConfigError(f"SEALDROP_{key} is required")
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"SEALDROP_{key} must be a whole number, not {value!r}") from None
    if number < minimum:
        if minimum == 0:
            raise ConfigError(f"SEALDROP_{key} must not be negative")
        raise ConfigError(f"SEALDROP_{key} must be at least {minimum}")
    return number
