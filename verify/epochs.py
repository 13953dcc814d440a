"""Judging the reviewers' weekly keys a service offers the page (docs/FORMAT.md §10.3), as
served by /api/v1/epochs or embedded in a page's config: every weekly-key statement must verify
under the signing key the organisation's deployment statement vouches for (§7, version 2),
must not be over, and must leave runway; no key the organisation did not sign may be offered.
Each finding is one line that says what is wrong and what to do next."""

from __future__ import annotations

from crypto import PublicKey, SealdropError
from crypto.bundle import hour_stamp
from crypto.deployment import Statement
from crypto.epochs import StatementError, read_statement

from .lines import FAIL, OK, Line

EPOCHS_API = "/api/v1/epochs"
MIN_RUNWAY_DAYS = 7  # the server's `status` warns at 21 days; a week left is already late
_EXPORT = "ask them to export replies (their tool makes new weekly keys and sends them)"
_RESIGN = (
    "if their member card is right, sign a new deployment statement with it "
    "(sealdrop-reviewer sign-deployment --recipient CARD, docs/ADMIN.md)"
)


def _entries(served: object) -> list[dict[str, object]]:
    """The reviewers' entries of an epochs document, or ValueError naming what is wrong."""
    if not isinstance(served, dict) or served.get("format") != "sealdrop-epochs":
        raise ValueError("it is not a sealdrop-epochs document")
    entries = served.get("reviewers")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValueError("it has no list of reviewers")
    return entries


def judge(where: str, served: object, deployment: Statement, now: float) -> list[Line]:
    """Lines for one epochs document (``where`` names it: the API, or a page's config)."""
    try:
        entries = _entries(served)
        offered = [(PublicKey.from_line(str(entry.get("public_key"))), entry) for entry in entries]
    except (ValueError, SealdropError) as exc:
        return [Line(FAIL, f"epochs: {where} is unreadable ({exc})")]
    signed = set(deployment.recipients)
    lines = []
    names = [key.fingerprint for key, _ in offered]
    foreign = sorted(set(names) - signed)
    if foreign or len(set(names)) != len(names):
        lines.append(
            Line(
                FAIL,
                f"epochs: {where} offers keys for {', '.join(foreign) or 'a reviewer twice'}, "
                "not as in the deployment statement; the server's reviewer list was changed: "
                "compare its recipients with the statement",
            )
        )
    by_fingerprint = {key.fingerprint: (key, entry) for key, entry in offered}
    with_keys = 0
    for fingerprint in deployment.recipients:
        if fingerprint not in by_fingerprint:
            if deployment.signing_key_of(fingerprint) is not None:
                lines.append(
                    Line(
                        FAIL,
                        f"epochs: {where}, reviewer {fingerprint}: not listed, though the "
                        "statement vouches for their signing key: the page seals to their "
                        f"long-term key, without forward secrecy; {_EXPORT}",
                    )
                )
            continue
        key, entry = by_fingerprint[fingerprint]
        found = _reviewer(where, key, entry, deployment, now)
        with_keys += found is None and entry.get("statement") is not None
        lines += [found] if found is not None else []
    if not lines:
        vouched = len(deployment.signing_keys)
        lines.append(
            Line(
                OK,
                f"epochs: {where} offers weekly keys for {with_keys} reviewer(s), each signed by "
                f"a signing key the statement vouches for ({vouched}), current, with runway",
            )
        )
    return lines


def _reviewer(
    where: str, key: PublicKey, entry: dict[str, object], deployment: Statement, now: float
) -> Line | None:
    """A FAIL line for one reviewer's entry, or None when it is as signed."""
    who = f"epochs: {where}, reviewer {key.fingerprint}"
    text, served_signer = entry.get("statement"), entry.get("signing_key")
    vouched = deployment.signing_key_of(key.fingerprint)
    if text is None:
        if vouched is None:
            return None  # no weekly keys offered, none vouched for: the long-term key
        return Line(
            FAIL,
            f"{who}: no weekly keys are offered, though the statement vouches for their "
            f"signing key: the page seals to their long-term key, without forward secrecy; "
            f"{_EXPORT}",
        )
    if vouched is None:
        return Line(
            FAIL,
            f"{who}: weekly keys are offered, but the deployment statement vouches for no "
            f"signing key of theirs, so the page would seal to keys the organisation never "
            f"signed; {_RESIGN}",
        )
    if served_signer is not None and served_signer != vouched.line:
        return Line(
            FAIL,
            f"{who}: the page is given the signing key {served_signer}, not the one the "
            "statement vouches for: weekly keys made by someone else would be accepted; "
            "have the server's member card for this reviewer checked against theirs",
        )
    if not isinstance(text, str):
        return Line(FAIL, f"{who}: the weekly-key statement is not text")
    try:
        statement = read_statement(text, key, vouched)
    except StatementError as exc:
        return Line(
            FAIL,
            f"{who}: the weekly-key statement offered is refused ({exc}); the page would "
            f"not use it, but the server offers it: find out who put it there, then {_EXPORT}",
        )
    if statement.expired(now):
        return Line(
            FAIL,
            f"{who}: weekly keys ran out on {hour_stamp(statement.ends)}: the page seals to "
            f"their long-term key, without forward secrecy; {_EXPORT}",
        )
    if statement.current(now) is None:
        return Line(
            FAIL,
            f"{who}: no weekly key is valid now (the next starts later): the page seals to "
            f"their long-term key, without forward secrecy; {_EXPORT}",
        )
    if statement.ends - now < MIN_RUNWAY_DAYS * 86400:
        return Line(
            FAIL,
            f"{who}: weekly keys run out on {hour_stamp(statement.ends)}, less than "
            f"{MIN_RUNWAY_DAYS} days from now; {_EXPORT}",
        )
    return None
