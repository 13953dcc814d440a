"""The hash-locked requirements (requirements/*.txt, `make lock`) agree with pyproject.toml:
every dependency declared there is pinned, within its declared range, with hashes; nothing is
pinned as ours that pyproject.toml no longer asks for; the reviewer's lock holds the base
dependencies only. A dependency added to pyproject.toml without `make lock` fails here."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
LOCKS = {
    "reviewer.txt": [],
    "server.txt": ["server"],
    "postgresql.txt": ["server", "postgresql"],
    "dev.txt": ["server", "dev"],
}
FIX = "run `make lock` and commit requirements/"


def declared(extras: list[str]) -> dict[str, Requirement]:
    texts = PYPROJECT["dependencies"] + [
        text for extra in extras for text in PYPROJECT["optional-dependencies"][extra]
    ]
    requirements = [Requirement(text) for text in texts]
    return {canonicalize_name(r.name): r for r in requirements}


def parse_lock(path: Path) -> dict[str, tuple[str, list[str], list[str]]]:
    """name -> (version, hashes, what it is there for), from pip-compile's output."""
    pins: dict[str, tuple[str, list[str], list[str]]] = {}
    entries = re.split(r"\n(?=[A-Za-z0-9])", path.read_text())
    for entry in entries:
        head = entry.split()[0] if entry.strip() else ""
        if not head or head.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([^\s;\\]+)", head)
        assert match, f"{path.name}: {head!r} is not pinned with == ({FIX})"
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", entry)
        # "# via X" on one line, or "# via" then "#   X" lines (a package wanted by several).
        via = [v.strip() for v in re.findall(r"#[ \t]+(?:via[ \t]+)?([^\n]*)", entry)]
        pins[canonicalize_name(match[1])] = (
            match[2],
            hashes,
            [v for v in via if v not in {"", "via"}],
        )
    return pins


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_the_lock_pins_exactly_what_pyproject_declares(lock: str) -> None:
    path = REPO / "requirements" / lock
    assert path.is_file(), f"requirements/{lock} is missing; {FIX}"
    pins = parse_lock(path)
    wanted = declared(LOCKS[lock])
    for name, requirement in wanted.items():
        assert name in pins, f"{requirement} is in pyproject.toml but not in {lock}; {FIX}"
        version = pins[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock} pins {name}=={version}, outside pyproject.toml's {requirement}; {FIX}"
        )
    ours = {name for name, (_, _, via) in pins.items() if "sealdrop (pyproject.toml)" in via}
    assert ours == set(wanted), (
        f"{lock} and pyproject.toml disagree on sealdrop's own dependencies: "
        f"only in the lock {sorted(ours - set(wanted))}, "
        f"only in pyproject.toml {sorted(set(wanted) - ours)}; {FIX}"
    )
    for name, (_, hashes, _) in pins.items():
        assert hashes, f"{lock} has no hash for {name}; {FIX}"


def test_the_locks_agree_with_each_other_and_the_reviewer_gets_no_server_code() -> None:
    locks = {name: parse_lock(REPO / "requirements" / name) for name in LOCKS}
    for name, (version, _, _) in locks["server.txt"].items():
        assert locks["dev.txt"][name][0] == version, f"dev.txt and server.txt differ on {name}"
    for name, (version, _, _) in locks["server.txt"].items():
        assert locks["postgresql.txt"][name][0] == version, f"postgresql.txt differs on {name}"
    for name, (version, _, _) in locks["reviewer.txt"].items():
        assert locks["server.txt"][name][0] == version, f"reviewer.txt and server.txt on {name}"
    server_only = set(declared(["server"])) - set(declared([]))
    assert server_only, "pyproject.toml declares server dependencies"
    assert not server_only & set(locks["reviewer.txt"]), "the reviewer lock pulls in the server"
    for name in ("flask", "gunicorn", "sqlalchemy", "werkzeug"):
        assert name not in locks["reviewer.txt"]


def test_make_installs_from_the_locks_with_hashes_and_the_project_without_deps() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert "--require-hashes -r requirements/dev.txt" in makefile
    assert "--no-deps" in makefile and "--generate-hashes" in makefile
