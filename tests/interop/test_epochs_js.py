"""The page's epoch keys (docs/FORMAT.md 10): statements signed here with a reviewer's signing
key (crypto.team.Signer) are verified by epochs.js with WebCrypto Ed25519, and the page seals to
the epoch valid at its time plus the 2-hour allowance, never to an expired or forged one, and
falls back to the long-term key whenever it has no valid epoch.

The statements are written here from 10.1's text (a test-side writer, not product code)."""

from __future__ import annotations

import base64
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crypto import Identity
from crypto.team import Signer

HERE = Path(__file__).resolve().parent
MONDAY = datetime(2026, 12, 7, tzinfo=UTC)


def hour(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:00Z")


def statement(reviewer: Identity, signer: Signer, epochs: list, *, forger=None, **changes) -> str:
    lines = [
        "sealdrop-epochs-v1",
        f"reviewer: {changes.get('reviewer_line', reviewer.public_key.line)}",
        f"signing-key: {signer.public_key.line}",
        f"issued: {hour(MONDAY - timedelta(days=1))}",
        *(f"epoch: {hour(start)} {hour(end)} {key.public_key.line}" for start, end, key in epochs),
    ]
    body = "".join(f"{line}\n" for line in lines)
    signature = (forger or signer).sign(body.encode())
    return f"{body}signature: {base64.b64encode(signature).decode()}\n"


def weekly(count: int, first: datetime = MONDAY) -> list:
    return [
        (first + timedelta(weeks=i), first + timedelta(weeks=i + 1), Identity.generate())
        for i in range(count)
    ]


def run(node: str, tmp_path: Path, spec: dict) -> dict:
    path = tmp_path / "epochs.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    result = subprocess.run(
        [node, str(HERE / "epochs.js"), str(path)], capture_output=True, check=True, timeout=60
    )
    return json.loads(result.stdout)


def served(entries: list, now: datetime = MONDAY) -> dict:
    reviewers = [
        {"public_key": r.public_key.line, "signing_key": s.public_key.line, "statement": text}
        for r, s, text in entries
    ]
    return {"format": "sealdrop-epochs", "now": hour(now), "skew_hours": 2, "reviewers": reviewers}


def test_the_page_seals_to_the_current_epoch_and_never_to_an_expired_one(node, tmp_path):
    anna, boris, clara = Identity.generate(), Identity.generate(), Identity.generate()
    anna_signer, boris_signer = Signer(anna), Signer(boris)
    anna_epochs = weekly(3)
    # Boris's runway lapsed a week ago; Clara has no statement on the server.
    boris_epochs = weekly(1, MONDAY - timedelta(weeks=1))
    entries = [
        (anna, anna_signer, statement(anna, anna_signer, anna_epochs)),
        (boris, boris_signer, statement(boris, boris_signer, boris_epochs)),
    ]
    config = served(entries)
    config["reviewers"].append(
        {"public_key": clara.public_key.line, "signing_key": None, "statement": None}
    )
    recipients = [anna.public_key.line, boris.public_key.line, clara.public_key.line]
    cases = [
        {"device_now": hour(MONDAY + timedelta(days=2))},
        # 1 h 59 min before the first epoch ends: within the allowance, so the next one.
        {"device_now": hour(MONDAY + timedelta(weeks=1, hours=-2)), "plus_minutes": 1},
        # A device clock days behind: the server's hour (Monday) counts, not the device's.
        {"device_now": hour(MONDAY - timedelta(days=10))},
        # After the whole runway: long-term keys.
        {"device_now": hour(MONDAY + timedelta(weeks=3))},
    ]
    report = run(node, tmp_path, {"recipients": recipients, "served": config, "cases": cases,
                                  "verify": []})  # fmt: skip
    long_term = [boris.public_key.line, clara.public_key.line]
    first, second = (key.public_key.line for _, _, key in anna_epochs[:2])
    assert report["chosen"] == [
        [first, *long_term],
        [second, *long_term],
        [first, *long_term],
        [anna.public_key.line, *long_term],
    ]


def test_forged_and_malformed_statements_are_refused(node, tmp_path):
    anna, mallory = Identity.generate(), Identity.generate()
    signer = Signer(anna)
    epochs = weekly(2)
    good = statement(anna, signer, epochs)
    forged = statement(anna, signer, epochs, forger=Signer(mallory))
    other_reviewer = statement(anna, signer, epochs, reviewer_line=mallory.public_key.line)
    overlapping = statement(anna, signer, [epochs[0], (epochs[0][0], epochs[1][1], epochs[1][2])])
    crlf = good.replace("\n", "\r\n", 1)
    cases = [good, forged, other_reviewer, overlapping, crlf, good.rstrip("\n"), good + "x\n"]
    verify = [
        {"statement": text, "reviewer": anna.public_key.line, "signing_key": signer.public_key.line}
        for text in cases
    ]
    report = run(node, tmp_path, {"recipients": [], "served": None, "cases": [],
                                  "verify": verify})  # fmt: skip
    ok, *refused = report["verified"]
    assert ok == [key.public_key.line for _, _, key in epochs]
    assert refused[0] == {"error": "bad signature"}
    assert all(set(item) == {"error"} for item in refused)
    assert refused[1]["error"].startswith("malformed")
    assert refused[2]["error"].startswith("malformed")
    # The page then ignores a forged statement and seals to the long-term key.
    config = served([(anna, signer, forged)])
    spec = {"recipients": [anna.public_key.line], "served": config, "verify": []}
    report = run(node, tmp_path, {**spec, "cases": [{"device_now": hour(MONDAY)}]})
    assert report["chosen"] == [[anna.public_key.line]]
