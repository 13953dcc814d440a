"""Errors a submitter can meet. Each carries an API code, an HTTP status and a message key
(intake/messages.py, translated by the gettext catalogs), so the same failure reads well as a
page and as JSON."""

from __future__ import annotations

from dataclasses import dataclass

STATUS = {
    "malformed": 400,
    "cross-site": 403,
    "not-found": 404,
    "conflict": 409,
    "too-large": 413,
    "wrong-type": 415,
    "throttled": 429,
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
    def __init__(
        self,
        code: str,
        message_key: str | None = None,
        *,
        retry_after: int | None = None,
        close: bool = False,
        **extra: object,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.status = STATUS[code]
        self.message_key = message_key or f"error_{code.replace('-', '_')}"
        self.retry_after = retry_after  # seconds, sent as Retry-After
        # Answered before the body was read: close the connection rather than read it.
        self.close = close
        self.extra = extra
        self.kept: Kept | None = None


def malformed(message_key: str = "error_malformed") -> IntakeError:
    return IntakeError("malformed", message_key)


def too_large(close: bool = False) -> IntakeError:
    return IntakeError("too-large", "error_too_large", close=close)


def storage_full() -> IntakeError:
    return IntakeError("storage-full", "error_storage_full")


def busy_uploads() -> IntakeError:
    """Unfinished uploads hold the space, or too many run at once: they finish or expire."""
    return IntakeError("busy", "error_busy_uploads", retry_after=300)


def busy_checks() -> IntakeError:
    """Too many reply checks at once (the ceiling, or every mailbox derivation slot taken)."""
    return IntakeError("busy", "error_busy_checks", retry_after=60)


def busy_streams() -> IntakeError:
    """Every thread this process lets bodies stream into is taken."""
    return IntakeError("busy", "error_busy_streams", retry_after=60, close=True)


def too_slow() -> IntakeError:
    return IntakeError("malformed", "error_too_slow")


def cross_site() -> IntakeError:
    return IntakeError("cross-site", "error_cross_site", close=True)


def not_json() -> IntakeError:
    return IntakeError("wrong-type", "error_json_type", close=True)


def throttled() -> IntakeError:
    return IntakeError("throttled", "error_throttled_checks", retry_after=60)
