"""The signed deployment statement, served at a fixed address for `sealdrop-verify`.

The admin copies the file `sealdrop-reviewer sign-deployment` made on the offline machine to
DATA_DIR/deployment-statement; the server only hands it out, as bytes, and never reads it.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app

bp = Blueprint("deployment", __name__)
PATH = "/.well-known/sealdrop-deployment"
FILE_NAME = "deployment-statement"
MAX_BYTES = 64 * 1024  # crypto.deployment.MAX_BYTES


@bp.get(PATH)
def statement() -> Response:
    path = current_app.extensions["sealdrop"].settings.data_dir / FILE_NAME
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        abort(404)
    return Response(data, mimetype="text/plain", headers={"Content-Disposition": "inline"})
