"""What every response shares: security headers, and errors as pages or JSON in the
submitter's language (never a stack trace, never anything identifying in the logs)."""

from __future__ import annotations

import errno
import logging
import traceback

from flask import Flask, Response, current_app, jsonify, render_template, request
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from .crosssite import refuse_cross_site
from .errors import IntakeError, Kept
from .i18n import current_language, human_size, translate

log = logging.getLogger("sealdrop.intake")

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; worker-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
PERMISSIONS = (
    "accelerometer=(), autoplay=(), camera=(), clipboard-read=(), clipboard-write=(), "
    "display-capture=(), encrypted-media=(), fullscreen=(), geolocation=(), gyroscope=(), "
    "hid=(), interest-cohort=(), magnetometer=(), microphone=(), midi=(), payment=(), "
    "picture-in-picture=(), publickey-credentials-get=(), screen-wake-lock=(), serial=(), "
    "usb=(), xr-spatial-tracking=()"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Permissions-Policy": PERMISSIONS,
}
# HTTP statuses Flask/Werkzeug may raise, mapped to our error codes.
_HTTP_CODES = {404: "not-found", 405: "malformed", 413: "too-large", 503: "busy"}


def init_app(app: Flask) -> None:
    app.before_request(refuse_cross_site)
    app.after_request(_security_headers)
    app.register_error_handler(IntakeError, _intake_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _database_error)
    app.register_error_handler(PoolTimeout, _database_error)
    app.register_error_handler(OSError, _os_error)
    app.register_error_handler(Exception, _unexpected_error)


# What _security_headers sets, listed once: every response gets these, in place of any of
# the same names (and of Server and Set-Cookie) that a view set.
_FIXED = list(HEADERS.items())
_REPLACED = frozenset(name.lower() for name in HEADERS) | {"server", "set-cookie"}
_VARY = ("Vary", "Accept-Language")


def _security_headers(response: Response) -> Response:
    headers = response.headers
    own = [(name, value) for name, value in headers if name.lower() not in _REPLACED]
    # The language may come from Accept-Language (intake/i18n.py); static files do not vary.
    vary = request.endpoint != "pages.static"
    if vary and any(name.lower() == "vary" for name, _ in own):
        response.vary.add(_VARY[1])  # merged into the view's own Vary
        own = [(name, value) for name, value in headers if name.lower() not in _REPLACED]
        vary = False
    headers[:] = [*own, *_FIXED, _VARY] if vary else [*own, *_FIXED]
    return response


def error_response(error: IntakeError, kept: Kept | None = None) -> Response:
    """The error as JSON for the API, else as a page; ``kept`` (a no-JS submission's typed
    text) makes the page hand the form back, filled in."""
    store = current_app.extensions["sealdrop"]
    limit = human_size(store.settings.max_submission_bytes)
    message = translate(error.message_key, limit=limit)
    if request.path.startswith("/api/"):
        response = jsonify({"error": error.code, "message": message, **error.extra})
    else:
        if kept is not None:
            heading = "not_sent"
        elif error.code == "not-found" and request.method == "GET":
            heading = "not_found"
        else:
            heading = "failed"
        page = render_template(
            "error.html",
            message=message,
            status=error.status,
            heading_text=translate(f"title_{heading}"),
            kept=kept,
            limit=limit,
        )
        response = Response(page, mimetype="text/html")
    response.status_code = error.status
    response.headers["Content-Language"] = current_language()
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    if error.close:
        response.headers["Connection"] = "close"
    return response


def _intake_error(error: IntakeError) -> Response:
    return error_response(error)


def _http_error(error: HTTPException) -> Response:
    code = _HTTP_CODES.get(error.code or 500, "malformed" if (error.code or 500) < 500 else "busy")
    key = "error_method" if error.code == 405 else None
    response = error_response(IntakeError(code, key))
    if error.code in (404, 405):
        response.status_code = error.code
    return response


def _database_error(error: OperationalError | PoolTimeout) -> Response:
    cause = getattr(error, "orig", None) or error
    log.warning("database unavailable (%s)", type(cause).__name__)
    return error_response(IntakeError("busy"))


def _os_error(error: OSError) -> Response:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        log.warning("the disk is full")
        return error_response(IntakeError("storage-full"))
    return _unexpected_error(error)


def _unexpected_error(error: Exception) -> Response:
    # Only the exception's type and the code path: its message could quote submitted data.
    frames = "".join(traceback.format_tb(error.__traceback__))
    log.error("unexpected %s on %s\n%s", type(error).__name__, request.endpoint, frames)
    return error_response(IntakeError("generic"))
