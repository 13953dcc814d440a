from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

sys.path.insert(0, str(Path(__file__).parent))  # for reviewer_helpers in the test modules

from reviewer_helpers import Keys, make_keys

from reviewer.cli import main


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
