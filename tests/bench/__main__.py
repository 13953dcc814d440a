"""`make bench`: every benchmark, figures printed side by side. Not part of the tests.

Pass names to run only some: python -m tests.bench envelope reviewer intake
Set BENCH_SIZE_MIB to shrink the large payloads for a quick look.
"""

from __future__ import annotations

import importlib
import os
import sys

BENCHES = ["envelope", "intake", "reviewer", "inbox", "team", "parsers", "browser"]


def main(names: list[str]) -> None:
    size = int(os.environ.get("BENCH_SIZE_MIB", "1024")) << 20
    for name in names or BENCHES:
        try:
            module = importlib.import_module(f"tests.bench.{name}_bench")
        except ModuleNotFoundError as exc:
            print(f"\n== {name}: not available ({exc}) ==")
            continue
        if name == "envelope":
            module.run(size=size)
        else:
            module.run()


if __name__ == "__main__":
    main(sys.argv[1:])
