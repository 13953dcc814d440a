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
from markupsafe import Markup
from werkzeug.security import safe_join

from crypto.codename import Codename, InvalidCodename

from . import nojs
from .confirmation import confirmation_page
from .errors import IntakeError, Kept
from .i18n import current_language, human_size, text_direction
from .pageconfig import submit_config
from .resend import AlreadyReceived, BodyHash, Resends
from .smallform import read_small_form
from .storage import Store
from .web import error_response

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
        "dir": text_direction(lang),
        "switch_url": _switch_url,
        "nowrap": lambda text: Markup('<span class="nowrap">%s</span>') % text,
    }


def _switch_url(lang: str) -> str:
    """The same page in another language (the form, for anything but a plain page view)."""
    endpoint = request.endpoint if request.method == "GET" else None
    if endpoint not in ("pages.form", "pages.sent", "followup.replies_form"):
        endpoint = "followup.replies_form" if request.blueprint == "followup" else "pages.form"
    return url_for(endpoint, lang=lang)


@bp.get("/")
def form() -> str:
    # The same bytes for every visitor of a language: rendered once per language and process.
    lang = current_language()
    pages: dict[str, str] = current_app.extensions.setdefault("sealdrop_form_pages", {})
    page = pages.get(lang)
    if page is None:
        settings = _store().settings
        page = pages[lang] = render_template(
            "index.html",
            config=submit_config(settings, lang),
            fingerprints=[key.fingerprint for key in settings.recipients],
            limit=human_size(settings.max_submission_bytes, lang),
        )
    return page


@bp.post("/submit")
def submit() -> str | Response:
    # Answered here (200), not redirected: the codename must never be in an address. A reload
    # posts the same body again: it is not stored twice (intake/resend.py).
    resends = Resends(_store().settings.data_dir)
    bodies: list[BodyHash] = []

    def before_publish(body: BodyHash) -> None:
        bodies.append(body)
        resends.check(body)

    streams = current_app.extensions["sealdrop_streams"]
    try:
        received = nojs.receive(_store(), request, streams, before_publish)
    except IntakeError as error:
        # Nothing typed is lost: the message (and a follow-up's codename) come back in a form.
        return error_response(error, kept=error.kept or Kept())
    except AlreadyReceived as again:
        return confirmation_page(again.codename, again=True)
    codename = str(received.codename) if received.new else ""
    resends.remember(bodies[0], codename)
    return confirmation_page(codename)


@bp.get("/sent")
def sent() -> str:
    """Where the JS path's address points after sending; reached by itself (a reload, the
    language switch without JS), it has no codename and says what to do."""
    return render_template("sent.html")


@bp.post("/sent")
def sent_again() -> str:
    """The no-JS confirmation in another language: its language switch posts the codename
    back (a form body, never an address), and it is shown again, then forgotten."""
    form = read_small_form(request)
    try:
        codename = Codename.parse(form.get("codename", ""))
    except InvalidCodename:
        return render_template("sent.html")
    return render_template("submitted.html", codename=str(codename))


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
