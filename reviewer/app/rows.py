"""The conversation list's rows: which columns fit the terminal, and each row's cells.

Below 100 columns (Tails on a small laptop: 80x24) the list drops the message counts, uses
short status words and dates without the year, and caps the flags, so that the preview keeps
at least ~30 characters in English and Russian. A follow-up that sounds urgent, arriving in a
conversation that was waiting or closed, is marked so it stands out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.text import Text

from .. import caselog
from ..conversations import Conversation
from ..display import clean_name
from ..i18n import N_, _, ngettext
from ..localtime import hour_label, zone_name
from .case_actions import status_label

NARROW = 100  # columns: below this, the compact row
FLAGS_NARROW = 9
FLAGS_WIDE = 28
PREVIEW = 60

SHORT_STATUS = {
    caselog.NEW: N_("new"),
    caselog.NEEDS_REPLY: N_("to answer"),
    caselog.WAITING: N_("waiting"),
    caselog.CLOSED: N_("closed"),
    caselog.SPAM: N_("spam"),
}

# Words that make a follow-up stand out (stems: they match inside inflected forms).
_ALARM = re.compile(
    r"urgent|emergenc|\bsos\b|\bhelp\b|danger|arrest|срочн|помогит|помощ|спасит|опасн|"
    r"задерж|арест|приехал|забрал",
    re.IGNORECASE,
)


def alarming(conversation: Conversation) -> bool:
    """A follow-up came after the case went quiet (waiting, closed) and it sounds urgent."""
    return conversation.follow_up and bool(_ALARM.search(conversation.preview))


@dataclass(frozen=True)
class Columns:
    narrow: bool

    def heads(self) -> list[tuple[str, str]]:
        """(key, label) of each column, the preview last."""
        heads = [("name", _("Name")), ("status", _("Status"))]
        if not self.narrow:
            heads.append(("count", _("Msgs")))
        heads += [
            ("last", _("Last") if self.narrow else _("Last ({zone})").format(zone=zone_name())),
            ("flags", _("Flags")),
            ("preview", _("Preview")),
        ]
        return heads

    def cells(
        self, conversation: Conversation, name: str, draft: bool, snippet: str = ""
    ) -> list[Text]:
        state = conversation.state
        alarm = alarming(conversation)
        flags = Text()
        if alarm:
            flags.append("!!", style="bold reverse red")
        elif state.urgent:
            flags.append("!", style="bold red")
        if conversation.follow_up:
            flags.append("+", style="bold")
        if draft:
            flags.append("✎")
        words = []
        if state.assignee:
            words.append("@" + clean_name(state.assignee))
        words += ["#" + clean_name(tag) for tag in sorted(state.tags)]
        if conversation.files and not self.narrow:
            words.append(
                ngettext("{n} file", "{n} files", conversation.files).format(n=conversation.files)
            )
        if words:
            flags.append((" " if flags else "") + " ".join(words))
        flags.truncate(FLAGS_NARROW if self.narrow else FLAGS_WIDE, overflow="ellipsis")
        status = conversation.status
        bold = "bold" if status in (caselog.NEW, caselog.NEEDS_REPLY) else ""
        shown_status = _(SHORT_STATUS[status]) if self.narrow else status_label(status)
        preview = Text(conversation.preview[:PREVIEW] or "—")
        if snippet:
            preview = Text("» " + snippet, style="italic")
        elif alarm:
            preview.stylize("bold red")
        cells = [Text(name, style="bold"), Text(shown_status, style=bold)]
        if not self.narrow:
            cells.append(Text(f"{len(conversation.submission_ids)}/{len(conversation.reply_ids)}"))
        cells += [
            Text(hour_label(conversation.last_hour, short=self.narrow)),
            flags,
            preview,
        ]
        return cells
