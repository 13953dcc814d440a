"""Fixtures for the browser tests: the real intake app (harness.py), browsers and Node."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .harness import Server, running_intake

ROOT = Path(__file__).resolve().parents[2]
STATIC_JS = ROOT / "intake" / "static" / "js"


@pytest.fixture
def start_intake(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Starts the real intake app; keyword arguments override its configuration."""
    if not (STATIC_JS / "app.js").is_file() or not (STATIC_JS / "sodium.js").is_file():
        pytest.fail("the browser bundle is not built; run `make js` (npm ci && npm run build)")
    with contextlib.ExitStack() as stack:
        yield lambda **overrides: stack.enter_context(running_intake(tmp_path, **overrides))


@pytest.fixture
def intake_server(start_intake: Callable[..., Server]) -> Server:
    return start_intake()


def require_executable(path: str, package: str) -> str:
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(
            f"{path} is missing: install the Debian package {package} "
            "(tests/install-system-deps.sh does, and `make test` runs it)"
        )
    return path


@pytest.fixture(scope="session")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.fail("node is not installed; the browser tests drive browsers from Node.js")
    if not (ROOT / "node_modules" / "puppeteer-core").is_dir():
        pytest.fail("node_modules is missing; run `make js` (npm ci) before the tests")
    return path
