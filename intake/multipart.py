"""A strict multipart/form-data decoder (RFC 7578, RFC 2046 5.1.1) for the no-JS form: linear
in the body, and a part's data is handed on as views of the very bytes read, never copied.

Werkzeug's sans-IO decoder copied every byte of a file four times on its way through (its
buffer, two slices, a search copy), a third of the CPU a large no-JS post cost (issue 18). Here
the body is searched for the delimiter (CRLF "--" boundary) with bytes.find, and what lies
before it is passed on as a memoryview of the block read. Only a part's headers (at most
``max_header_bytes``) and a delimiter cut in two by a read are ever kept between reads.

Line breaks are CRLF, as RFC 2046 says and every browser sends: a body with bare LF or CR line
breaks is refused (ValueError), as is one that ends before its close delimiter. Anything
before the first delimiter (the preamble) and after the close delimiter (the epilogue) is
ignored, as the RFC says.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass

from werkzeug.http import parse_options_header

CRLF = b"\r\n"
HEADERS_END = b"\r\n\r\n"
PADDING = b" \t"  # transport padding allowed after a boundary (RFC 2046's LWSP)


@dataclass(frozen=True)
class PartStart:
    """A part begins; its data follows as memoryviews, then PART_END."""

    name: str | None
    filename: str | None
    content_type: str | None


class PartEnd:
    """The current part is over."""


PART_END = PartEnd()
Event = PartStart | memoryview | PartEnd

_PREAMBLE, _DATA, _HEAD, _EPILOGUE = range(4)


class MultipartDecoder:
    """Push the body in with ``feed`` (blocks of any size, as read), then call ``finish``."""

    def __init__(self, boundary: bytes, *, max_header_bytes: int, max_parts: int) -> None:
        if not 1 <= len(boundary) <= 200 or b"\r" in boundary or b"\n" in boundary:
            raise ValueError("not a usable boundary")
        self._delimiter = CRLF + b"--" + boundary
        self._max_header_bytes = max_header_bytes
        self._max_parts = max_parts
        self._parts = 0
        # The first delimiter may open the body with no line break before it, and a part with
        # no data at all ends where its headers do (their last CRLF is the delimiter's): as
        # if a CRLF came first that is not data (``_phantom`` bytes of the carry).
        self._state = _PREAMBLE
        self._carry: bytes | bytearray = CRLF
        self._phantom = len(CRLF)
        self._started = PartStart(None, None, None)  # the part _begin_part found

    def feed(self, block: bytes) -> Iterator[Event]:
        """The events the body's next ``block`` completes. Data events are views of ``block``
        (or of a few carried bytes), valid until the next call."""
        view = memoryview(block)
        position = 0
        while position < len(block):
            if self._state in (_PREAMBLE, _DATA):
                position = yield from self._scan_data(block, view, position)
            elif self._state == _HEAD:
                position = self._scan_head(block, position)
                if self._state == _HEAD:
                    return
                if self._state == _DATA:
                    yield self._started
            else:  # the epilogue: ignored
                return

    def finish(self) -> None:
        """The body has ended: it must have ended with its close delimiter."""
        if self._state != _EPILOGUE:
            raise ValueError("the form ended before its close delimiter")

    # data, until the next delimiter

    def _scan_data(
        self, block: bytes, view: memoryview, position: int
    ) -> Generator[Event, None, int]:
        delimiter = self._delimiter
        emit = self._state == _DATA
        if self._carry:
            # A read ended inside what might be a delimiter: does this block finish it? It
            # starts with the only CR a delimiter has, so none can begin later in it.
            carry, rest = self._carry, delimiter[len(self._carry) :]
            if block.startswith(rest, position):
                self._carry = b""
                return (yield from self._delimited(position + len(rest)))
            if len(block) - position < len(rest) and rest.startswith(block[position:]):
                # Still might be: keep waiting.
                self._carry = bytes(carry) + block[position:]
                return len(block)
            self._carry = b""
            if emit and len(carry) > self._phantom:
                yield memoryview(carry)[self._phantom :]
            self._phantom = 0
        found = block.find(delimiter, position)
        if found >= 0:
            if emit and found > position:
                yield view[position:found]
            return (yield from self._delimited(found + len(delimiter)))
        # No delimiter: everything is data but a tail that may be a delimiter's beginning,
        # which can only start at the last CR.
        end = len(block)
        cr = block.rfind(b"\r", max(position, end - len(delimiter) + 1))
        if cr >= 0 and delimiter.startswith(block[cr:]):
            self._carry, self._phantom, end = block[cr:], 0, cr
        if emit and end > position:
            yield view[position:end]
        return len(block)

    def _delimited(self, position: int) -> Generator[Event, None, int]:
        """A delimiter ended at ``position``: the part before it (if any) is over."""
        if self._state == _DATA:
            yield PART_END
        self._state = _HEAD
        self._carry, self._phantom = b"", 0
        return position

    # a part's headers (or the close delimiter's "--")

    def _scan_head(self, block: bytes, position: int) -> int:
        """Takes the head after a delimiter from ``block``; returns where it ends, with the
        state moved on (to _DATA with ``self._started`` set, or _EPILOGUE), or len(block)
        with the state still _HEAD and the head so far carried."""
        carry = self._carry
        # The close delimiter ("--" right after the boundary), as soon as two bytes tell.
        if len(carry) < 2:
            start = (bytes(carry) + block[position : position + 2 - len(carry)])[:2]
            if start == b"--":
                self._state, self._carry = _EPILOGUE, b""
                return len(block)
            if len(start) < 2 and start in (b"", b"-"):
                self._carry = bytearray(start)
                return len(block)
        if carry:
            # The end of the headers may span what was carried and this block.
            seam = bytes(carry[-3:]) + block[position : position + 3]
            found = seam.find(HEADERS_END)
            if found >= 0:
                end = position + found + len(HEADERS_END) - min(3, len(carry))
                head = (bytes(carry) + block[position:end])[: -len(HEADERS_END)]
                return self._begin_part(head, end)
            found = block.find(HEADERS_END, position)
            if found < 0:
                self._keep_head(block, position)
                return len(block)
            return self._begin_part(bytes(carry) + block[position:found], found + len(HEADERS_END))
        found = block.find(HEADERS_END, position, position + self._max_header_bytes + 4)
        if found < 0:
            self._keep_head(block, position)
            return len(block)
        return self._begin_part(block[position:found], found + len(HEADERS_END))

    def _keep_head(self, block: bytes, position: int) -> None:
        if len(self._carry) + len(block) - position > self._max_header_bytes:
            raise ValueError("a part's headers are far too long")
        if not isinstance(self._carry, bytearray):
            self._carry = bytearray(self._carry)
        self._carry += block[position:]

    def _begin_part(self, head: bytes, position: int) -> int:
        """``head``: from the end of the boundary to the headers' end (CRLF CRLF excluded)."""
        if len(head) > self._max_header_bytes:
            raise ValueError("a part's headers are far too long")
        self._parts += 1
        if self._parts > self._max_parts:
            raise ValueError("too many parts")
        padding, _, lines = head.partition(CRLF)
        if padding.strip(PADDING):
            raise ValueError("a boundary is followed by something other than a line break")
        headers = _parse_headers(lines)
        disposition = headers.get("content-disposition")
        if disposition is None:
            raise ValueError("a part has no Content-Disposition")
        _, options = parse_options_header(disposition)
        self._started = PartStart(
            options.get("name"), options.get("filename"), headers.get("content-type")
        )
        self._state, self._carry, self._phantom = _DATA, CRLF, len(CRLF)
        return position


def _parse_headers(lines: bytes) -> dict[str, str]:
    """Header lines (folded lines joined, RFC 5322 2.2.3) by lowercase name; the first wins.
    Raises ValueError (UnicodeDecodeError is one) for a line that is not a header."""
    headers: dict[str, str] = {}
    name = ""
    for line in lines.decode("utf-8").split("\r\n") if lines else ():
        if line[:1] in (" ", "\t") and name:
            headers[name] += " " + line.strip(" \t")
            continue
        field, colon, value = line.partition(":")
        name = field.strip(" \t").lower()
        if not colon or not name:
            raise ValueError("a part's header line has no name")
        headers.setdefault(name, value.strip(" \t"))
    return headers
