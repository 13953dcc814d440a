"""Configuration: from SEALDROP_* environment variables, or a dict passed to create_app.

Keys (dict form / environment variable):

    DATA_DIR               SEALDROP_DATA_DIR               required
    DATABASE_URL           SEALDROP_DATABASE_URL           default: sqlite in DATA_DIR (WAL)
    RECIPIENTS             SEALDROP_RECIPIENTS             public key files (os.pathsep or ",")
    MAX_SUBMISSION_BYTES   SEALDROP_MAX_SUBMISSION_BYTES   default 2 GiB
    STORAGE_BUDGET_BYTES   SEALDROP_STORAGE_BUDGET_BYTES   default: no budget beyond free space
    UPLOAD_TTL_HOURS       SEALDROP_UPLOAD_TTL_HOURS       default 24
    TIME_ZONE              SEALDROP_TIME_ZONE              default UTC (IANA name, such as
                                                           Europe/Moscow: how pages show times)
"""

from __future__ import annotations

import os
import re
import zoneinfo
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

_KEYS = (
    "DATA_DIR",
    "DATABASE_URL",
    "RECIPIENTS",
    "MAX_SUBMISSION_BYTES",
    "STORAGE_BUDGET_BYTES",
    "UPLOAD_TTL_HOURS",
    "DISK_RESERVE_BYTES",
    "TIME_ZONE",
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
    time_zone: str = "UTC"

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
        try:
            recipients.append(PublicKey.from_file(path))
        except (OSError, UnicodeDecodeError, SealdropError) as exc:
            raise ConfigError(f"cannot use recipient key {path}: {exc}") from None
    if len({key.key_id for key in recipients}) != len(recipients):
        raise ConfigError("SEALDROP_RECIPIENTS names the same public key twice")
    budget = raw.get("STORAGE_BUDGET_BYTES")
    return Settings(
        data_dir=data_dir,
        database_url=str(url),
        recipient_files=tuple(files),
        recipients=tuple(recipients),
        max_submission_bytes=_int(raw, "MAX_SUBMISSION_BYTES", DEFAULT_MAX_SUBMISSION_BYTES),
        storage_budget_bytes=None if budget in (None, "") else _int(raw, "STORAGE_BUDGET_BYTES"),
        upload_ttl_hours=_int(raw, "UPLOAD_TTL_HOURS", DEFAULT_UPLOAD_TTL_HOURS),
        disk_reserve_bytes=_int(raw, "DISK_RESERVE_BYTES", DISK_RESERVE_BYTES),
        time_zone=_time_zone(raw.get("TIME_ZONE")),
    )


def _time_zone(value: Any) -> str:
    """An IANA time zone name (checked against the system's zone database)."""
    if value in (None, ""):
        return "UTC"
    try:
        zoneinfo.ZoneInfo(str(value))
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        raise ConfigError(
            f"SEALDROP_TIME_ZONE must be a time zone name such as Europe/Moscow or UTC, "
            f"not {value!r}"
        ) from None
    return str(value)


def _paths(value: Any) -> list[Path]:
    if value is None:
        return []
    if isinstance(value, str | os.PathLike):
        parts = re.split(f"[,{re.escape(os.pathsep)}]", os.fspath(value))
    else:
        parts = [os.fspath(p) for p in value]
    return [Path(p.strip()).expanduser() for p in parts if p.strip()]


def _int(raw: Mapping[str, Any], key: str, default: int | None = None) -> int:
    value = raw.get(key)
    if value in (None, ""):
        if default is None:
            raise ConfigError(f"SEALDROP_{key} is required")
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"SEALDROP_{key} must be a whole number, not {value!r}") from None
    if number < 0:
        raise ConfigError(f"SEALDROP_{key} must not be negative")
    return number
