"""Each attack of issue 9 against the production stack (nginx + gunicorn from the shipped
configs), with legitimate people submitting beside it: every text and reply check succeeds,
each within 15 s (a person's patience; the 5 s p95 target is measured by `make attack`, not
asserted here, since this 2-core machine is shared), the 10 MiB upload completes (unless the
attack filled the budget with real bytes, when it is refused or told to wait), the budget is
never exceeded, and nothing plaintext or identifying is written anywhere. Each attack lasts
15 s and stops by itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from .harness import ATTACKS, run, summary

pytestmark = [pytest.mark.slow, pytest.mark.attack]
EACH_WITHIN_S = 15.0


@pytest.mark.parametrize("name", list(ATTACKS))
def test_people_get_through_the_attack(name: str, tmp_path: Path) -> None:
    outcome = run(ATTACKS[name], tmp_path)
    for kind in ("text", "reply check", "js text"):
        if kind not in outcome.samples:
            continue
        samples = outcome.samples[kind]
        rate, _, _ = summary(samples)
        assert samples and rate == 1.0, (kind, [s.status for s in samples if not s.ok])
        assert max(s.seconds for s in samples) < EACH_WITHIN_S, (kind, samples)
    (upload,) = outcome.samples["upload"]
    if name in ("fill", "posts"):
        # Real bytes filled the space for large submissions, or the attack's streams hold the
        # slots for them: the upload ends done, refused (storage full) or still told to wait
        # (busy, as upload.js retries); texts and reply checks still go.
        assert upload.ok or str(upload.status).endswith((" 507", " 503")), upload
    elif ATTACKS[name].upload_may_end:
        assert upload.ok or str(upload.status).endswith(ATTACKS[name].upload_may_end), upload
    else:
        assert upload.ok, upload
    if outcome.budget is not None:
        assert outcome.most_stored <= outcome.budget, (outcome.most_stored, outcome.budget)
    assert outcome.leaks == []
