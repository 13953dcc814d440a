"""Sealing a plain multipart form POST as it streams in (the submitter has no JavaScript).

Each piece of the body is decoded (intake/multipart.py), pushed into a crypto.Sealer and
written out as ciphertext before the next piece is read: at most one read of plaintext is ever
in memory, and none is ever written anywhere. Werkzeug's own form parser is never used, since
it spools large files to temporary files.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from typing import BinaryIO

from flask import Request
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.http import parse_options_header

from crypto import PartInfo, Sealer

from . import epochs
from .codenames import SubmissionCodename, submission_codename
from .config import SMALL_ENVELOPE_BYTES
from .errors import IntakeError, Kept, malformed, too_large
from .fairness import MAX_READ_PIECE, StreamGuard, held_by_front, socket_closer
from .multipart import MultipartDecoder, PartStart
from .resend import BodyHash
from .sealwriter import ChargingWriter
from .storage import Store

# The body is read in pieces as large as the rate watch allows (intake/fairness.py).
READ_BYTES = MAX_READ_PIECE
# A part's headers may not exceed this (the decoder holds them until they end).
MAX_HEADER_BYTES = 256 * 1024
MAX_PARTS = 10_000
MESSAGE_FIELD = "message"
FILES_FIELD = "attachments"
# A follow-up names its codename; only the reply key and mailbox derived from it are sealed.
CODENAME_FIELD = "codename"
MAX_CODENAME_BYTES = 1024
# How much of the message is kept in memory to hand back on an error page.
MAX_KEPT_MESSAGE_BYTES = 256 * 1024


def receive(
    store: Store,
    request: Request,
    streams: StreamGuard,
    before_publish: Callable[[BodyHash], None] | None = None,
) -> SubmissionCodename:
    """Seals the form into a new submission; returns its codename (new, or the follow-up's).
    ``before_publish`` gets the whole body's hash once it is sealed, and may refuse to store
    it by raising (intake/resend.py: the same post sent twice).
    On any failure nothing is stored, the rest of the body is read (within limits) so the
    browser shows the error page, and an IntakeError is raised that carries what was typed
    (error.kept) for the error page to hand back. A body declared larger than the limit is
    refused before any of it is read."""
    declared = request.content_length
    if declared is not None and declared > store.settings.max_submission_bytes:
        raise too_large(close=True)
    typed = _Typed()
    buffered = held_by_front(request.headers)
    closer = socket_closer(request.environ)
    with streams.streaming(request.stream, closer, buffered) as stream:
        try:
            return _receive(store, request, stream, typed, before_publish)
        except IntakeError as error:
            if error.message_key != "error_too_slow":
                drain(stream, declared, 2 * store.settings.max_submission_bytes)
            error.kept = typed.kept()
            raise error from None


class _Typed:
    """The message (its beginning) and the codename field, as they stream past."""

    def __init__(self) -> None:
        self.message = bytearray()
        self.codename = bytearray()
        self.body = BodyHash(b"")
        self.received = 0  # bytes of the body read so far

    def kept(self) -> Kept:
        return Kept(
            self.message.decode("utf-8", errors="replace"),
            self.codename.decode("utf-8", errors="replace"),
        )


def drain(stream: BinaryIO, content_length: int | None, cap: int) -> None:
    """Reads and discards what is left of the body, unless there is more than ``cap``: a
    browser shows an answer sent before it finished sending as a connection reset."""
    if content_length is not None and content_length > cap:
        return
    with contextlib.suppress(ClientDisconnected, OSError, ValueError):
        remaining = cap
        while remaining > 0 and (block := stream.read(min(READ_BYTES, remaining))):
            remaining -= len(block)


def _boundary(request: Request) -> bytes:
    mimetype, options = parse_options_header(request.headers.get("Content-Type", ""))
    boundary = options.get("boundary", "")
    if mimetype != "multipart/form-data" or not 1 <= len(boundary) <= 200:
        raise malformed()
    try:
        return boundary.encode("ascii")
    except UnicodeEncodeError:
        raise malformed() from None


def _receive(
    store: Store,
    request: Request,
    stream: BinaryIO,
    typed: _Typed,
    before_publish: Callable[[BodyHash], None] | None,
) -> SubmissionCodename:
    settings = store.settings
    limit = settings.max_submission_bytes
    declared = request.content_length
    boundary = _boundary(request)
    typed.body = BodyHash(boundary)
    # A small body seals to a small envelope (the sealer adds less than the form's framing).
    small = declared is not None and declared <= SMALL_ENVELOPE_BYTES
    store.check_disk(declared or 0, small)
    keys = epochs.sealing_keys(settings)  # each reviewer's key of the week (FORMAT.md 10.2)
    if small:
        # Sealed in memory and stored whole: one file, one commit, nothing unfinished.
        envelope = io.BytesIO()
        codename = _seal(Sealer(envelope, keys), stream, boundary, limit, typed)
        if before_publish is not None:
            before_publish(typed.body)
        store.store_whole(envelope.getbuffer())
        return codename
    store.maybe_cleanup_expired_uploads()  # idle uploads give their share back
    with store.nojs_upload(small, declared) as (upload_id, path, handle):
        out = ChargingWriter(handle, store, upload_id, lambda: typed.received)
        codename = _seal(Sealer(out, keys), stream, boundary, limit, typed)  # type: ignore[arg-type]
        if before_publish is not None:
            before_publish(typed.body)
        store.publish(path, handle, out.written, upload_id=upload_id)
        return codename


def _seal(
    sealer: Sealer, stream: BinaryIO, boundary: bytes, limit: int, typed: _Typed
) -> SubmissionCodename:
    try:
        has_content = _seal_parts(sealer, stream, boundary, limit, typed)
    except (ValueError, RequestEntityTooLarge):
        raise malformed() from None
    if not has_content:
        raise malformed("error_empty")
    codename = submission_codename(bytes(typed.codename))
    sealer.close(codename.trailer(sealer.header_hash))
    return codename


def _read(stream: BinaryIO) -> bytes:
    try:
        return stream.read(READ_BYTES)
    except (ClientDisconnected, OSError):
        # The connection broke (werkzeug says ClientDisconnected, gunicorn an OSError).
        raise IntakeError("malformed", "error_broken") from None


def _seal_parts(
    sealer: Sealer, stream: BinaryIO, boundary: bytes, limit: int, typed: _Typed
) -> bool:
    """Feeds the multipart body into the sealer, the codename field and the message's
    beginning into ``typed``; True if it held a message or a file."""
    codename = typed.codename
    decoder = MultipartDecoder(boundary, max_header_bytes=MAX_HEADER_BYTES, max_parts=MAX_PARTS)
    sealing = False  # inside a part that goes into the envelope
    has_content = False
    has_message = False
    in_codename = False
    in_message = False
    while block := _read(stream):
        typed.received += len(block)
        typed.body.update(block)
        if typed.received > limit:
            raise too_large()
        for event in decoder.feed(block):
            if isinstance(event, memoryview):
                if sealing:
                    sealer.write(event)
                    has_content = True
                    if in_message:
                        room = MAX_KEPT_MESSAGE_BYTES - len(typed.message)
                        typed.message += event[: max(room, 0)]
                elif in_codename:
                    codename += event
                    if len(codename) > MAX_CODENAME_BYTES:
                        raise ValueError("the codename field is far too long")
            elif isinstance(event, PartStart):
                sealing = True
                if event.name == FILES_FIELD and event.filename:
                    media_type = event.content_type or "application/octet-stream"
                    sealer.begin_part(PartInfo("file", event.filename, media_type))
                    has_content = True
                elif event.name == MESSAGE_FIELD and event.filename is None and not has_message:
                    sealer.begin_part(PartInfo("message"))
                    has_message = in_message = True
                elif event.name == CODENAME_FIELD and event.filename is None and not codename:
                    sealing, in_codename = False, True
                else:
                    sealing = False  # empty file inputs and fields we do not know are dropped
            else:  # the part ended
                if sealing:
                    sealer.end_part()
                sealing = in_codename = in_message = False
    decoder.finish()
    return has_content
