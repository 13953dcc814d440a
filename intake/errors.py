"""Errors a submitter can meet. Each carries an API code, an HTTP status and a message key
(intake/messages.py, translated by the gettext catalogs), so the same failure reads well as a
page and as JSON."""

from __future__ import annotations

from dataclasses import dataclass

STATUS = {
    "malformed": 400,
    "not-found": 404,
    "conflict": 409,
    "too-large": 413,
    "busy": 503,
    "storage-full": 507,
    "generic": 500,
}


@dataclass
class Kept:
    """What the person typed into a no-JS form, handed back on its error page (in memory
    only, for that one answer) so that an error loses nothing they wrote."""

    message: str = ""
    codename: str = ""


class IntakeError(Exception):
    def __init__(self, code: str, message_key: str | None = None, **extra: object) -> None:
        super().__init__(code)
        self.code = code
        self.status = STATUS[code]
        self.message_key = message_key or f"error_{code.replace('-', '_')}"
        self.extra = extra
        self.kept: Kept | None = None


def malformed(message_key: str = "error_malformed") -> IntakeError:
    return IntakeError("malformed", message_key)


def too_large() -> IntakeError:
    return IntakeError("too-large", "error_too_large")


def storage_full() -> IntakeError:
    return IntakeError("storage-full", "error_storage_full")
