"""sealdrop-verify and the reviewers' weekly keys (FORMAT.md §7 version 2, §10.3): a service
offering exactly the weekly keys its reviewers signed, under the signing keys the deployment
statement vouches for, passes; a server offering keys of its own making (in /api/v1/epochs or
embedded in the page), weekly keys the statement vouches for no signer of, or keys that ran
out, fails with a sentence that says what to do. The judging itself runs without a server."""

from __future__ import annotations

import datetime
import time
from typing import Any

import pytest

from crypto import Identity
from crypto.bundle import parse_hour
from crypto.deployment import Statement
from crypto.epochs import WEEK, Epoch
from crypto.epochs import Statement as EpochStatement
from crypto.team import Signer
from verify import epochs
from verify.lines import OK

from . import tamper
from .conftest import ONION, Service, signed_statement

NOW = parse_hour("2026-12-07T12:00Z")
START = parse_hour("2026-12-07T00:00Z")  # a Monday


def _weekly(identity: Identity, weeks: int, *, start: int = START, signer: Signer | None = None):
    signer = signer or Signer(identity)
    runway = tuple(
        Epoch(start + n * WEEK, start + (n + 1) * WEEK, Identity.generate().public_key)
        for n in range(weeks)
    )
    statement = EpochStatement(identity.public_key, signer.public_key, start, runway)
    return statement.signed_by(signer)


def _forged(victim: Identity) -> tuple[str, str]:
    """A signing key of the server's own making, and weekly keys for ``victim`` signed by it:
    the page accepts them, since it checks them against the signing key it is given."""
    impostor = Signer(Identity.generate())
    start = int(time.time()) // 3600 * 3600
    return impostor.public_key.line, _weekly(victim, 4, start=start, signer=impostor)


@pytest.fixture
def team() -> tuple[list[Identity], Statement]:
    reviewers = [Identity.generate(), Identity.generate()]
    deployment = Statement.make(
        ONION,
        "0.1.0",
        datetime.date(2026, 12, 7),
        [r.public_key.fingerprint for r in reviewers],
        {"js/app.js": "0" * 64},
        {r.public_key.fingerprint: Signer(r).public_key.line for r in reviewers},
    )
    return reviewers, deployment


def _served(*entries: tuple[Identity, str | None, str | None]) -> dict[str, Any]:
    return {
        "format": "sealdrop-epochs",
        "now": "2026-12-07T12:00Z",
        "reviewers": [
            {"public_key": i.public_key.line, "signing_key": signing, "statement": text}
            for i, signing, text in entries
        ],
    }


def _judged(served: object, deployment: Statement, now: float = NOW) -> list[str]:
    return [str(line) for line in epochs.judge("/api/v1/epochs", served, deployment, now)]


def _entry(identity: Identity, text: str | None) -> tuple[Identity, str, str | None]:
    return identity, Signer(identity).public_key.line, text


def test_current_weekly_keys_under_vouched_signing_keys_pass(team) -> None:
    (anna, boris), deployment = team
    lines = _judged(_served(_entry(anna, _weekly(anna, 13)), _entry(boris, None)), deployment)
    assert len(lines) == 1, lines  # boris has sent none yet: vouched for, so a FAIL
    assert lines[0].startswith(
        f"FAIL: epochs: /api/v1/epochs, reviewer {boris.public_key.fingerprint}"
    )
    assert "no weekly keys are offered" in lines[0] and "export replies" in lines[0]
    served = _served(_entry(anna, _weekly(anna, 13)), _entry(boris, _weekly(boris, 13)))
    (line,) = epochs.judge("/api/v1/epochs", served, deployment, NOW)
    assert line.status == OK and "for 2 reviewer(s)" in line.text


def test_a_signing_key_of_the_servers_making_is_named(team) -> None:
    (anna, boris), deployment = team
    signing, text = _forged(anna)
    served = _served((anna, signing, text), _entry(boris, _weekly(boris, 13)))
    (line,) = _judged(served, deployment, time.time())
    assert f"reviewer {anna.public_key.fingerprint}: the page is given the signing key" in line
    assert line.startswith("FAIL") and "not the one the statement vouches for" in line


def test_weekly_keys_signed_by_another_key_under_the_vouched_name_fail(team) -> None:
    (anna, boris), deployment = team
    forged = _weekly(anna, 13, signer=Signer(boris))
    (line,) = _judged(_served(_entry(anna, forged), _entry(boris, _weekly(boris, 13))), deployment)
    assert line.startswith("FAIL") and "the weekly-key statement offered is refused" in line


def test_weekly_keys_of_a_reviewer_the_statement_vouches_no_signer_for_fail(team) -> None:
    (anna, boris), _ = team
    v1 = Statement.make(
        ONION,
        "0.1.0",
        datetime.date(2026, 12, 7),
        [anna.public_key.fingerprint, boris.public_key.fingerprint],
        {"js/app.js": "0" * 64},
    )
    lines = _judged(_served(_entry(anna, _weekly(anna, 13)), _entry(boris, None)), v1)
    assert len(lines) == 1 and lines[0].startswith("FAIL")
    assert "vouches for no signing key of theirs" in lines[0]
    assert "sign-deployment --recipient CARD" in lines[0]
    assert _judged(_served(_entry(anna, None), _entry(boris, None)), v1)[0].startswith("ok:")


@pytest.mark.parametrize(
    ("weeks", "now", "said"),
    [
        (2, START + 2 * WEEK, "weekly keys ran out on 2026-12-21T00:00Z"),
        (2, START + WEEK + 3 * 86400, "less than 7 days from now"),
        (13, START - WEEK, "no weekly key is valid now"),
    ],
)
def test_weekly_keys_over_short_or_not_yet_valid_fail(team, weeks, now, said) -> None:
    (anna, boris), deployment = team
    served = _served(_entry(anna, _weekly(anna, weeks)), _entry(boris, _weekly(boris, 20)))
    lines = _judged(served, deployment, now)
    assert [line for line in lines if said in line and line.startswith("FAIL")], lines


def test_a_foreign_reviewer_or_a_missing_one_is_named(team) -> None:
    (anna, boris), deployment = team
    stranger = Identity.generate()
    served = _served(
        _entry(anna, _weekly(anna, 13)),
        _entry(boris, _weekly(boris, 13)),
        _entry(stranger, _weekly(stranger, 13)),
    )
    (line,) = _judged(served, deployment)
    assert line.startswith(
        f"FAIL: epochs: /api/v1/epochs offers keys for {stranger.public_key.fingerprint}"
    )
    (line,) = _judged(_served(_entry(anna, _weekly(anna, 13))), deployment)
    assert f"reviewer {boris.public_key.fingerprint}: not listed" in line


@pytest.mark.parametrize(
    "served", [None, [], {"format": "x"}, {"format": "sealdrop-epochs", "reviewers": [1]}]
)
def test_an_unreadable_document_is_a_fail_line(team, served) -> None:
    (line,) = _judged(served, team[1])
    assert line.startswith("FAIL: epochs: /api/v1/epochs is unreadable")


# --- against a running server, through the SOCKS proxy ---------------------------------------


def test_a_faithful_team_service_passes_and_a_server_offering_its_own_keys_fails(
    team_service: Service,
) -> None:
    status, lines = team_service.verify()
    assert status == 0, "\n".join(lines)
    assert "ok: epochs: /api/v1/epochs offers weekly keys for 2 reviewer(s)" in "\n".join(lines)

    victim = team_service.reviewers[0]
    signing, text = _forged(victim)

    def swap(document: dict[str, Any]) -> None:
        entry = document["reviewers"][0]
        assert entry["public_key"] == victim.public_key.line
        entry["signing_key"], entry["statement"] = signing, text

    honest = team_service.switch.app
    team_service.switch.app = tamper.epochs_rewritten(honest, swap)
    status, lines = team_service.verify("--quiet")
    assert status == 1
    assert [x for x in lines if x.startswith("FAIL")] == [
        f"FAIL: epochs: /api/v1/epochs, reviewer {victim.public_key.fingerprint}: the page is "
        f"given the signing key {signing}, not the one the statement vouches for: weekly keys "
        "made by someone else would be accepted; have the server's member card for this "
        "reviewer checked against theirs"
    ]

    embedded = _served((victim, signing, text))
    team_service.switch.app = tamper.config_carries_epochs(honest, embedded)
    status, lines = team_service.verify("--quiet")
    assert status == 1
    failures = [x for x in lines if x.startswith("FAIL")]
    assert failures and all(x.startswith("FAIL: epochs: page /") for x in failures), failures
    assert (
        f"FAIL: epochs: page /'s config, reviewer {victim.public_key.fingerprint}: the page is "
        f"given the signing key {signing}, not the one"
    ) in "\n".join(failures)


def test_weekly_keys_under_an_older_statement_fail_with_what_to_do(team_service: Service) -> None:
    team_service.publish(signed_statement(team_service.key, ONION, team_service.reviewers))
    status, lines = team_service.verify("--quiet")
    assert status == 1
    failures = [x for x in lines if x.startswith("FAIL")]
    assert len(failures) == 2, failures
    assert all("vouches for no signing key of theirs" in x for x in failures)
    assert all("sign a new deployment statement" in x for x in failures)
