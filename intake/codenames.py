"""The codename a submission carries: a new one, shown once, or the one a follow-up typed."""

from __future__ import annotations

from dataclasses import dataclass

from crypto.codename import Codename, InvalidCodename, new_codename
from crypto.followup import signed_trailer

from .errors import malformed
from .i18n import current_language
from .mailboxsalt import current as mailbox_salt


@dataclass(frozen=True)
class SubmissionCodename:
    codename: Codename
    new: bool  # generated for this submission (shown once), or typed for a follow-up

    def trailer(self, header_hash: bytes) -> dict[str, str]:
        """What the envelope whose header hashes to ``header_hash`` carries for reviewers:
        reply key, mailbox (always the deployment's v2 id) and the proof of the codename
        (never the codename itself)."""
        return signed_trailer(self.codename.derive(mailbox_salt()), header_hash)


def submission_codename(typed: bytes | None) -> SubmissionCodename:
    """A new codename in the page's language, or, for a follow-up, the one the submitter typed
    (an IntakeError if it is not a codename, so nothing is kept)."""
    if not typed or not typed.strip():
        return SubmissionCodename(new_codename(current_language()), True)
    try:
        return SubmissionCodename(Codename.parse(typed.decode("utf-8")), False)
    except (InvalidCodename, UnicodeDecodeError):
        raise malformed("error_codename") from None
