"""Key descriptions in the chosen language: a screen's bindings are declared in English (the
gettext message ids) and translated per instance, so the language can be chosen at run time."""

from __future__ import annotations

from dataclasses import replace

from textual.binding import BindingsMap
from textual.dom import DOMNode

from ..i18n import _, language
from ..layout import passphrase_hint


def translated(node: DOMNode) -> None:
    bindings = node._bindings
    node._bindings = BindingsMap(
        replace(binding, description=_(binding.description) if binding.description else "")
        for key_bindings in bindings.key_to_bindings.values()
        for binding in key_bindings
    )


def layout_hint(passphrase: str) -> str:
    """After a refused passphrase: a hint if it looks typed in the wrong keyboard layout."""
    hint = passphrase_hint(passphrase, russian_speaker=language() == "ru")
    return _(hint) if hint else ""
