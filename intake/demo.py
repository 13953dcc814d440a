"""``python -m intake.demo`` (what `make run` starts): a throwaway local sealdrop to try out.

Creates .data/demo (or $SEALDROP_DATA_DIR) with a demo reviewer identity whose passphrase is
"demo", prepares the data directory and serves on http://127.0.0.1:5000/.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from crypto import Identity

from . import create_app
from .serve import serve
from .setup import init_data_dir

REPO = Path(__file__).resolve().parent.parent
HOST, PORT = "127.0.0.1", 5000
PASSPHRASE = "demo"  # noqa: S105 (the demo key is deliberately throwaway)

BANNER = """
==========================================================================================
  DEMO ONLY. NOT FOR REAL SUBMISSIONS.
  The reviewer's private key is in {reviewer} with the passphrase "demo",
  on this very machine. A real deployment keeps the private key on an offline computer.
==========================================================================================
"""


def reviewer_keys(directory: Path) -> Path:
    """The demo reviewer's public key file, creating the identity if it is missing."""
    identity_path, public_path = directory / "identity.key", directory / "public.key"
    if not identity_path.exists():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        identity = Identity.generate()
        _write(identity_path, identity.to_file_text(PASSPHRASE), 0o600)
        pk = identity.public_key
        _write(
            public_path,
            f"# sealdrop DEMO reviewer public key\n# fingerprint: {pk.fingerprint}\n{pk.line}\n",
            0o644,
        )
    return public_path


def _write(path: Path, text: str, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def main() -> None:
    data_dir = Path(os.environ.get("SEALDROP_DATA_DIR") or REPO / ".data" / "demo")
    reviewer = data_dir / "reviewer"
    public_key = reviewer_keys(reviewer)
    config = {"DATA_DIR": str(data_dir), "RECIPIENTS": [str(public_key)]}
    init_data_dir(config)
    app = create_app(config)
    print(BANNER.format(reviewer=reviewer))
    print(f"  Submission form:  http://{HOST}:{PORT}/   (Russian: http://{HOST}:{PORT}/?lang=ru)")
    print("  To read what was sent, export a bundle and open it with the reviewer tool:")
    print(f"    SEALDROP_DATA_DIR={data_dir} SEALDROP_RECIPIENTS={public_key} \\")
    print("      sealdrop-intake export --out demo-bundle.tar")
    print(f"    sealdrop-reviewer open demo-bundle.tar --key {reviewer / 'identity.key'}")
    print("  (passphrase: demo)   Stop with Ctrl-C.\n", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        serve(app, HOST, PORT)


if __name__ == "__main__":
    main()
