"""The upload API the browser's JS uses: it uploads an envelope it sealed itself, in chunks,
resuming after interruptions. The server checks what it can without keys (the header names
our recipients, the length fits the chunk structure) and stores the rest as it came.

See docs/UPLOAD.md for the contract.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from typing import BinaryIO

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import ClientDisconnected

from crypto import EnvelopeError, plaintext_length_of, read_header, strictjson
from crypto.envelope import (
    MAGIC,
    PREAMBLE_BYTES,
    VERSIONS,
    header_length,
    length_fits,
    max_header_length,
)
from crypto.writeback import start_writeback, write_all

from . import epochs
from .errors import IntakeError, malformed, too_large
from .fairness import StreamGuard, held_by_front, socket_closer
from .storage import Duplicate, Store, UploadInfo, UploadToken, blur_time

bp = Blueprint("api", __name__, url_prefix="/api/v1")
ID_PATTERN = re.compile(r"[a-z0-9]{1,64}")
MAX_JSON_BYTES = 4096
MAX_JSON_DEPTH = 4


def _store() -> Store:
    return current_app.extensions["sealdrop"]


def _streams() -> StreamGuard:
    return current_app.extensions["sealdrop_streams"]


def _json(data: dict[str, object], status: int = 200) -> Response:
    response = jsonify(data)
    response.status_code = status
    return response


@bp.get("/config")
def config() -> Response:
    settings = _store().settings
    return _json(
        {
            "recipients": [key.line for key in settings.recipients],
            "max_bytes": settings.max_submission_bytes,
            "chunk_bytes": settings.chunk_bytes,
        }
    )


@bp.get("/epochs")
def epoch_statements() -> Response:
    """The reviewers' signed weekly keys, for the page to verify and seal to (FORMAT.md 10.3)."""
    return _json(epochs.served(_store().settings))


@bp.post("/uploads")
def create() -> Response:
    store = _store()
    settings = store.settings
    body = _read_up_to(request.stream, MAX_JSON_BYTES + 1)
    if len(body) > MAX_JSON_BYTES:
        raise malformed()
    try:
        size = _json_body(body)["size"]
    except (KeyError, TypeError, ValueError):
        raise malformed() from None
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise malformed()
    if size > settings.max_submission_bytes:
        raise too_large()
    if not length_fits(size, len(settings.recipients)):
        raise malformed()
    store.maybe_cleanup_expired_uploads()
    upload_id = store.create_upload(size)
    return _json({"id": upload_id, "chunk_bytes": settings.chunk_bytes}, 201)


@bp.get("/uploads/<upload_id>")
def status(upload_id: str) -> Response:
    store = _store()
    upload = store.find_upload(upload_id) if ID_PATTERN.fullmatch(upload_id) else None
    if upload is None:
        stored = _stored_size(store, upload_id)
        if stored is None:
            raise IntakeError("not-found")
        # Stored whole at a PUT whose answer was lost: all of it is here, nothing to finish.
        return _json({"received": stored, "size": stored, "stored": True})
    return _json({"received": upload.received, "size": upload.size})


@bp.put("/uploads/<upload_id>")
def put_chunk(upload_id: str) -> Response:
    store = _store()
    chunk_bytes = store.settings.chunk_bytes
    length = request.content_length
    if length is not None and length > chunk_bytes:
        # Refused unread (our page never sends more): reading it would hold a thread unwatched.
        raise IntakeError("malformed", close=True)
    offset = request.args.get("offset", type=int)
    if offset is None or offset < 0:
        raise malformed()
    upload = None
    if ID_PATTERN.fullmatch(upload_id):
        # A text sent whole needs no look-up (issue 18): its one transaction says the rest.
        upload = store.unbegun_text(upload_id, length) if offset == 0 else None
        upload = upload or store.find_upload(upload_id)
    if upload is None:
        stored = _stored_size(store, upload_id)
        if stored is not None:  # a retry after a lost answer: all of it is here
            return _json({"received": stored, "stored": True})
        raise IntakeError("not-found")
    closer = socket_closer(request.environ)
    with _streams().streaming(request.stream, closer, held_by_front(request.headers)) as stream:
        body = _read_up_to(stream, chunk_bytes + 1 if length is None else length)
    if len(body) > chunk_bytes or (length is not None and len(body) != length):
        raise IntakeError("malformed", "error_broken")
    if not upload.started:
        if offset > 0:
            raise IntakeError("conflict", received=0)
        if not body:
            return _json({"received": 0})
        if upload.small and len(body) == upload.size:
            _store_whole(store, upload, body)  # a text: one write, one commit
            # "stored": the page need not send finish (one request less per text).
            return _json({"received": len(body), "stored": True})
        store.begin_upload(upload)
    store.maybe_cleanup_expired_uploads()
    with store.locked_upload(upload.id) as handle:
        received = os.fstat(handle.fileno()).st_size
        if offset == received and body:
            if received + len(body) > (upload.size or 0):
                store.discard_upload(upload.id)
                raise malformed()
            # Before the write: the budget is never crossed.
            store.charge(upload.id, len(body), upload.small)
            try:
                handle.seek(received)
                write_all(handle.fileno(), body)
            except BaseException:
                os.ftruncate(handle.fileno(), received)
                store.uncharge(upload.id, len(body), upload.small)
                raise
            blur_time(handle.fileno())
            start_writeback(handle.fileno(), received, received + len(body))
            previous, received = received, received + len(body)
            if previous < max_header_length(len(store.settings.recipients)):
                _check_header(store, handle, received, upload.id)
        elif not (offset <= received and offset + len(body) <= received):
            raise IntakeError("conflict", received=received)
    return _json({"received": received})


def _store_whole(store: Store, upload: UploadInfo, envelope: bytes | bytearray) -> None:
    """A small upload whose one PUT carries all of it is checked and stored at once: it
    never holds a row, a file or a share of anything while it is unfinished."""
    head = bytes(envelope[: max_header_length(len(store.settings.recipients))])
    key = _header_refusal(store, head)
    if key is not None:
        raise malformed(key)
    if _length_refused(head, len(envelope)):
        raise malformed()
    with contextlib.suppress(Duplicate):  # another request of the same upload stored it
        store.store_whole(envelope, finished=upload.id)


def _stored_size(store: Store, upload_id: str) -> int | None:
    """The size of a JS upload that is stored already, or None."""
    token = UploadToken.parse(upload_id) if ID_PATTERN.fullmatch(upload_id) else None
    return token.size if token is not None and store.is_finished(upload_id) else None


@bp.post("/uploads/<upload_id>/finish")
def finish(upload_id: str) -> Response:
    store = _store()
    # Stored already: a small upload at its PUT, or a retry after a lost answer.
    if not (ID_PATTERN.fullmatch(upload_id) and store.is_finished(upload_id)):
        try:
            _finish(store, upload_id)
        except IntakeError as error:
            # A finish racing another: it is stored already.
            if not (error.code == "not-found" and store.is_finished(upload_id)):
                raise
    return _json({"status": "stored"}, 201)


def _finish(store: Store, upload_id: str) -> None:
    upload = _find(store, upload_id)
    if not upload.started:
        raise IntakeError("not-found")  # not a byte of it is here
    with store.locked_upload(upload.id) as handle:
        received = os.fstat(handle.fileno()).st_size
        if received != upload.size:
            store.discard_upload(upload.id)
            raise IntakeError("malformed", "error_broken")
        _check_header(store, handle, received, upload.id)
        if _length_refused(os.pread(handle.fileno(), PREAMBLE_BYTES, 0), received):
            store.discard_upload(upload.id)
            raise malformed()
        store.publish(store.upload_path(upload.id), handle, received, upload_id=upload.id)


# --- helpers -----------------------------------------------------------------------------


def _json_body(body: bytes) -> dict[str, object]:
    """The body as a JSON object, by the strict reader (a JSONRefused is a ValueError)."""
    return strictjson.loads_object(body, max_bytes=MAX_JSON_BYTES, max_depth=MAX_JSON_DEPTH)


def _read_up_to(stream: BinaryIO, limit: int) -> bytes | bytearray:
    """Reads until ``limit`` bytes or the end (one read may return less), into one buffer:
    a chunk is held once, not once per piece and again joined."""
    buffer = bytearray(limit)
    view = memoryview(buffer)
    total = 0
    readinto = getattr(stream, "readinto", None)  # gunicorn's chunked body has only read
    try:
        while total < limit:
            if readinto is not None:
                count = readinto(view[total:])
            else:
                block = stream.read(limit - total)
                count = len(block)
                view[total : total + count] = block
            if not count:
                break
            total += count
    except (ClientDisconnected, OSError):
        raise IntakeError("malformed", "error_broken") from None
    finally:
        view.release()
    del buffer[total:]
    return buffer


def _find(store: Store, upload_id: str) -> UploadInfo:
    upload = store.find_upload(upload_id) if ID_PATTERN.fullmatch(upload_id) else None
    if upload is None:
        raise IntakeError("not-found")
    return upload


def _check_header(store: Store, handle: BinaryIO, received: int, upload_id: str) -> None:
    """Refuses, as soon as enough has arrived, an envelope that is not of a readable version
    (1 or 2) for exactly our reviewers."""
    head = os.pread(handle.fileno(), max_header_length(len(store.settings.recipients)), 0)
    key = _header_refusal(store, head)
    if key is not None:
        store.discard_upload(upload_id)
        raise malformed(key)


def _header_refusal(store: Store, head: bytes) -> str | None:
    """Why the envelope beginning with ``head`` (its header, or as much as came) cannot be
    ours: the message key, or None."""
    recipients = store.settings.recipients
    key = "error_malformed"
    ok = head[: len(MAGIC)] == MAGIC[: len(head)]
    if ok and len(head) > len(MAGIC):
        ok = head[len(MAGIC)] in VERSIONS
    if ok and len(head) > len(MAGIC) + 1:
        ok = head[len(MAGIC) + 1] == len(recipients)
        key = "error_wrong_keys"
    needed = header_length(len(recipients), head[len(MAGIC)]) if ok and len(head) > 9 else 0
    if ok and needed and len(head) >= needed:
        try:
            header = read_header(io.BytesIO(head[:needed]))
        except EnvelopeError:
            ok, key = False, "error_malformed"
        else:
            # one stanza per reviewer: their long-term key or a weekly key (FORMAT.md 10.2)
            ids = set(header.key_ids)
            ok = all(
                len(ids & accepted) == 1 for accepted in epochs.acceptable_key_ids(store.settings)
            )
    return None if ok else key


def _length_refused(head: bytes, total: int) -> bool:
    """Whether ``total`` bytes is a length no honest sealer of the version that ``head`` (at
    least the preamble) names writes for its recipient count."""
    try:
        version, count = head[len(MAGIC)], head[len(MAGIC) + 1]
        plaintext_length_of(total - header_length(count, version), version)
    except (EnvelopeError, IndexError):
        return True
    return False
