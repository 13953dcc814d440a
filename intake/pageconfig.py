"""What the browser scripts read from the page (<script type="application/json">): keys,
limits, and their texts in the page's language, from the same gettext catalogs as the page."""

from __future__ import annotations

from flask import url_for
from flask_babel import force_locale, ngettext

from .config import Settings
from .i18n import human_size, plural_forms, translate
from .mailboxsalt import current as mailbox_salt
from .messages import MINUTES_LEFT, REPLIES_NONE

SUBMIT_MESSAGE_KEYS = (
    "cleaning",
    "error_strip",
    "encrypting",
    "uploading",
    "uploading_left",
    "less_than_a_minute",
    "retrying",
    "finishing",
    "error_too_large",
    "error_storage_full",
    "error_busy",
    "error_broken",
    "error_generic",
    "sent",
    "error_codename",
    "error_empty",
    "error_unreadable",
    "leave_uploading",
    "leave_codename",
)
REPLIES_MESSAGE_KEYS = (
    "replies_deriving",
    "replies_fetching",
    "replies_failed",
    "reply_unreadable",
    "reply_written",
    "delete_reply",
    "delete_confirm",
    "delete_yes",
    "delete_no",
    "reply_deleted",
    "download",
    "downloads_stay",
    "error_busy_checks",
    "error_throttled_checks",
    "error_codename_count",
    "error_codename_word",
    "error_generic",
)
# Placeholders the scripts fill in themselves stay as they are.
_KEEP = {
    name: f"%({name})s" for name in ("percent", "time_left", "count", "position", "hour", "name")
}


def submit_config(settings: Settings, lang: str) -> dict[str, object]:
    """The submission form's script: recipients' keys, limits, texts."""
    limit = human_size(settings.max_submission_bytes, lang)
    return {
        "recipients": [key.line for key in settings.recipients],
        "max_bytes": settings.max_submission_bytes,
        "chunk_bytes": settings.chunk_bytes,
        "lang": lang,
        "mailbox_salt": mailbox_salt().hex(),  # the trailer's mailbox v2 (crypto/mailbox.py)
        "sent_url": url_for("pages.sent", lang=lang),
        "messages": {
            key: translate(key, lang, limit=limit, **_KEEP) for key in SUBMIT_MESSAGE_KEYS
        },
        "minutes_left": plural_forms(*MINUTES_LEFT, lang),
    }


def replies_none(ttl_days: int, lang: str) -> str:
    with force_locale(lang):
        return ngettext(*REPLIES_NONE, ttl_days)


def replies_config(lang: str, ttl_days: int) -> dict[str, object]:
    """The replies page's script: its texts."""
    messages = {key: translate(key, lang, **_KEEP) for key in REPLIES_MESSAGE_KEYS}
    messages["replies_none"] = replies_none(ttl_days, lang)
    return {"lang": lang, "mailbox_salt": mailbox_salt().hex(), "messages": messages}
