"""The one JSON reader for untrusted bytes (docs/FORMAT.md, "JSON"): explicit size and depth
limits, and nothing that two readers could understand differently.

Refused: more than ``max_bytes`` bytes; text that is not UTF-8 (a byte-order mark included);
nesting deeper than ``max_depth``; more than ``max_containers`` objects and arrays together
(when given); a name repeated in one object; NaN, Infinity and numbers too
large to be finite; integers outside ±(2⁵³ − 1) (what every JavaScript reader holds exactly);
strings with unpaired surrogates (``"\\ud800"``), which no UTF-8 text can carry.
Every refusal is a ``JSONRefused`` (a ``ValueError``) whose message is one sentence.

Every step is linear in the input (a hostile writer chooses the bytes): the checks before
``json.loads`` are regular expressions that never backtrack and byte operations, run a bounded
number of times (tests/bench/parsers_bench.py measures the time per MiB at two sizes).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from . import collection

MAX_SAFE_INTEGER = (1 << 53) - 1
# A string from its opening quote to its closing one, or to the end of the input if it has
# none. Possessive (*+): once started at a quote it always matches, consuming all it scanned,
# so stripping every string is one pass (a pattern that could fail would be retried at every
# later quote: quadratic on `"\"\"\"...`).
_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)', re.DOTALL)
# Depth is counted on the brackets alone, every opening one as "(" and closing one as ")"
# (a mismatched pair is not JSON, which the parser refuses next).
_BRACKETS = bytes.maketrans(b"[{]}", b"(())")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class JSONRefused(ValueError):
    """The bytes are not JSON this project accepts; the message says why."""


def loads(
    data: bytes | bytearray | memoryview,
    *,
    max_bytes: int,
    max_depth: int,
    max_containers: int | None = None,
) -> Any:
    """Parses ``data`` strictly, or raises JSONRefused."""
    raw = bytes(data)
    if len(raw) > max_bytes:
        raise JSONRefused(f"it is larger than {max_bytes} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise JSONRefused("it is not UTF-8 text") from None
    if text.startswith("\ufeff"):
        raise JSONRefused("it starts with a byte-order mark")
    _check_structure(raw, max_depth, max_containers)
    try:
        # A parse makes only new acyclic lists and dicts: with the collector on, a 4 MiB input
        # of nested arrays cost 3-5 times as much per MiB as a 256 KiB one (not linear).
        with collection.paused():
            value = json.loads(
                text,
                object_pairs_hook=_object,
                parse_constant=_constant,
                parse_float=_float,
                parse_int=_int,
            )
    except JSONRefused:
        raise
    except RecursionError:  # unreachable after _check_structure; kept as a second fence
        raise JSONRefused(f"it is nested more than {max_depth} levels deep") from None
    except ValueError:
        raise JSONRefused("it is not valid JSON") from None
    if _SURROGATE_ESCAPE.search(raw):  # only an escape can make an unpaired surrogate
        _check_strings(value)
    return value


def loads_object(
    data: bytes | bytearray | memoryview,
    *,
    max_bytes: int,
    max_depth: int,
    max_containers: int | None = None,
) -> dict[str, Any]:
    """Like ``loads``, and the value must be an object."""
    value = loads(data, max_bytes=max_bytes, max_depth=max_depth, max_containers=max_containers)
    if not isinstance(value, dict):
        raise JSONRefused("it is not a JSON object")
    return value


def _check_structure(raw: bytes, max_depth: int, max_containers: int | None) -> None:
    """Counts containers and nesting without recursion, at C speed: strings removed, then one
    level of innermost "()" pairs removed per round (bytes.replace does not rescan what it
    joins), at most ``max_depth`` rounds. Brackets left after them are too deep (or
    unbalanced: not JSON)."""
    brackets = _STRING.sub(b"", raw).translate(_BRACKETS, _NOT_BRACKETS)
    if max_containers is not None and brackets.count(b"(") > max_containers:
        raise JSONRefused(f"it holds more than {max_containers} objects and arrays")
    for _ in range(max_depth):
        if not brackets:
            return
        shorter = brackets.replace(b"()", b"")
        if len(shorter) == len(brackets):
            return  # unbalanced: not JSON, and json.loads says so
        brackets = shorter
    if b"()" in brackets:
        raise JSONRefused(f"it is nested more than {max_depth} levels deep")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise JSONRefused(f"it names {name!r} twice in one object")
        result[name] = value
    return result


def _constant(name: str) -> Any:
    raise JSONRefused(f"it holds {name}, which is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONRefused(f"it holds the number {text[:20]}, too large to be finite")
    return value


def _int(text: str) -> int:
    if len(text.lstrip("-")) > 16:
        raise JSONRefused(f"it holds the integer {text[:20]}…, larger than 2^53")
    value = int(text)
    if abs(value) > MAX_SAFE_INTEGER:
        raise JSONRefused(f"it holds the integer {text}, larger than 2^53")
    return value


def _check_strings(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            _encodable(item)
        elif isinstance(item, dict):
            for key, child in item.items():
                _encodable(key)
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)


def _encodable(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise JSONRefused("it holds a string with an unpaired surrogate (\\ud800…)") from None
