"""The page's epoch keys (docs/FORMAT.md 10): statements written and signed by crypto.epochs
(the reviewer's tool) are verified by epochs.js with WebCrypto Ed25519, and the page seals to
the epoch valid at its time plus the 2-hour allowance, never to an expired or forged one, and
falls back to the long-term key whenever it has no valid epoch; the statement vectors
(tests/vectors/epochs) give the same verdicts and keys in JS as in Python."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crypto import Identity
from crypto.epochs import Epoch, Statement
from crypto.team import Signer

HERE = Path(__file__).resolve().parent
VECTORS = HERE.parent / "vectors" / "epochs"
MONDAY = datetime(2026, 12, 7, tzinfo=UTC)


def hour(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:00Z")


def weekly(count: int, first: datetime = MONDAY) -> tuple[list[Epoch], list[Identity]]:
    keys = [Identity.generate() for _ in range(count)]
    start = int(first.timestamp())
    week = 7 * 86400
    epochs = [
        Epoch(start + i * week, start + (i + 1) * week, key.public_key)
        for i, key in enumerate(keys)
    ]
    return epochs, keys


def statement(reviewer: Identity, epochs: list[Epoch], signer: Signer | None = None, **kw) -> str:
    issued = int((MONDAY - timedelta(days=1)).timestamp())
    made = Statement(
        kw.get("reviewer_key", reviewer.public_key), Signer(reviewer).public_key, issued, epochs
    )
    return made.signed_by(signer or Signer(reviewer))


def run(node: str, tmp_path: Path, **spec) -> dict:
    path = tmp_path / "epochs.json"
    spec = {"recipients": [], "served": None, "cases": [], "verify": [], **spec}
    path.write_text(json.dumps(spec), encoding="utf-8")
    result = subprocess.run(
        [node, str(HERE / "epochs.js"), str(path)], capture_output=True, check=True, timeout=60
    )
    return json.loads(result.stdout)


def served(entries: list[tuple[Identity, str | None]], now: datetime = MONDAY) -> dict:
    reviewers = [
        {
            "public_key": reviewer.public_key.line,
            "signing_key": Signer(reviewer).public_key.line if text else None,
            "statement": text,
        }
        for reviewer, text in entries
    ]
    return {"format": "sealdrop-epochs", "now": hour(now), "skew_hours": 2, "reviewers": reviewers}


def test_the_page_seals_to_the_current_epoch_and_never_to_an_expired_one(node, tmp_path):
    anna, boris, clara = Identity.generate(), Identity.generate(), Identity.generate()
    anna_epochs, _ = weekly(3)
    boris_epochs, _ = weekly(1, MONDAY - timedelta(weeks=1))  # his runway lapsed a week ago
    config = served(
        [
            (anna, statement(anna, anna_epochs)),
            (boris, statement(boris, boris_epochs)),
            (clara, None),
        ]
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
    report = run(node, tmp_path, recipients=recipients, served=config, cases=cases)
    long_term = [boris.public_key.line, clara.public_key.line]
    first, second = (epoch.public_key.line for epoch in anna_epochs[:2])
    assert report["chosen"] == [
        [first, *long_term],
        [second, *long_term],
        [first, *long_term],
        [anna.public_key.line, *long_term],
    ]


def test_forged_and_malformed_statements_are_refused(node, tmp_path):
    anna, mallory = Identity.generate(), Identity.generate()
    epochs, _ = weekly(2)
    good = statement(anna, epochs)
    overlapping = [
        epochs[0],
        Epoch(epochs[0].not_before, epochs[1].not_after, epochs[1].public_key),
    ]
    cases = {
        "bad-signature": [
            statement(anna, epochs, Signer(mallory)),
            good.replace("epoch: ", "epoch:  ", 1),
            good.replace("\n", "\r\n", 1),  # the signed bytes changed: the signature fails first
        ],
        "malformed": [
            statement(anna, epochs, reviewer_key=mallory.public_key),
            statement(anna, overlapping),
            good.rstrip("\n"),
            good + "x\n",
        ],
    }
    trusted = {"reviewer": anna.public_key.line, "signing_key": Signer(anna).public_key.line}
    texts = [good, *(text for kind in cases for text in cases[kind])]
    report = run(node, tmp_path, verify=[{"statement": text, **trusted} for text in texts])
    ok, *refused = report["verified"]
    assert ok == [epoch.public_key.line for epoch in epochs]
    expected = [{"error": kind} for kind in cases for _ in cases[kind]]
    assert refused == expected
    # The page then ignores the forged statement and seals to the long-term key.
    config = served([(anna, cases["bad-signature"][0])])
    report = run(
        node, tmp_path, recipients=[anna.public_key.line], served=config,
        cases=[{"device_now": hour(MONDAY)}],
    )  # fmt: skip
    assert report["chosen"] == [[anna.public_key.line]]


def test_statement_vectors_in_js(node, tmp_path):
    vectors = json.loads((VECTORS / "epochs.json").read_text(encoding="utf-8"))
    trusted = {
        "reviewer": vectors["reviewer_public_key_line"],
        "signing_key": vectors["signing_key_line"],
    }
    names = sorted(vectors["statements"])
    verify = [{"statement": (VECTORS / n).read_text(encoding="ascii"), **trusted} for n in names]
    ok_text = (VECTORS / "ok.txt").read_text(encoding="ascii")
    config = {
        "format": "sealdrop-epochs",
        "now": "1970-01-01T00:00Z",  # the device's time decides here
        "skew_hours": 2,
        "reviewers": [{"public_key": trusted["reviewer"], "signing_key": trusted["signing_key"],
                       "statement": ok_text}],
    }  # fmt: skip
    times = sorted(vectors["sealing_key_at"])
    report = run(
        node, tmp_path, verify=verify, recipients=[trusted["reviewer"]], served=config,
        cases=[{"device_now": when} for when in times],
    )  # fmt: skip
    for name, verdict in zip(names, report["verified"], strict=True):
        expect = vectors["statements"][name]["expect"]
        if expect == "ok":
            assert verdict == [e["public_key_line"] for e in vectors["ok_epochs"]], name
        else:
            assert verdict == {"error": expect}, name
    assert report["chosen"] == [[vectors["sealing_key_at"][when]] for when in times]
