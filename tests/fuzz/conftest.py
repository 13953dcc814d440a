"""`make fuzz` reporting: per parser, the examples tried and the distinct lines of project
code they reached (a line-coverage count by sys.settrace, only when SEALDROP_FUZZ_PATHS=1)."""

from __future__ import annotations

import os
import sys
import threading
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from .harness import examples

ROOT = Path(__file__).resolve().parents[2]
_WATCHED = tuple(str(ROOT / package) + os.sep for package in ("crypto", "intake", "reviewer"))
paths: dict[str, set[tuple[str, int]]] = defaultdict(set)


def _tracer(seen: set[tuple[str, int]]) -> Any:
    def local(frame: FrameType, event: str, arg: object) -> Any:
        if event == "line":
            seen.add((frame.f_code.co_filename, frame.f_lineno))
        return local

    def global_(frame: FrameType, event: str, arg: object) -> Any:
        if frame.f_code.co_filename.startswith(_WATCHED):
            seen.add((frame.f_code.co_filename, frame.f_lineno))
            return local
        return None

    return global_


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    function = getattr(item, "function", None)
    inner = getattr(getattr(function, "hypothesis", None), "inner_test", function)
    name = getattr(inner, "_fuzz_target", None)
    if name is None or os.environ.get("SEALDROP_FUZZ_PATHS") != "1":
        yield
        return
    tracer = _tracer(paths[name])
    sys.settrace(tracer)
    threading.settrace(tracer)
    try:
        yield
    finally:
        sys.settrace(None)
        threading.settrace(None)  # type: ignore[arg-type]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not examples or os.environ.get("SEALDROP_FUZZ") != "fuzz":
        return
    write = terminalreporter.write_line
    write("")
    write(f"{'parser':<34} {'examples':>9} {'distinct lines':>15}")
    for name in sorted(examples):
        lines = len(paths[name]) if name in paths else "-"
        write(f"{name:<34} {examples[name]:>9} {lines!s:>15}")
