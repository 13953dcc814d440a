"""What every fuzz target shares: the hypothesis profiles, and the counts `make fuzz` prints.

Profiles: ``ci`` (the default: derandomised, a few seconds per parser, part of `make test`)
and ``fuzz`` (random, ``SEALDROP_FUZZ_EXAMPLES`` examples per target, 2,000 by default), chosen
with ``SEALDROP_FUZZ=fuzz``. Each target is a test decorated with ``fuzz_target(name)``; it
counts the examples it ran, and, when `make fuzz` asks (``SEALDROP_FUZZ_PATHS=1``), conftest
counts the distinct (file, line) pairs of crypto/, intake/ and reviewer/ it executed.
"""

from __future__ import annotations

import functools
import os
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, settings

F = TypeVar("F", bound=Callable[..., Any])

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    "sealdrop-ci",
    max_examples=int(os.environ.get("SEALDROP_FUZZ_CI_EXAMPLES", "100")),
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=_QUIET,
    print_blob=True,
)
settings.register_profile(
    "sealdrop-fuzz",
    max_examples=int(os.environ.get("SEALDROP_FUZZ_EXAMPLES", "2000")),
    deadline=None,
    database=None,
    suppress_health_check=[*_QUIET, HealthCheck.function_scoped_fixture],
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
    print_blob=True,
)
PROFILE = "sealdrop-fuzz" if os.environ.get("SEALDROP_FUZZ") == "fuzz" else "sealdrop-ci"

examples: Counter[str] = Counter()  # target name -> examples run


def fuzz_target(name: str, scale: float = 1.0) -> Callable[[F], F]:
    """Marks a hypothesis test as the fuzz target for one parser. ``scale`` shrinks the
    number of examples for targets whose every example is costly (a Flask request)."""
    profile = settings.get_profile(PROFILE)
    chosen = settings(profile, max_examples=max(10, int(profile.max_examples * scale)))

    def decorate(test: F) -> F:
        @functools.wraps(test)
        def counted(*args: Any, **kwargs: Any) -> Any:
            examples[name] += 1
            return test(*args, **kwargs)

        counted._fuzz_target = name  # type: ignore[attr-defined]
        return chosen(counted)  # type: ignore[return-value]

    return decorate
