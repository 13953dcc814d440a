"""The reviewer installs and runs with the base install only: a fresh virtual environment
holding just the project's base dependencies (pynacl, click, rich, textual and what they
need) and the project wheel installed with ``pip install --no-deps --no-index``. No Flask,
SQLAlchemy, Alembic or gunicorn can be imported there, every reviewer command works, and the
inbox app finds its styles and catalogs.

The dependencies are copied file for file (per their RECORD) from this environment's installed
distributions, because the test must run offline. The project goes through pip as a wheel, as
on the reviewer's laptop; the test assembles that wheel from pyproject.toml itself (the `wheel`
package, which setuptools needs for bdist_wheel, is not part of the dev install).
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from reviewer_helpers import REPO, Keys
from reviewer_session import exercise_every_command

from reviewer import attachments

SERVER_ONLY = ("flask", "werkzeug", "sqlalchemy", "alembic", "gunicorn", "jinja2")


def base_distributions() -> list[metadata.Distribution]:
    """The project's base requirements and theirs, without any extra."""
    seen: dict[str, metadata.Distribution] = {}
    pending = [Requirement(r) for r in metadata.requires("sealdrop") or []]
    while pending:
        requirement = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = requirement.name.lower().replace("_", "-")
        if name in seen:
            continue
        seen[name] = distribution = metadata.distribution(requirement.name)
        pending += [Requirement(r) for r in distribution.requires or []]
    return list(seen.values())


def copy_distribution(distribution: metadata.Distribution, site_packages: Path) -> None:
    for file in distribution.files or []:
        if file.parts[0] == "..":
            continue  # console scripts, unused here
        target = site_packages / file
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(distribution.locate_file(file), target)


def build_wheel(directory: Path) -> Path:
    """A pure-Python wheel of the project's packages, per the wheel spec (PEP 427)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    name, version = project["name"], project["version"]
    info = f"{name}-{version}.dist-info"
    files: dict[str, bytes] = {}
    for package in ("crypto", "reviewer", "intake", "verify"):
        for path in sorted((REPO / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                files[path.relative_to(REPO).as_posix()] = path.read_bytes()
    requires = "".join(f"Requires-Dist: {r}\n" for r in project["dependencies"])
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{requires}"
    ).encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: sealdrop-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    scripts = "".join(f"{k} = {v}\n" for k, v in project["scripts"].items())
    files[f"{info}/entry_points.txt"] = f"[console_scripts]\n{scripts}".encode()
    record = [
        f"{path},sha256={_b64(hashlib.sha256(data).digest())},{len(data)}"
        for path, data in files.items()
    ]
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    directory.mkdir()
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_the_reviewer_runs_from_a_base_only_install(tmp_path: Path, keys: Keys):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    names = set()
    for distribution in base_distributions():
        copy_distribution(distribution, Path(purelib))
        names.add(distribution.metadata["Name"].lower())
    assert {"pynacl", "click", "rich", "textual"} <= names
    assert not names & set(SERVER_ONLY)

    wheel = build_wheel(tmp_path / "wheels")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run(
        [*pip, "--python", python, "install", "--no-deps", "--no-index", wheel], check=True
    )

    for module in SERVER_ONLY:
        probe = subprocess.run([python, "-c", f"import {module}"], capture_output=True, text=True)
        assert "ModuleNotFoundError" in probe.stderr, module
    where = subprocess.run(
        [python, "-c", "import reviewer, crypto; print(reviewer.__file__, crypto.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    ).stdout
    assert str(venv) in where and str(REPO) not in where

    script = venv / "bin" / "sealdrop-reviewer"

    def run(argv):
        return subprocess.run(
            [script, *argv], capture_output=True, text=True, cwd=tmp_path, check=False
        )

    with_mat2 = attachments.mat2_path() is not None
    ran = exercise_every_command(run, tmp_path / "work", keys, with_mat2=with_mat2)
    assert len(ran) == 26  # every step of reviewer_session, team, handover and trash included
    app = subprocess.run(  # the inbox app and its styles and catalogs are in the wheel
        [python, "-c", "from reviewer.app.app import InboxApp; InboxApp.check_resources()"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert app.returncode == 0, app.stderr
    # sealdrop-verify, which runs on a machine outside the organisation, needs no more.
    verify = subprocess.run([venv / "bin" / "sealdrop-verify", "--help"], capture_output=True)
    assert verify.returncode == 0 and b"--socks" in verify.stdout
