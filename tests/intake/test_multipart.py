"""The no-JS form's multipart decoder (intake/multipart.py): the parts a browser's body holds,
whatever sizes it is read in, and a clear refusal (ValueError) for what is not multipart."""

from __future__ import annotations

import io
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.http import parse_options_header
from werkzeug.test import EnvironBuilder

from intake.multipart import MultipartDecoder, PartStart

BOUNDARY = b"----geckoformboundary0123456789abcdef0123456789abcdef"
Parsed = list[tuple[str | None, str | None, str | None, bytes]]


def decode(body: bytes, sizes: list[int], boundary: bytes = BOUNDARY, **limits: int) -> Parsed:
    """Feeds ``body`` in blocks of ``sizes`` (cycled); the parts, with their data joined."""
    decoder = MultipartDecoder(
        boundary,
        max_header_bytes=limits.get("max_header_bytes", 1 << 16),
        max_parts=limits.get("max_parts", 100),
    )
    parts: list[list] = []
    position = index = 0
    while position < len(body):
        block = body[position : position + sizes[index % len(sizes)]]
        position, index = position + len(block), index + 1
        for event in decoder.feed(block):
            if isinstance(event, PartStart):
                parts.append([event.name, event.filename, event.content_type, b""])
            elif isinstance(event, memoryview):
                parts[-1][3] += bytes(event)
    decoder.finish()
    return [tuple(part) for part in parts]  # type: ignore[misc]


def form(*parts: tuple[bytes, bytes]) -> bytes:
    delimiter = b"--" + BOUNDARY
    each = [delimiter + b"\r\n" + head + b"\r\n\r\n" + data + b"\r\n" for head, data in parts]
    return b"".join(each) + delimiter + b"--\r\n"


FILE_HEAD = (
    b'Content-Disposition: form-data; name="attachments"; filename="a.bin"\r\n'
    b"Content-Type: image/png"
)
MESSAGE_HEAD = b'Content-Disposition: form-data; name="message"'
# Data full of what a delimiter begins with, so that every read size cuts one somewhere.
TRICKY = b"\r\n--" + BOUNDARY[:-1] + b"\r\r\n-\r\n--" + BOUNDARY[:10] + b"x\r"


@pytest.mark.parametrize("sizes", [[1], [2], [3], [7], [64], [1 << 20], [1, 5, 2, 70, 3]])
def test_parts_come_out_whole_whatever_the_reads(sizes: list[int]) -> None:
    body = form((MESSAGE_HEAD, "привет\r\n".encode()), (FILE_HEAD, TRICKY * 20))
    assert decode(body, sizes) == [
        ("message", None, None, "привет\r\n".encode()),
        ("attachments", "a.bin", "image/png", TRICKY * 20),
    ]


def test_what_werkzeugs_test_client_sends_decodes_the_same() -> None:
    """Its bodies have parts with no data at all (headers, then the delimiter at once)."""
    rng = random.Random(7)
    for _ in range(50):
        message = rng.choice(["", "hi", "a\r\nb", "x" * 3000])
        files = [rng.randbytes(rng.randint(0, 3000)) for _ in range(rng.randint(0, 3))]
        environ = EnvironBuilder(
            method="POST",
            data={"message": message, "attachments": [(io.BytesIO(f), "f", "a/b") for f in files]},
            content_type="multipart/form-data",
        ).get_environ()
        boundary = parse_options_header(environ["CONTENT_TYPE"])[1]["boundary"].encode()
        body = environ["wsgi.input"].read()
        parts = decode(body, [rng.randint(1, 900)], boundary)
        assert parts[0] == ("message", None, None, message.encode())
        assert [part[3] for part in parts[1:]] == files


def test_preamble_epilogue_and_padding_are_ignored() -> None:
    body = (
        b"a preamble\r\n--" + BOUNDARY + b" \t\r\n" + MESSAGE_HEAD + b"\r\n\r\nhi\r\n--"
        + BOUNDARY + b"--\r\nan epilogue --" + BOUNDARY + b"\r\n"
    )  # fmt: skip
    assert decode(body, [3]) == [("message", None, None, b"hi")]


def test_folded_headers_are_joined() -> None:
    body = form((b'Content-Disposition: form-data;\r\n name="message"', b"hi"))
    assert decode(body, [5]) == [("message", None, None, b"hi")]


@pytest.mark.parametrize(
    "body",
    [
        b"not multipart at all",
        form((MESSAGE_HEAD, b"hi"))[:-8],  # no close delimiter
        form((MESSAGE_HEAD, b"hi")).replace(b"\r\n", b"\n"),  # bare line breaks
        form((b"X-No-Disposition: 1", b"hi")),
        form((b"no header here", b"hi")),
        form((MESSAGE_HEAD, b"hi")).replace(BOUNDARY + b"\r\n", BOUNDARY + b"junk\r\n", 1),
        form((b"Content-Disposition: form-data; name=\xff", b"hi")),  # not UTF-8
    ],
    ids=["garbage", "truncated", "bare-lf", "no-disposition", "no-colon", "junk", "not-utf8"],
)
def test_what_is_not_a_form_is_refused(body: bytes) -> None:
    with pytest.raises(ValueError):
        decode(body, [4])


def test_headers_and_parts_are_bounded() -> None:
    long_head = MESSAGE_HEAD + b"\r\nX-Pad: " + b"p" * 2000
    with pytest.raises(ValueError, match="headers"):
        decode(form((long_head, b"hi")), [1 << 20], max_header_bytes=1000)
    with pytest.raises(ValueError, match="headers"):
        decode(form((long_head, b"hi")), [7], max_header_bytes=1000)  # however it is read
    with pytest.raises(ValueError, match="parts"):
        decode(form(*[(MESSAGE_HEAD, b"hi")] * 4), [64], max_parts=3)
    assert len(decode(form(*[(MESSAGE_HEAD, b"hi")] * 3), [64], max_parts=3)) == 3


def test_a_boundary_with_a_line_break_is_refused() -> None:
    with pytest.raises(ValueError):
        MultipartDecoder(b"a\r\nb", max_header_bytes=100, max_parts=1)


def test_a_files_data_is_never_copied() -> None:
    """Data events are views of the very block fed in (the sealer copies it once, no one
    else): what a large no-JS post's speed rests on."""
    data = bytes(range(256)) * 4096
    block = form((FILE_HEAD, data))
    decoder = MultipartDecoder(BOUNDARY, max_header_bytes=1 << 16, max_parts=10)
    views = [event for event in decoder.feed(block) if isinstance(event, memoryview)]
    decoder.finish()
    assert b"".join(views) == data
    assert all(view.obj is block for view in views)


# Data made of what delimiters are made of, so that bodies hold near-delimiters everywhere.
_PIECES = [
    b"\r",
    b"\n",
    b"\r\n",
    b"-",
    b"--",
    b"x",
    BOUNDARY[:5],
    BOUNDARY,
    b"\r\n--" + BOUNDARY[:-1],
]


def _sendable(data: bytes) -> bool:
    """A browser's boundary is random, never in the data (werkzeug also takes a bare LF
    before one as a delimiter, which the strict decoder refuses: no such bodies here)."""
    return BOUNDARY not in data


def _werkzeug_parts(body: bytes) -> Parsed:
    """What werkzeug's sans-IO decoder (the one the form used before) makes of ``body``."""
    from werkzeug.sansio.multipart import Data, Epilogue, Field, File, NeedData
    from werkzeug.sansio.multipart import MultipartDecoder as Reference

    reference = Reference(BOUNDARY)
    reference.receive_data(body)
    reference.receive_data(None)
    parts: list[list] = []
    while not isinstance(event := reference.next_event(), Epilogue | NeedData):
        if isinstance(event, File):
            parts.append([event.name, event.filename, event.headers.get("Content-Type"), b""])
        elif isinstance(event, Field):
            parts.append([event.name, None, event.headers.get("Content-Type"), b""])
        elif isinstance(event, Data):
            parts[-1][3] += event.data
    return [tuple(part) for part in parts]  # type: ignore[misc]


@settings(max_examples=150, deadline=None)
@given(
    datas=st.lists(
        st.lists(st.sampled_from(_PIECES), max_size=30).map(b"".join).filter(_sendable),
        max_size=4,
    ),
    sizes=st.lists(st.integers(1, 200), min_size=1, max_size=5),
)
def test_bodies_decode_as_werkzeug_decodes_them(datas: list[bytes], sizes: list[int]) -> None:
    """The same parts as werkzeug's decoder finds, however the body is cut into reads, for
    data full of line breaks, dashes and pieces of the boundary."""
    heads = [MESSAGE_HEAD, FILE_HEAD]
    body = form(*((heads[index % 2], data) for index, data in enumerate(datas)))
    assert decode(body, sizes) == _werkzeug_parts(body)
