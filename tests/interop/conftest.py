"""Node and the npm packages are required here: a missing toolchain fails, never skips."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.fail("node is not installed; the JS interop tests need Node.js (see README)")
    if not (ROOT / "node_modules" / "libsodium-wrappers").is_dir():
        pytest.fail("node_modules is missing; run `make js` (npm ci) before the tests")
    return path
