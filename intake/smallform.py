"""Small urlencoded form posts (a codename, a reply id), read here with a hard size limit:
werkzeug's form parsing is off for the whole app."""

from __future__ import annotations

from urllib.parse import parse_qs

from flask import Request
from werkzeug.exceptions import ClientDisconnected

from .errors import IntakeError, malformed

MAX_FORM_BYTES = 4096


def read_small_form(request: Request) -> dict[str, str]:
    mimetype = (request.mimetype or "").lower()
    length = request.content_length
    if mimetype != "application/x-www-form-urlencoded" or (length or 0) > MAX_FORM_BYTES:
        raise malformed()
    body = b""
    try:
        while len(body) <= MAX_FORM_BYTES and (block := request.stream.read(MAX_FORM_BYTES)):
            body += block  # one read may return less than was sent
    except (ClientDisconnected, OSError):
        raise IntakeError("malformed", "error_broken") from None
    if len(body) > MAX_FORM_BYTES:
        raise malformed()
    try:
        fields = parse_qs(body.decode("ascii"), strict_parsing=False, max_num_fields=8)
    except (UnicodeDecodeError, ValueError):
        raise malformed() from None
    return {name: values[0] for name, values in fields.items()}
