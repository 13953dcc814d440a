"""What one page makes the browser do: what it loads, where it can send the person (links,
forms, a meta refresh), its inline scripts and its config, read as a browser would read it
(the standard library's HTML parser, character references decoded)."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

# Attributes that make the browser fetch something as the page loads.
_LOADS = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "embed": ("src",),
    "source": ("src", "srcset"),
    "audio": ("src",),
    "video": ("src", "poster"),
    "track": ("src",),
    "input": ("src",),
    "object": ("data",),
    "image": ("href", "xlink:href"),
    "use": ("href", "xlink:href"),
}
# Attributes that send the person somewhere when they click or submit.
_NAVIGATES = {"a": "href", "area": "href", "form": "action", "button": "formaction"}


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.loads: list[str] = []
        self.navigation: list[tuple[str, str]] = []  # (what, address) e.g. ("link", "/?lang=ru")
        self.forms: list[str] = []  # the actions of forms that post
        self.refreshes: list[str] = []
        self.bases: list[str] = []
        self.inline_scripts = 0
        self.handlers: set[str] = set()  # onclick= and the like
        self.config_text: str | None = None
        self._in_config = False
        self._in_script = False
        self._script_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.handlers |= {name for name in values if name.startswith("on")}
        for name in _LOADS.get(tag, ()):
            if name in values:
                self.loads += _srcset(values[name]) if name == "srcset" else [values[name]]
        if tag == "script":
            if "src" not in values:
                if values.get("type") == "application/json":
                    self._in_config = values.get("id") == "sealdrop-config"
                else:
                    self._in_script = True
        elif tag == "link" and "href" in values:
            self.loads.append(values["href"])
        elif tag == "base":
            self.bases.append(values.get("href", ""))
        elif tag == "meta" and values.get("http-equiv", "").strip().lower() == "refresh":
            self.refreshes.append(values.get("content", ""))
        if tag in _NAVIGATES:
            name = _NAVIGATES[tag]
            if name in values:
                self.navigation.append((_WHAT[tag], values[name]))
            if tag == "form":
                action = values.get("action", "")
                if "action" not in values:
                    self.navigation.append(("form", ""))
                if values.get("method", "get").strip().lower() == "post":
                    self.forms.append(action)

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        if self._in_config:
            self._script_text.append(data)
        elif self._in_script and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            if self._in_config:
                self.config_text = "".join(self._script_text)
            self._in_config = self._in_script = False
            self._script_text = []


_WHAT = {"a": "link", "area": "link", "form": "form", "button": "form"}


def _srcset(value: str) -> list[str]:
    return [part.split()[0] for part in value.split(",") if part.split()]


def refresh_target(content: str) -> str:
    """The address of a refresh (``5; url=...``), or "" for a plain reload."""
    _, _, rest = content.partition(";")
    rest = rest.strip()
    if rest[:4].lower() == "url=":
        rest = rest[4:]
    return rest.strip().strip("'\"")


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page


def within(base: str, address: str, netloc: str) -> str | None:
    """The path (and query) ``address`` leads to when it stays on this service (``netloc``,
    its host and any port other than 80), else None. Scripts in addresses (``javascript:``)
    and other schemes are never within."""
    target = urlsplit(urljoin(f"http://{netloc}{base}", address.strip()))
    where = target.netloc.lower().removesuffix(":80")
    if target.scheme != "http" or where != netloc.lower() or target.username is not None:
        return None
    return (target.path or "/") + (f"?{target.query}" if target.query else "")
