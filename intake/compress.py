"""Gzip for the few answers that are the same bytes for every visitor: the submission page (per
language), /api/v1/config and /api/v1/epochs. Over Tor every kilobyte of the first load costs
a person on a phone seconds (issue 22's first-load target: 40 KB), and the page's HTML and
the reviewers' signed weekly keys are most of what is not already served pre-compressed.

Compression side channels (BREACH): compressing a response leaks, through its length, how
much of it repeats itself, so an answer that holds a secret next to anything an attacker can
make it echo must never be compressed. These answers hold no secret and echo nothing (the
form page is rendered once per language; the two API documents are public and the same for
everyone), so their length says nothing the bytes themselves do not. Everything else stays
uncompressed: the no-JS confirmation (a codename), a form sent back with the person's own
message after an error, the replies API. That is why this is an allow-list by endpoint and
method here, and why the nginx site switches nginx's own gzip off (Debian's nginx.conf turns
it on for text/html, which would compress those pages too)."""

from __future__ import annotations

import functools
import gzip

from flask import Flask, Response, request

PUBLIC_ENDPOINTS = frozenset({"pages.form", "api.config", "api.epoch_statements"})


@functools.lru_cache(maxsize=16)
def _gzip(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=9, mtime=0)  # no time in the header (invariant 3)


def compress_public(response: Response) -> Response:
    if (
        request.method != "GET"
        or request.endpoint not in PUBLIC_ENDPOINTS
        or response.status_code != 200
        or response.is_streamed
        or "Content-Encoding" in response.headers
    ):
        return response
    response.vary.add("Accept-Encoding")
    if "gzip" in request.accept_encodings:
        response.set_data(_gzip(response.get_data()))
        response.headers["Content-Encoding"] = "gzip"
    return response


def init_app(app: Flask) -> None:
    app.after_request(compress_public)
