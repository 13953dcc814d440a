"""The reviewers' part of `sealdrop-intake check`: their public keys on this server, the team
file against SEALDROP_RECIPIENTS, and the browser files and deployment statement that tell
people which keys they seal to."""

from __future__ import annotations

import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import config as config_module
from . import epochs
from .config import ConfigError, Settings
from .findings import Finding, ok, problem


def check_recipients(settings: Settings) -> list[Finding]:
    findings = []
    for path, key in zip(settings.recipient_files, settings.recipients, strict=True):
        text = path.read_text(encoding="utf-8", errors="replace")
        if "secret-key" in text:
            findings.append(
                problem(
                    f"{path} contains a private key: remove it from the server now and treat "
                    "that key as compromised (only the .pub file belongs here)"
                )
            )
        mode = path.stat().st_mode
        if mode & (stat.S_IWGRP | stat.S_IWOTH):
            findings.append(
                problem(
                    f"others can change the reviewer key {path}: run `chmod 644 {path}` "
                    "(whoever replaces it can read every new submission)"
                )
            )
        note = (
            ""
            if "signing-key:" in text
            else " (no signing-key line: in a team, give the server their member card so "
            "their confirmations can be checked)"
        )
        findings.append(
            ok(f"reviewer key {path.name} is valid, fingerprint {key.fingerprint}{note}")
        )
    findings += [problem(warning) for warning in epochs.warnings(settings, lapses_only=True)]
    return findings


def check_team(
    team_file: Path, config: Mapping[str, Any] | Settings | None = None
) -> list[Finding]:
    """Compares the reviewers' team file with SEALDROP_RECIPIENTS: every member must be a
    recipient (or their copy of new submissions is missing) and every recipient a member (or
    someone outside the team reads everything)."""
    from crypto.team import InvalidMemberCard, read_team_file

    try:
        members = read_team_file(team_file.read_text(encoding="utf-8"))
        settings = config_module.load(config)
    except (OSError, UnicodeDecodeError, InvalidMemberCard, ConfigError) as exc:
        return [problem(f"the team file {team_file} cannot be compared: {exc}")]
    team = {m.public_key.key_id_hex: m.label for m in members}
    recipients = {key.key_id_hex for key in settings.recipients}
    findings = [
        problem(
            f"team member {label!r} (key {key_id}) is not in SEALDROP_RECIPIENTS: new "
            "submissions are not sealed to them; add their public key file"
        )
        for key_id, label in sorted(team.items())
        if key_id not in recipients
    ]
    findings += [
        problem(
            f"recipient key {key_id} is not in the team file: whoever holds it reads every "
            "submission but is not on the team; remove it or have the team add them"
        )
        for key_id in sorted(recipients - set(team))
    ]
    if not findings:
        findings.append(ok(f"the {len(team)} team members are exactly the recipients"))
    return findings


def check_assets(manifest: Path | None = None, static: Path | None = None) -> list[Finding]:
    """The served scripts and styles are byte for byte the ones the release built."""
    from . import assets

    try:
        expected = assets.load_manifest(manifest or assets.MANIFEST)
    except assets.ManifestError as exc:
        return [problem(str(exc))]
    found = assets.differences(expected, static or assets.STATIC_DIR)
    if found:
        return [
            problem(f"{line}; reinstall the release wheel (docs/ADMIN.md, Upgrade)")
            for line in found
        ]
    return [ok(f"the {len(expected)} browser files match the release's recorded hashes")]


def check_statement(settings: Settings) -> list[Finding]:
    """The installed deployment statement names what this server serves (its signature is for
    sealdrop-verify to check, with the organisation's key; the server does not have it)."""
    from crypto import SealdropError
    from crypto.deployment import Statement

    from . import assets
    from .deployment import FILE_NAME

    path = settings.data_dir / FILE_NAME
    if not path.is_file():
        return [ok("no deployment statement installed (optional: docs/ADMIN.md, section 12)")]
    try:
        statement = Statement.unverified(path.read_bytes())
        served = assets.load_manifest()
    except (OSError, SealdropError, assets.ManifestError) as exc:
        return [problem(f"the deployment statement {path} cannot be read: {exc}")]
    signed = dict(statement.assets)
    messages = [
        f"the deployment statement does not match static/{name}"
        for name, digest in sorted(served.items())
        if not name.endswith(".gz") and signed.get(name) != digest
    ]
    messages += [
        f"the deployment statement names static/{name}, which is not served"
        for name in sorted(set(signed) - set(served))
    ]
    if {key.fingerprint for key in settings.recipients} != set(statement.recipients):
        messages.append("the deployment statement names other reviewer keys than the server's")
    messages += _statement_signing_keys(settings, statement)
    fix = "have a new statement signed (docs/ADMIN.md, section 12)"
    if messages:
        return [problem(f"{message}; {fix}") for message in messages]
    return [ok(f"the deployment statement names these files and keys ({statement.onion})")]


def _statement_signing_keys(settings: Settings, statement: object) -> list[str]:
    """A reviewer whose weekly keys the server serves must have the signing key of their card
    vouched for by the statement (FORMAT.md §7 version 2), or sealdrop-verify fails."""
    from . import epochs

    vouched = dict(statement.signing_keys)  # type: ignore[attr-defined]
    messages = []
    for key, path in zip(settings.recipients, settings.recipient_files, strict=True):
        card = epochs.signing_key_of(path)
        signed = vouched.get(key.fingerprint)
        if card is not None and signed is not None and card.line != signed:
            messages.append(
                f"the deployment statement vouches for another signing key of reviewer "
                f"{key.key_id_hex} than their card on this server"
            )
        elif card is not None and signed is None:
            messages.append(
                f"the deployment statement vouches for no signing key of reviewer "
                f"{key.key_id_hex}, whose weekly keys this server serves"
            )
    return messages
