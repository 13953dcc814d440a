"""Reply checks are throttled per Tor circuit (the id nginx passes on); a ceiling bounds
circuits beyond their first few checks of a minute, so neither one circuit in a loop nor a
thousand lock a person out."""

from __future__ import annotations

import threading

import pytest

from crypto.codename import Codename
from intake.checkorder import DerivationGate
from intake.errors import IntakeError
from intake.fairness import CIRCUIT_HEADER, CheckAdmission, CircuitBuckets

PER_CIRCUIT = 4


def checks(intake, circuit: str | None, count: int, lang: str = "en") -> list:
    headers = {} if circuit is None else {CIRCUIT_HEADER: circuit}
    codename = str(Codename.generate())
    return [
        intake.client.post(
            f"/replies?lang={lang}",
            data={"codename": codename},
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        )
        for _ in range(count)
    ]


def test_one_circuit_is_throttled_while_another_is_served(make_intake) -> None:
    intake = make_intake(FOLLOWUP_CHECKS_PER_CIRCUIT_PER_MINUTE=PER_CIRCUIT)
    flood = checks(intake, "circuit-a", PER_CIRCUIT + 3, lang="ru")
    assert [r.status_code for r in flood] == [200] * PER_CIRCUIT + [429] * 3
    page = flood[-1]
    assert page.mimetype == "text/html" and page.headers["Retry-After"] == "60"
    assert "Подождите минуту" in page.get_data(as_text=True)  # in the person's language
    assert 'id="back-to-replies" href="/replies?lang=ru"' in page.get_data(as_text=True)
    assert [r.status_code for r in checks(intake, "circuit-b", PER_CIRCUIT)] == [200] * 4
    # The JSON API is throttled by the same buckets.
    mailbox = Codename.generate().derive().mailbox
    listed = intake.client.get(
        f"/api/v1/mailboxes/{mailbox}/replies", headers={CIRCUIT_HEADER: "circuit-a"}
    )
    assert listed.status_code == 429 and listed.json["error"] == "throttled"


def test_without_a_circuit_id_everyone_shares_one_key(make_intake) -> None:
    intake = make_intake(FOLLOWUP_CHECKS_PER_CIRCUIT_PER_MINUTE=2)
    assert [r.status_code for r in checks(intake, None, 3)] == [200, 200, 429]


def test_the_ceiling_bounds_heavy_circuits_and_never_a_persons_first_checks(make_intake) -> None:
    intake = make_intake(FOLLOWUP_CHECKS_PER_CIRCUIT_PER_MINUTE=10, FOLLOWUP_CHECKS_PER_MINUTE=3)
    heavy = [r.status_code for n in range(2) for r in checks(intake, f"heavy-{n}", 6)]
    # Each circuit's first 3 are its own; the 6 beyond them share the ceiling of 3.
    assert heavy == [200] * 3 + [200] * 3 + [200] * 3 + [503] * 3
    # The ceiling is spent; a person arriving on a new circuit still gets their checks.
    assert [r.status_code for r in checks(intake, "a-person", 3)] == [200] * 3


def test_a_thousand_circuits_never_take_a_persons_check() -> None:
    """Issue 17: 1,000 circuits each checking as often as allowed left 42 % of legitimate
    checks through the old global ceiling."""
    now = [0.0]
    admission = CheckAdmission(per_circuit=10, ceiling=600, clock=lambda: now[0])
    people: list[str | None] = []
    for second in range(120):
        now[0] = float(second)
        for n in range(1000):
            if (second + n) % 6 == 0:  # every circuit at its full 10 a minute
                admission.refusal(f"flood-{n}")
        people.append(admission.refusal(f"person-{second}"))
    assert people == [None] * 120


def test_circuit_ids_are_neither_logged_nor_stored(make_intake) -> None:
    intake = make_intake(FOLLOWUP_CHECKS_PER_CIRCUIT_PER_MINUTE=1)
    marker = "circuit-id-marker-7d3a91"
    checks(intake, marker, 3)
    assert marker not in intake.log.getvalue()
    for path in intake.settings.data_dir.rglob("*"):
        if path.is_file():
            assert marker.encode() not in path.read_bytes(), path


def test_the_circuit_table_is_bounded_and_refills_with_time() -> None:
    now = [0.0]
    buckets = CircuitBuckets(per_minute=2, max_circuits=100, clock=lambda: now[0])
    for n in range(1000):
        buckets.take(f"circuit-{n}")
    assert len(buckets) == 100
    assert [buckets.take("x") for _ in range(3)] == [True, True, False]
    now[0] += 30  # half a minute: one more check
    assert [buckets.take("x") for _ in range(2)] == [True, False]


def test_a_persons_check_goes_ahead_of_a_flood_waiting_for_mailbox_derivations() -> None:
    """Issue 17, G11: a no-JS check derives mailbox v2 ids (PBKDF2). One derivation runs at a
    time; circuits that have checked before wait in a small room (beyond it: busy), and a
    person's first check of a while waits however full the room is, and goes first."""
    now = [0.0]
    admission = CheckAdmission(per_circuit=10, ceiling=600, clock=lambda: now[0])
    assert admission.admit("flood-1") == (None, 0.0)  # its first check: as fresh as a person's
    flood_freshness = admission.admit("flood-1")[1]
    assert admission.admit("person") == (None, 0.0) and flood_freshness < 0
    now[0] += 3600  # an hour later the circuit is forgotten: fresh again
    assert admission.admit("flood-1")[1] > -1

    gate = DerivationGate(slots=1, waiting=2)
    release, entered = threading.Event(), threading.Event()
    order: list[str] = []

    def check(name: str, freshness: float, hold: bool = False) -> None:
        with gate.slot(freshness):
            order.append(name)
            if hold:
                entered.set()
                release.wait(10)

    running = threading.Thread(target=check, args=("running", flood_freshness, True))
    running.start()
    assert entered.wait(5)
    waiting = [threading.Thread(target=check, args=(n, flood_freshness)) for n in ("f1", "f2")]
    for n, thread in enumerate(waiting, start=1):
        thread.start()
        assert gate.waiting_now(n, 5)
    # The room is full of checks as fresh as this one: it is told the service is busy.
    with pytest.raises(IntakeError), gate.slot(flood_freshness):
        pass
    person = threading.Thread(target=check, args=("person", 0.0))
    person.start()
    assert gate.waiting_now(3, 5)  # the full room did not turn the person away
    release.set()
    for thread in (running, *waiting, person):
        thread.join(10)
    assert order == ["running", "person", "f1", "f2"]
