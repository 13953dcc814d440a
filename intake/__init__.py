"""sealdrop's intake server: the submission form, the upload API, and sealing without JS.

app = create_app({"DATA_DIR": ..., "RECIPIENTS": [...]})   # or create_app() for SEALDROP_*
"""

from __future__ import annotations

import resource
import zoneinfo
from collections.abc import Mapping
from typing import Any

from flask import Flask

from . import config as config_module
from .config import Settings
from .db import make_engine
from .fairness import StreamGuard
from .memory import give_back_large_buffers
from .storage import Store


def create_app(config: Mapping[str, Any] | Settings | None = None) -> Flask:
    """The WSGI app. ``config`` is a dict of DATA_DIR, DATABASE_URL, RECIPIENTS (paths),
    MAX_SUBMISSION_BYTES, STORAGE_BUDGET_BYTES, UPLOAD_TTL_HOURS, TIME_ZONE; None reads
    SEALDROP_*."""
    from . import api, compress, deployment, followup, i18n, mailboxsalt, pages, web
    from .setup import check_initialised

    settings = config_module.load(config)
    # A core dump would write whatever plaintext is in memory to disk.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    give_back_large_buffers()
    app = Flask(__name__, static_folder=None)
    # Request bodies are never parsed into forms here (that would spool files to disk); each
    # view reads request.stream itself, within its own limits.
    app.config.update(MAX_CONTENT_LENGTH=None, MAX_FORM_MEMORY_SIZE=0, MAX_FORM_PARTS=0)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    store = Store(settings, make_engine(settings.database_url))
    check_initialised(store)
    app.extensions["sealdrop"] = store
    app.extensions["sealdrop_mailbox_salt"] = mailboxsalt.load(settings.data_dir)
    app.extensions["sealdrop_streams"] = StreamGuard(settings)
    app.extensions["sealdrop_time_zone"] = zoneinfo.ZoneInfo(settings.time_zone)
    i18n.init_app(app, settings.time_zone, config)
    web.init_app(app)
    compress.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(deployment.bp)
    followup.init_app(app, config)
    store.cleanup()
    return app


def get_store(app: Flask) -> Store:
    return app.extensions["sealdrop"]
