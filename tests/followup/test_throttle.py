"""Reply checks are throttled per Tor circuit (the id nginx passes on), under a ceiling for
everyone far above it: one circuit checking in a loop never locks the others out."""

from __future__ import annotations

from crypto.codename import Codename
from intake.fairness import CIRCUIT_HEADER, CircuitBuckets

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


def test_the_global_ceiling_still_holds_across_circuits(make_intake) -> None:
    intake = make_intake(FOLLOWUP_CHECKS_PER_CIRCUIT_PER_MINUTE=10, FOLLOWUP_CHECKS_PER_MINUTE=3)
    statuses = [r.status_code for n in range(4) for r in checks(intake, f"c{n}", 1)]
    assert statuses == [200, 200, 200, 503]


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
