"""The team's reply templates, made and edited in the app, travelling like other team work.

A template is a run of ``template`` events in the case log (reviewer.caselog), all under the
pseudo-conversation ``templates``: each names the template's random id, its title and its
text; the last event of an id (in the log's order) is the template, an empty text deletes
it. So colleagues' templates arrive with their other events in the weekly round trip, and two
people editing one template end with the same one everywhere (the later edit). A
hand-written ``templates.txt`` in the vault (each template begins with a line ``## Title``),
the form before, is still offered, after the team's.
"""

from __future__ import annotations

from dataclasses import dataclass

from .caselog import MAX_LABEL, MAX_NOTE, TEMPLATE, CaseLog, local_author, new_event_id
from .vault import Vault, VaultError

CONVERSATION = "templates"


@dataclass(frozen=True)
class Template:
    id: str
    title: str
    text: str
    author: str = ""


def current(vault: Vault, log: CaseLog | None = None) -> list[Template]:
    """The templates, by title: the team's, then those of templates.txt. Pass the inbox's
    ``log`` to reuse what it has read of the case log."""
    latest: dict[str, Template] = {}
    events = [e for e in (log or CaseLog(vault)).events() if e.kind == TEMPLATE]
    for event in sorted(events, key=lambda e: e.order):
        payload = event.payload
        latest[payload["template"]] = Template(
            payload["template"], payload["title"], payload["text"], event.author
        )
    team = sorted((t for t in latest.values() if t.text.strip()), key=lambda t: t.title.lower())
    return team + from_file(vault)


def save(vault: Vault, title: str, text: str, template_id: str = "") -> Template:
    """Records a new template (no id) or a new version of one; an empty text deletes it."""
    title = " ".join(title.split())
    if not title or len(title) > MAX_LABEL:
        raise VaultError("a template's title is one to 64 characters")
    if len(text) > MAX_NOTE:
        raise VaultError("a template is at most 64 KiB")
    if template_id.startswith("file-"):
        template_id = ""  # editing one of templates.txt makes it the team's
    template_id = template_id or new_event_id()
    payload = {"template": template_id, "title": title, "text": text.strip("\n")}
    event = CaseLog(vault).new(local_author(vault), CONVERSATION, TEMPLATE, payload)
    return Template(template_id, title, payload["text"], event.author)


def from_file(vault: Vault) -> list[Template]:
    try:
        text = (vault.root / "templates.txt").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    found: list[Template] = []
    title, lines = None, []
    for line in [*text.splitlines(), "## "]:
        if line.startswith("## "):
            if title:
                body = "\n".join(lines).strip("\n")
                found.append(Template(f"file-{len(found)}", title, body))
            title, lines = line[3:].strip(), []
        elif title is not None:
            lines.append(line)
    return found
