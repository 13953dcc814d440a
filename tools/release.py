"""`make release`: a reproducible wheel and sdist of one commit, with the browser bundle built in.

    python tools/release.py [--commit REV] [--out dist] [--node-modules DIR]

From a clean `git archive` of the commit (never the work tree): `npm ci` and `npm run build`
(minified, precompressed bundle and intake/assets.json), then `python -m build --no-isolation`
with the locked setuptools, then both archives rewritten in a fixed form: members sorted, every
time set to the commit's time (SOURCE_DATE_EPOCH), owners and modes normalised, gzip without a
name or time of its own. Two builds of the same commit and lockfiles give identical bytes
(tests/test_release.py builds twice and compares). Writes into --out: the wheel, the sdist,
the hash-locked requirements, and SHA256SUMS over all of them.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REQUIREMENTS = ("server.txt", "postgresql.txt", "reviewer.txt")


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> None:
    print("+", " ".join(argv), file=sys.stderr)
    subprocess.run(argv, cwd=cwd, env=env, check=True)


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.strip()


def normalise_wheel(path: Path, epoch: int) -> None:
    """Sorted members (.dist-info last, RECORD at the very end), fixed times and modes."""
    with zipfile.ZipFile(path) as source:
        members = {info.filename: (info, source.read(info)) for info in source.infolist()}

    def order(name: str) -> tuple[int, str]:
        in_dist_info = ".dist-info/" in name
        return (2 if name.endswith(".dist-info/RECORD") else int(in_dist_info), name)

    stamp = time.gmtime(max(epoch, 315532800))[:6]  # zip cannot say anything before 1980
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name in sorted(members, key=order):
            info, data = members[name]
            executable = (info.external_attr >> 16) & 0o111
            fixed = zipfile.ZipInfo(name, date_time=stamp)
            fixed.create_system = 3
            fixed.external_attr = ((0o100755 if executable else 0o100644) & 0xFFFF) << 16
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, data, compresslevel=9)
    path.write_bytes(buffer.getvalue())


def normalise_sdist(path: Path, epoch: int) -> None:
    """Sorted members, owner root/root without names, fixed times and modes, a plain gzip."""
    with tarfile.open(path) as source:
        members = []
        for info in source.getmembers():
            data = source.extractfile(info).read() if info.isfile() else None
            members.append((info, data))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as target:
        for info, data in sorted(members, key=lambda item: item[0].name):
            info.mtime = epoch
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.pax_headers = {}
            if info.isdir() or info.mode & 0o111:
                info.mode = 0o755
            else:
                info.mode = 0o644
            target.addfile(info, io.BytesIO(data) if data is not None else None)
    with (
        path.open("wb") as out,
        gzip.GzipFile(
            filename="", mode="wb", fileobj=out, mtime=epoch, compresslevel=9
        ) as compressed,
    ):
        compressed.write(buffer.getvalue())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(commit: str, out: Path, node_modules: Path | None) -> list[Path]:
    commit = git("rev-parse", "--verify", f"{commit}^{{commit}}")
    epoch = int(git("log", "-1", "--format=%ct", commit))
    env = {
        **os.environ,
        "SOURCE_DATE_EPOCH": str(epoch),
        "PYTHONHASHSEED": "0",
        "TZ": "UTC",
        "LC_ALL": "C.UTF-8",
    }
    with tempfile.TemporaryDirectory(prefix="sealdrop-release-") as tmp:
        # One fixed path for every build, so that nothing can depend on where it ran.
        src = Path(tmp) / "sealdrop"
        src.mkdir()
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit], cwd=REPO, check=True, capture_output=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(src, filter="data")
        if node_modules is not None:
            (src / "node_modules").symlink_to(node_modules.resolve())
        else:
            run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], src, env)
        run(["npm", "run", "--silent", "build"], src, env)
        # The gettext catalogs the pages and the staff app read (the .mo files are built, not
        # committed; without them the server refuses to start).
        for directory, domain in (
            ("intake/translations", "messages"),
            ("reviewer/locale", "sealdrop-reviewer"),
        ):
            babel = [sys.executable, "-m", "babel.messages.frontend", "-q", "compile"]
            run([*babel, "-d", directory, "-D", domain], src, env)
        if node_modules is not None:
            (src / "node_modules").unlink()
        else:
            shutil.rmtree(src / "node_modules")
        built = Path(tmp) / "out"
        run(
            [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(built), "."], src, env
        )
        (wheel,) = built.glob("*.whl")
        (sdist,) = built.glob("*.tar.gz")
        normalise_wheel(wheel, epoch)
        normalise_sdist(sdist, epoch)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for path in (wheel, sdist):
            written.append(out / path.name)
            shutil.copyfile(path, written[-1])
        for name in REQUIREMENTS:
            written.append(out / f"requirements-{name}")
            shutil.copyfile(src / "requirements" / name, written[-1])
    sums = "".join(f"{sha256(path)}  {path.name}\n" for path in sorted(written))
    (out / "SHA256SUMS").write_text(sums)
    return [*written, out / "SHA256SUMS"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", default="HEAD", help="what to build (default HEAD)")
    parser.add_argument("--out", type=Path, default=REPO / "dist", help="output directory")
    parser.add_argument(
        "--node-modules",
        type=Path,
        help="use this node_modules (from `npm ci` of the same package-lock.json) instead of "
        "running npm ci again",
    )
    args = parser.parse_args()
    if git("status", "--porcelain", "--untracked-files=no"):
        print(
            "note: the work tree has uncommitted changes; they are not in the release, which is "
            f"built from {args.commit} only",
            file=sys.stderr,
        )
    for path in build(args.commit, args.out, args.node_modules):
        print(f"{path}  {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
