from __future__ import annotations

import pytest

from crypto import Identity


@pytest.fixture(scope="session")
def alice() -> Identity:
    return Identity.generate()


@pytest.fixture(scope="session")
def bob() -> Identity:
    return Identity.generate()
