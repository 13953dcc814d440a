"""The reviewer's vault: opened submissions, in plaintext, on the offline machine's disk.

Layout (directories 0700, files 0600)::

    config.json                 {"identity": "/path/identity.key", "strip_metadata": true}
    submissions/<id>/           made whole by crypto.DirectorySink (renamed into place only
        contents.json, part-*   after every byte verified), so it is there entirely or not at all
    index/<id>.json             {"id", "received", "sha256", "read"}

A submission is in the vault when its directory is; the index file is written just before
the directory is committed, so an index file without a directory is a harmless leftover of a
failed or interrupted open. See docs/REVIEWER.md for why the plaintext is not re-encrypted.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from crypto.bundle import ID_PATTERN

_DIR_MODE = 0o700
_FILE_MODE = 0o600
_PARTIAL_MARK = ".partial-"


class VaultError(Exception):
    """A vault problem a person can fix; the message says how."""


def default_location() -> Path:
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "sealdrop" / "vault"


@dataclass
class Record:
    """What the vault knows about a submission besides its contents."""

    id: str
    received: str
    sha256: str  # the envelope's hash, as listed in the bundle's manifest and verified
    read: bool = False


@dataclass
class Submission:
    record: Record
    path: Path
    key_ids: list[str] = field(default_factory=list)
    parts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def size(self) -> int:
        return sum(int(part["size"]) for part in self.parts)

    @property
    def message(self) -> dict[str, Any] | None:
        return next((p for p in self.parts if p["kind"] == "message"), None)

    @property
    def attachments(self) -> list[dict[str, Any]]:
        return [p for p in self.parts if p["kind"] == "file"]

    @property
    def fields(self) -> list[dict[str, Any]]:
        return [p for p in self.parts if p["kind"] == "field"]

    def part_path(self, part: dict[str, Any]) -> Path:
        name = str(part["file"])
        if not name.startswith("part-") or "/" in name:
            raise VaultError(f"the vault entry {self.id} is damaged; open its bundle again")
        return self.path / name


class Vault:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser()
        self.submissions_dir = self.root / "submissions"
        self.index_dir = self.root / "index"
        try:
            for directory in (self.root, self.submissions_dir, self.index_dir):
                directory.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
            os.chmod(self.root, _DIR_MODE)
        except OSError as exc:
            raise VaultError(
                f"cannot use {self.root} as the vault ({exc.strerror}); "
                "choose another directory with --vault"
            ) from None

    # --- configuration ----------------------------------------------------------------

    @property
    def config_path(self) -> Path:
        return self.root / "config.json"

    def config(self) -> dict[str, Any]:
        try:
            data = json.loads(self.config_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            raise VaultError(
                f"the vault settings {self.config_path} are damaged; delete that file and run "
                "`sealdrop-reviewer config` again"
            ) from None
        return data if isinstance(data, dict) else {}

    def set_config(self, **values: Any) -> dict[str, Any]:
        config = self.config()
        config.update(values)
        write_atomically(self.config_path, json.dumps(config, indent=2).encode("utf-8"))
        return config

    # --- opening ----------------------------------------------------------------------

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Held while a bundle is opened: two opens at once would tidy away each other's
        work in progress."""
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, _FILE_MODE)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise VaultError(
                    f"another `sealdrop-reviewer open` is using the vault {self.root}; "
                    "wait for it to finish, then try again"
                ) from None
            yield
        finally:
            os.close(fd)

    def remove_partials(self) -> int:
        """Deletes what an interrupted open left (a crash or power cut mid-write)."""
        removed = 0
        for entry in self.submissions_dir.iterdir():
            if entry.name.startswith(".") and _PARTIAL_MARK in entry.name:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        for entry in self.index_dir.iterdir():
            if entry.name.startswith("."):
                entry.unlink(missing_ok=True)
        return removed

    def destination(self, submission_id: str) -> Path:
        _check_id(submission_id)
        return self.submissions_dir / submission_id

    def contains(self, submission_id: str) -> bool:
        return self.destination(submission_id).is_dir()

    def record(self, submission_id: str) -> Record | None:
        _check_id(submission_id)
        try:
            data = json.loads((self.index_dir / f"{submission_id}.json").read_text("utf-8"))
            return Record(
                str(data["id"]), str(data["received"]), str(data["sha256"]), bool(data["read"])
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write_record(self, record: Record, *, new: bool = False) -> None:
        """Stores a record. A ``new`` one (written just before its submission is committed)
        is written in place without fsync: until the submission's directory exists nothing
        trusts it, and a torn or lost one is rebuilt when the bundle is opened again."""
        _check_id(record.id)
        data = json.dumps(asdict(record)).encode("utf-8")
        path = self.index_dir / f"{record.id}.json"
        if not new:
            write_atomically(path, data)
            return
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, _FILE_MODE)
        with os.fdopen(fd, "wb") as out:
            out.write(data)

    def forget_record(self, submission_id: str) -> None:
        if not self.contains(submission_id):
            (self.index_dir / f"{submission_id}.json").unlink(missing_ok=True)

    # --- reading ----------------------------------------------------------------------

    def ids(self) -> list[str]:
        with os.scandir(self.submissions_dir) as entries:  # no stat per entry: 10,000s of them
            return sorted(
                entry.name
                for entry in entries
                if ID_PATTERN.fullmatch(entry.name) and entry.is_dir()
            )

    def submission(self, submission_id: str) -> Submission:
        path = self.destination(submission_id)
        record = self.record(submission_id) or Record(submission_id, "unknown", "", False)
        try:
            listing = json.loads((path / "contents.json").read_text(encoding="utf-8"))
            return Submission(record, path, list(listing["key_ids"]), list(listing["parts"]))
        except (OSError, ValueError, KeyError, TypeError):
            raise VaultError(
                f"the vault entry {submission_id} is damaged; destroy it and open its bundle again"
            ) from None

    def submissions(self) -> Iterator[Submission]:
        for submission_id in self.ids():
            yield self.submission(submission_id)

    def find(self, prefix: str) -> Submission:
        """The submission whose id is or starts with ``prefix`` (ids are long to type)."""
        prefix = prefix.strip().lower()
        matches = [i for i in self.ids() if i.startswith(prefix)] if prefix else []
        if prefix in matches:
            matches = [prefix]
        if not matches:
            raise VaultError(
                f"no submission {prefix!r} in the vault {self.root}; "
                "run `sealdrop-reviewer list` to see the ids"
            )
        if len(matches) > 1:
            raise VaultError(
                f"{len(matches)} submissions start with {prefix!r}; type more of the id"
            )
        return self.submission(matches[0])

    def mark_read(self, submission: Submission) -> None:
        if not submission.record.read:
            submission.record.read = True
            self.write_record(submission.record)

    def destroy(self, submission_id: str) -> None:
        path = self.destination(submission_id)
        # Rename first so a half-deleted entry is never listed as if whole.
        doomed = path.with_name(f".{submission_id}{_PARTIAL_MARK}destroy")
        if path.is_dir():
            shutil.rmtree(doomed, ignore_errors=True)  # left by an interrupted destroy
            os.rename(path, doomed)
            shutil.rmtree(doomed)
        (self.index_dir / f"{submission_id}.json").unlink(missing_ok=True)


def _check_id(submission_id: str) -> None:
    if not ID_PATTERN.fullmatch(submission_id):
        raise VaultError(f"{submission_id!r} is not a submission id")


def write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, _FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
