"""The submitter's way back: check for replies with the codename, read, download, delete.

Without JavaScript the codename comes to the server in a small form post; the server derives
the reply key and mailbox in memory, opens that mailbox's replies, renders them and forgets
everything (the page says so). With JavaScript the browser derives the keys itself and uses
the JSON API below, which hands out ciphertext only.

Against guessing: a wrong codename gets the very page a codename without replies gets; every
codename check and mailbox lookup does the same work (padded to a floor only if the operator
sets one: a floor holds a thread asleep); a token bucket per Tor circuit (the id nginx passes
on, kept in memory only) limits how many one circuit runs per minute, and a ceiling applies
only to checks beyond a circuit's first few of a minute, so no flood takes a person's check
away (intake/fairness.py CheckAdmission; no addresses, nothing stored).

Mailboxes (crypto/mailbox.py): a check looks in the codename's mailbox v2 (PBKDF2 with the
deployment's salt, what new submissions name) and its legacy one (threads begun before). The
PBKDF2 work of a no-JS check runs only once the bucket admitted it, one at a time per process,
a circuit's first check of a while ahead of circuits that check again and again
(DerivationGate). Nothing moves a legacy mailbox's replies to the v2 id (docs/FORMAT.md §5.8).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from urllib.parse import quote

from flask import Blueprint, Flask, Response, current_app, g, jsonify, render_template, request

from crypto import Contents, EnvelopeError, Part, open_bytes
from crypto.bundle import hour_stamp
from crypto.codename import Codename, InvalidCodename, ReplyKeys

from .checkorder import DerivationGate
from .errors import IntakeError, busy_checks, throttled
from .fairness import CIRCUIT_HEADER, CheckAdmission
from .i18n import current_language, hour_text, human_size, translate
from .mailboxsalt import current as mailbox_salt
from .pageconfig import replies_config, replies_none, submit_config
from .replies import FollowupSettings, Reply, ReplyStore, load_followup
from .smallform import read_small_form
from .storage import Store

bp = Blueprint("followup", __name__)
MAX_OPENED_BYTES = 32 << 20  # plaintext of one mailbox held in memory for a no-JS page
MAILBOX_PATTERN = re.compile(r"[a-z2-7]{26}")
ID_PATTERN = re.compile(r"[a-z0-9]{1,64}")
# ASCII digits only: str.isdigit() also takes "²", which int() refuses.
PART_PATTERN = re.compile(r"[0-9]{1,6}", re.ASCII)
# Where the n-th typed word sits when a two-column grid numbered across rows was copied down
# its columns: typed 1 3 5 7 2 4 6 8, issued order = typed[0], typed[4], typed[1], ...
COLUMN_ORDER = (0, 4, 1, 5, 2, 6, 3, 7)
NO_MAILBOX = "a" * 26  # looked up in place of a mistyped codename's: never has replies
DERIVATIONS_WAITING = 8  # checks that may wait for a derivation slot, per slot


@dataclass
class Followup:
    settings: FollowupSettings
    replies: ReplyStore
    admission: CheckAdmission
    derivations: DerivationGate
    next_expiry: float = 0.0

    def throttle(self) -> float:
        """Refuses a check beyond this circuit's share (429, "wait a minute"), or a circuit's
        heavy use beyond the ceiling (503, intake/fairness.py). Without nginx there is no
        circuit id: one shared key. Returns how fresh the circuit is (DerivationGate)."""
        refusal, fresh = self.admission.admit(request.headers.get(CIRCUIT_HEADER, ""))
        if refusal == "throttled":
            raise throttled()
        if refusal == "busy":
            raise busy_checks()
        return fresh

    def maybe_expire(self) -> None:
        now = time.monotonic()
        if now >= self.next_expiry:
            self.next_expiry = now + 60
            self.replies.cleanup()


def init_app(app: Flask, config: object) -> None:
    """Registers the pages and API; ``config`` is what create_app was given."""
    store: Store = app.extensions["sealdrop"]
    settings = load_followup(config)  # type: ignore[arg-type]
    replies = ReplyStore(store, settings.reply_ttl_days)
    app.extensions["sealdrop_replies"] = replies
    app.extensions["sealdrop_followup"] = Followup(
        settings,
        replies,
        CheckAdmission(settings.checks_per_circuit_per_minute, settings.checks_per_minute),
        DerivationGate(
            settings.derivations_at_once, DERIVATIONS_WAITING * settings.derivations_at_once
        ),
    )
    app.register_blueprint(bp)


def _followup() -> Followup:
    return current_app.extensions["sealdrop_followup"]


@contextmanager
def _guarded() -> Iterator[Followup]:
    """Throttles, then makes the block take at least the configured floor, however it ends."""
    followup = _followup()
    g.sealdrop_check_freshness = followup.throttle()
    started = time.monotonic()
    try:
        followup.maybe_expire()
        yield followup
    finally:
        left = followup.settings.floor_seconds - (time.monotonic() - started)
        if left > 0:
            time.sleep(left)


# --- no-JS pages -----------------------------------------------------------------------


@bp.get("/replies")
def replies_form() -> str:
    return _render(results=None)


def _render(**context: object) -> str:
    settings = _followup().replies.store.settings
    ttl_days = _followup().settings.reply_ttl_days
    lang = current_language()
    return render_template(
        "replies.html",
        config=replies_config(lang, ttl_days),
        submit_config=submit_config(settings, lang),  # the follow-up form is the same form
        limit=human_size(settings.max_submission_bytes, lang),
        none_text=replies_none(ttl_days, lang),
        **context,
    )


@bp.post("/replies")
def check() -> Response | str:
    form = read_small_form(request)
    typed = form.get("codename", "")
    if not typed.strip():
        return _render(results=None)  # the language switch, with nothing typed yet
    with _guarded() as followup:
        codename, error = _parse(typed)
        codename, keys, reordered = find_order(followup.replies, codename)
        opened = _open_all(followup.replies, keys)
    if reordered:
        typed = str(codename)  # shown in the order it was issued, to write down that way
    return _results(
        opened, error, str(codename) if codename else "", typed=typed, reordered=reordered
    )


@bp.post("/replies/delete")
def delete_reply() -> Response | str:
    """Deletes a reply once the person confirmed it (without JS, a second post: the first
    shows the replies again with the question next to that reply)."""
    form = read_small_form(request)
    confirmed = form.get("confirm") == "yes"
    reply_id = form.get("reply", "")
    with _guarded() as followup:
        codename, error = _parse(form.get("codename", ""))
        keys = _keys(codename)
        deleted = False
        if confirmed and keys is not None and ID_PATTERN.fullmatch(reply_id):
            deleted = any([followup.replies.delete(m, reply_id) for m in keys.mailboxes])
        opened = _open_all(followup.replies, keys)
    return _results(
        opened,
        error,
        str(codename) if codename else "",
        deleted=deleted,
        confirm_id="" if confirmed else reply_id,
    )


@bp.post("/replies/file")
def download() -> Response:
    form = read_small_form(request)
    with _guarded() as followup:
        keys = _keys(_parse(form.get("codename", ""))[0])
        reply_id, index = form.get("reply", ""), form.get("part", "")
        part = None
        if keys is not None and ID_PATTERN.fullmatch(reply_id) and PART_PATTERN.fullmatch(index):
            contents = _open_one(followup.replies, keys, reply_id)
            files = contents.files if contents is not None else []
            part = files[int(index)] if int(index) < len(files) else None
    if part is None or part.data is None:
        raise IntakeError("not-found")
    response = Response(part.data, mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = _attachment(part.info.name or "file")
    return response


def _attachment(name: str) -> str:
    """The reviewer chose the name; keep it, but only as a bare file name."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100] or "file"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name[:200])}"


def _results(
    opened: list[tuple[Reply, Contents | None]],
    error: str | None,
    codename: str,
    typed: str = "",
    **flags: object,
) -> str:
    """The replies page after a check; a wrong codename comes back as it was typed."""
    return _render(results=opened, error=error, codename=codename, typed=typed or codename, **flags)


def _parse(text: str) -> tuple[Codename | None, str | None]:
    """The codename, or a sentence in the page's language saying what is wrong with it."""
    try:
        return Codename.parse(text), None
    except InvalidCodename as error:
        return None, codename_error(error)


def column_reading(codename: Codename) -> Codename:
    """The codename a person gets by copying a grid numbered across rows (1 2 / 3 4 / ...) down
    its columns (1 3 5 7 2 4 6 8), put back in the order it was issued."""
    words = str(codename).split()
    return Codename.parse(" ".join(words[i] for i in COLUMN_ORDER))


def find_order(
    replies: ReplyStore, codename: Codename | None
) -> tuple[Codename | None, ReplyKeys | None, bool]:
    """The codename as typed and its keys; or, when only its column reading has replies, that
    (True). Both readings' mailboxes (v2 and legacy) are looked up every time, so every check
    of a codename does the same work."""
    if codename is None:
        for _ in range(4):
            replies.list(NO_MAILBOX)
        return None, None, False
    other = column_reading(codename)
    with _derivation_slot():
        keys, other_keys = codename.derive(mailbox_salt()), other.derive(mailbox_salt())
    as_typed = [replies.list(mailbox) for mailbox in keys.mailboxes]
    by_columns = [replies.list(mailbox) for mailbox in other_keys.mailboxes]
    if not any(as_typed) and any(by_columns):
        return other, other_keys, True
    return codename, keys, False


def _keys(codename: Codename | None) -> ReplyKeys | None:
    """The keys, both mailboxes included: a submission sealed before mailbox v2 named the
    legacy one, and replies to it go there (docs/FORMAT.md §5.8)."""
    if codename is None:
        return None
    with _derivation_slot():
        return codename.derive(mailbox_salt())


def _derivation_slot() -> AbstractContextManager[None]:
    """A slot for the CPU a mailbox v2 derivation takes, ordered by the circuit's freshness
    (intake/fairness.py DerivationGate; the check was admitted by _guarded first)."""
    return _followup().derivations.slot(g.get("sealdrop_check_freshness", 0.0))


def codename_error(error: InvalidCodename) -> str:
    lang = current_language()
    if error.count is not None:
        return translate("error_codename_count", lang, count=error.count)
    if error.position is not None:
        return translate("error_codename_word", lang, position=error.position)
    return translate("error_codename", lang)


def _open_all(replies: ReplyStore, keys: ReplyKeys | None) -> list[tuple[Reply, Contents | None]]:
    # A typo still looks two mailboxes up (one that never has replies), so that every codename
    # check does the same database work.
    mailboxes = keys.mailboxes if keys is not None else (NO_MAILBOX, NO_MAILBOX)
    opened: list[tuple[Reply, Contents | None]] = []
    budget = MAX_OPENED_BYTES
    found = [reply for mailbox in mailboxes for reply in replies.list(mailbox)]
    for reply in sorted(found, key=lambda r: (r.received_hour, r.id)):
        contents = None
        if keys is not None and reply.size <= budget:
            contents = _open_one(replies, keys, reply.id)
            budget -= reply.size
        opened.append((reply, contents))
    return opened


def _open_one(replies: ReplyStore, keys: ReplyKeys, reply_id: str) -> Contents | None:
    envelope = next(
        (e for e in (replies.read(m, reply_id) for m in keys.mailboxes) if e is not None), None
    )
    if envelope is None:
        return None
    try:
        return open_bytes(envelope, [keys.identity], MAX_OPENED_BYTES)
    except (EnvelopeError, ValueError):
        return None  # shown as "could not be opened here"


def text_of(part: Part | None) -> str:
    if part is None or part.data is None:
        return ""
    return part.data.decode("utf-8", errors="replace")


bp.add_app_template_global(text_of, "reply_text")
bp.add_app_template_global(hour_text, "hour_text")


# --- JSON API for the browser's own decryption ---------------------------------------------


@bp.get("/api/v1/mailboxes/<mailboxes>/replies")
def api_list(mailboxes: str) -> Response:
    """The replies of one mailbox, or of a codename's two (``v2,legacy``: one check, as the
    page makes it), each naming its mailbox. Two lookups every time, whatever was asked."""
    asked = mailboxes.split(",")
    wanted = [m for m in asked if MAILBOX_PATTERN.fullmatch(m)] if len(asked) <= 2 else []
    with _guarded() as followup:
        rows = [
            (mailbox, reply)
            for mailbox in (wanted + [NO_MAILBOX] * 2)[:2]
            for reply in followup.replies.list(mailbox)
        ]
    rows.sort(key=lambda row: (row[1].received_hour, row[1].id))
    return jsonify(
        {
            "replies": [
                {
                    "id": r.id,
                    "mailbox": mailbox,
                    "received": hour_stamp(r.received_hour),
                    # As the page shows it, in the request's language and the site's time zone.
                    "received_text": hour_text(r.received_hour),
                    "size": r.size,
                }
                for mailbox, r in rows
            ]
        }
    )


@bp.get("/api/v1/mailboxes/<mailbox>/replies/<reply_id>")
def api_get(mailbox: str, reply_id: str) -> Response:
    followup = _followup()
    followup.throttle()
    envelope = None
    if MAILBOX_PATTERN.fullmatch(mailbox) and ID_PATTERN.fullmatch(reply_id):
        envelope = followup.replies.read(mailbox, reply_id)
    if envelope is None:
        raise IntakeError("not-found")
    return Response(envelope, mimetype="application/octet-stream")


@bp.route("/api/v1/mailboxes/<mailbox>/replies/<reply_id>", methods=["DELETE"])
@bp.post("/api/v1/mailboxes/<mailbox>/replies/<reply_id>/delete")
def api_delete(mailbox: str, reply_id: str) -> Response:
    with _guarded() as followup:
        deleted = False
        if MAILBOX_PATTERN.fullmatch(mailbox) and ID_PATTERN.fullmatch(reply_id):
            deleted = followup.replies.delete(mailbox, reply_id)
    if not deleted:
        raise IntakeError("not-found")
    return jsonify({"status": "deleted"})
