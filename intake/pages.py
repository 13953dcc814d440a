"""The submitter's pages: the form, the no-JS submission, the confirmation, static files."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    send_file,
    url_for,
)
from werkzeug.security import safe_join

from . import nojs
from .config import Settings
from .i18n import JS_MESSAGE_KEYS, LANGUAGES, catalog, current_language, human_size, translate
from .storage import Store

bp = Blueprint("pages", __name__)
STATIC_DIR = Path(__file__).parent / "static"
_PRECOMPRESSED = (".js", ".css", ".wasm")
SERVED_DIRS = frozenset({"js", "css"})
MAX_STATIC_PATH = 200


def _store() -> Store:
    return current_app.extensions["sealdrop"]


@bp.app_context_processor
def _template_globals() -> dict[str, object]:
    lang = current_language()
    return {
        "lang": lang,
        "_": lambda key, **values: translate(key, lang, **values),
        "languages": [(code, catalog(code)["language_name"]) for code in LANGUAGES],
        "switch_url": _switch_url,
    }


def _switch_url(lang: str) -> str:
    """The same page in another language (the form, for anything but a plain page view)."""
    endpoint = request.endpoint if request.method == "GET" else None
    if endpoint not in ("pages.form", "pages.sent", "followup.replies_form"):
        endpoint = "followup.replies_form" if request.blueprint == "followup" else "pages.form"
    return url_for(endpoint, lang=lang)


def page_config(settings: Settings, lang: str) -> dict[str, object]:
    """What the browser's JS reads from <script id="sealdrop-config">."""
    limit = human_size(settings.max_submission_bytes, lang)
    return {
        "recipients": [key.line for key in settings.recipients],
        "max_bytes": settings.max_submission_bytes,
        "chunk_bytes": settings.chunk_bytes,
        "lang": lang,
        "sent_url": url_for("pages.sent", lang=lang),
        # "uploading" keeps its {percent} placeholder for the JS to fill in.
        "messages": {
            key: translate(key, lang, limit=limit, percent="{percent}") for key in JS_MESSAGE_KEYS
        },
    }


@bp.get("/")
def form() -> str:
    settings = _store().settings
    lang = current_language()
    return render_template(
        "index.html",
        config=page_config(settings, lang),
        fingerprints=[key.fingerprint for key in settings.recipients],
        limit=human_size(settings.max_submission_bytes, lang),
    )


@bp.post("/submit")
def submit() -> str:
    # Answered here (200), not redirected: the codename must never be in an address.
    received = nojs.receive(_store(), request, current_app.extensions["sealdrop_streams"])
    codename = str(received.codename) if received.new else ""
    return render_template("submitted.html", codename=codename)


@bp.get("/sent")
def sent() -> str:
    return render_template("sent.html")


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for it on every visit; there is none, and that is not an error."""
    return Response(status=204)


@bp.get("/static/<path:filename>")
def static(filename: str) -> Response:
    path = _servable(filename)
    if path is None:
        abort(404)
    compressed = Path(path + ".gz")
    if (
        filename.endswith(_PRECOMPRESSED)
        and compressed.is_file()
        and "gzip" in request.accept_encodings
    ):
        response = send_file(compressed, mimetype=_mimetype(filename), etag=False)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = send_file(path, mimetype=_mimetype(filename), etag=False)
    response.last_modified = None
    response.headers.pop("Last-Modified", None)  # a file time says when the server was set up
    response.headers["Vary"] = "Accept-Encoding"
    return response


def _servable(filename: str) -> str | None:
    """The file to serve, or None: only the built bundle and stylesheets (js/, css/), never
    the sources, the build script or dotfiles; a name too long for the filesystem is simply
    not there."""
    parts = filename.split("/")
    if (
        len(filename) > MAX_STATIC_PATH
        or parts[0] not in SERVED_DIRS
        or any(not part or part.startswith(".") for part in parts)
    ):
        return None
    path = safe_join(str(STATIC_DIR), filename)
    try:
        return path if path is not None and Path(path).is_file() else None
    except OSError:  # ENAMETOOLONG and the like
        return None


def _mimetype(filename: str) -> str | None:
    if filename.endswith(".js"):
        return "text/javascript"
    if filename.endswith(".css"):
        return "text/css"
    return None
