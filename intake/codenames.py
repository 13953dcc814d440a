"""The codename a submission carries: a new one, shown once, or the one a follow-up typed."""

from __future__ import annotations

from dataclasses import dataclass

from crypto.codename import Codename, InvalidCodename

from .errors import malformed


@dataclass(frozen=True)
class SubmissionCodename:
    codename: Codename
    new: bool  # generated for this submission (shown once), or typed for a follow-up

    @property
    def trailer(self) -> dict[str, str]:
        """What the envelope carries for reviewers (never the codename itself)."""
        keys = self.codename.derive()
        return {"reply_key": keys.public_key.line, "mailbox": keys.mailbox}


def submission_codename(typed: bytes | None) -> SubmissionCodename:
    """A new codename, or, for a follow-up, the one the submitter typed (an IntakeError if it
    is not a codename, so nothing is kept)."""
    if not typed or not typed.strip():
        return SubmissionCodename(Codename.generate(), True)
    try:
        return SubmissionCodename(Codename.parse(typed.decode("utf-8")), False)
    except (InvalidCodename, UnicodeDecodeError):
        raise malformed("error_codename") from None
