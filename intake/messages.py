"""Texts that code (not a template) chooses by key: error messages, which IntakeError names,
and the status texts the browser scripts show. Each is an English msgid marked with N_ so
that `make messages` extracts it into intake/translations/messages.pot; i18n.translate(key)
looks it up in the page's language. Placeholders are %(name)s (python-format); the scripts
fill in the ones they own (%(percent)s, %(count)s, %(position)s, %(hour)s, %(time_left)s).

To add a message: add a key here (or write _("...") in a template), run `make messages`, and
translate the new entry in each intake/translations/<lang>/LC_MESSAGES/messages.po.
"""

from __future__ import annotations


def N_(text: str) -> str:
    """gettext's "mark for extraction only"."""
    return text


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """The same for a message with plural forms (extracted with `-k Nn_:1,2`)."""
    return singular, plural


MESSAGES: dict[str, str] = {
    # Errors (intake/errors.py names them; the API and the pages both show them).
    "error_too_large": N_(
        "This is too large to send at once. Everything together may be up to %(limit)s. "
        "Send part of it now, then the rest as a follow-up with the same codename "
        '("Check for replies", then "Write to us again"), so that we know it belongs together.'
    ),
    "error_storage_full": N_(
        "We cannot accept new submissions right now because our storage is full. "
        "Please try again in a few days."
    ),
    "error_busy": N_("The server is busy. Please wait a minute and try again."),
    "error_broken": N_(
        "The upload was interrupted or damaged, so it was not kept. Please try sending again."
    ),
    "error_generic": N_(
        "Something went wrong on our side, and nothing was kept. Please try again later."
    ),
    "error_malformed": N_(
        "What arrived could not be read, so it was not kept. Please try sending again."
    ),
    "error_empty": N_("There was nothing to send. Please write a message or choose a file."),
    "error_not_found": N_("This page or upload does not exist, or it has expired."),
    "error_conflict": N_(
        "The upload got out of step with the server; it will continue from where the server is."
    ),
    "error_wrong_keys": N_(
        "This was encrypted for different keys than ours, so it was not kept. "
        "Reload the page and send again."
    ),
    "error_method": N_("This address does not accept that kind of request."),
    "error_strip": N_(
        "The file %(name)s could not be checked for location details, so nothing was sent. "
        "Send a screenshot of it instead, or tick the box to keep the details and send it as "
        "it is."
    ),
    "error_unreadable": N_(
        "A file you chose can no longer be read (was it moved or deleted?), so nothing was "
        "sent. Choose it again and send."
    ),
    "error_busy_checks": N_(
        "Too many people are checking for replies right now. Please wait a minute and try again."
    ),
    "error_codename": N_(
        "This is not a codename. A codename has eight words; check the paper you wrote it on."
    ),
    "error_codename_count": N_(
        "A codename has 8 words; this has %(count)s. Check the paper you wrote it on."
    ),
    "error_codename_word": N_(
        "Word %(position)s of the codename is not one of its words; check its spelling."
    ),
    # Refusals of the fairness limits (intake/fairness.py, intake/crosssite.py: branch fair).
    "error_busy_uploads": N_(
        "Many large uploads are under way right now, so yours cannot start or continue yet. "
        "Nothing you sent is lost: please wait a few minutes and try again. A message with "
        "small files can still be sent now."
    ),
    "error_busy_streams": N_(
        "Many people are sending files right now. Please wait a minute and send again; nothing "
        "was kept."
    ),
    "error_too_slow": N_(
        "The connection became too slow to finish sending, so it was closed and nothing was "
        "kept. Please try again, perhaps with a new Tor circuit (“New Tor circuit for this "
        "site” in the Tor Browser menu)."
    ),
    "error_cross_site": N_(
        "This request came from another website, not from this site's own page, so it was "
        "refused and nothing was kept. Open this site's address directly and try again."
    ),
    "error_json_type": N_(
        "This request was refused because it did not come from this site's own page, so "
        "nothing was kept. Reload the page and try again."
    ),
    "error_throttled_checks": N_(
        "You have checked for replies many times in a short while. Please wait a minute, then "
        "try again."
    ),
    # Error pages' headings.
    "title_not_sent": N_("Your message was not sent"),
    "title_not_found": N_("This page does not exist"),
    "title_failed": N_("Something went wrong"),
    # The submission script's status line.
    "cleaning": N_("Removing location and camera details from your photos and videos…"),
    "encrypting": N_("Encrypting on your device…"),
    "uploading": N_("Sending… %(percent)s%%. Keep this page open."),
    "uploading_left": N_("Sending… %(percent)s%%. Keep this page open: %(time_left)s left."),
    "retrying": N_("The connection was interrupted. Trying again…"),
    "finishing": N_("Finishing…"),
    "sent": N_("Sent. Thank you."),
    "leave_uploading": N_("Your message is still being sent. If you leave now, it is lost."),
    "leave_codename": N_("Have you written down your codename? It cannot be shown again."),
    # The replies script.
    "replies_deriving": N_("Working out your keys on this device…"),
    "replies_fetching": N_("Fetching and decrypting replies on this device…"),
    "replies_failed": N_("The replies could not be fetched. Please try again in a minute."),
    "reply_unreadable": N_(
        "This reply could not be shown here. Please check again later; if it stays like this, "
        "write to us."
    ),
    "reply_written": N_("Reply written %(hour)s"),
    "delete_reply": N_("Delete this reply"),
    "delete_confirm": N_("Delete this reply for good? It cannot be brought back."),
    "delete_yes": N_("Yes, delete it"),
    "delete_no": N_("Keep it"),
    "reply_deleted": N_("The reply was deleted from the server."),
    "download": N_("Download"),
    "downloads_stay": N_(
        "Files you download stay in your device's Downloads folder until you delete them there."
    ),
    "less_than_a_minute": N_("less than a minute"),
    # Translators: how a reply's hour reads, "28 November, about 04:00 (Moscow)": the day and
    # month (already in your language), the hour (replies are hour-rounded), the zone's city.
    "hour_format": N_("%(date)s, about %(time)s (%(zone)s)"),
}

# human_size's units, smallest first.
SIZE_UNITS = (
    N_("%(size)s B"),
    N_("%(size)s KiB"),
    N_("%(size)s MiB"),
    N_("%(size)s GiB"),
    N_("%(size)s TiB"),
)

# Plural messages the scripts fill in themselves (i18n.plural_forms): singular, plural.
REPLIES_NONE = Nn_(
    "There are no replies for this codename. Check that its words are the ones on your paper, "
    "in the same order. If they are and you wrote recently, come back in a few days. "
    "Replies are deleted %(num)s day after they arrive, or when you delete them.",
    "There are no replies for this codename. Check that its words are the ones on your paper, "
    "in the same order. If they are and you wrote recently, come back in a few days. "
    "Replies are deleted %(num)s days after they arrive, or when you delete them.",
)
MINUTES_LEFT = Nn_("about %(num)s minute", "about %(num)s minutes")
