from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

sys.path.insert(0, str(Path(__file__).parent))  # for reviewer_helpers in the test modules

from reviewer_helpers import Keys, make_keys

from reviewer import localtime
from reviewer.cli import main

REPO = Path(__file__).resolve().parents[2]


def _compile_catalogs() -> None:
    """As `make translations` does, for a bare `pytest`: the app's Russian screens need the .mo."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in (REPO / "reviewer" / "locale").glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as source, mo.open("wb") as target:
                write_mo(target, read_po(source))


_compile_catalogs()
localtime.use("UTC")  # screenshots and hours the same on every machine, whatever its zone


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return make_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return tmp_path / "vault"


@pytest.fixture
def cli(vault: Path, keys: Keys) -> Callable[..., Result]:
    """Runs sealdrop-reviewer in-process against the test vault and test key."""

    def invoke(*args: str | Path, input: str | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(
            main,
            [str(a) for a in args],
            input=input,
            env={
                "SEALDROP_VAULT": str(vault),
                "SEALDROP_IDENTITY": str(keys.key_file),
                "XDG_DATA_HOME": str(vault.parent / "xdg"),
                "COLUMNS": "250",  # rich wraps at the terminal width; keep rows whole
            },
            catch_exceptions=False,
        )

    return invoke
