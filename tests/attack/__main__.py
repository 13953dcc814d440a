"""`make attack`: every attack against the production stack, beside legitimate people, and
the same people with no attack, measured in this one run. Prints a table per attack: success
rate and median/p95 latency of the legitimate requests without and with the attack, the
most bytes stored against the budget, and what the attacker got back."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from .harness import ATTACKS, Outcome, run, summary

KINDS = ("text", "reply check", "js text", "upload")
# The target: with every attack running, texts and reply checks succeed 100 % with
# p95 under 5 s.
P95_TARGET_S = 5.0


def row(outcome: Outcome, kind: str) -> str:
    rate, median, p95 = summary(outcome.samples[kind])
    n = len(outcome.samples[kind])
    return f"{rate:6.0%} of {n:<3} {median:6.2f} s {p95:6.2f} s"


def main(names: list[str]) -> int:
    failed = False
    columns = f"{'ok':>13}   median      p95"
    header = f"{'request':<12} | {columns} | {columns}"
    for name in names or list(ATTACKS):
        attack = ATTACKS[name]
        with tempfile.TemporaryDirectory(prefix="sealdrop-attack-") as tmp:
            calm = run(attack, Path(tmp) / "calm", under_attack=False)
            hit = run(attack, Path(tmp) / "attack")
        print(f"\n## {name}: {attack.title}", flush=True)
        print(f"{'':<12} | {'no attack':<30} | {'under attack':<30}")
        print(header)
        print("-" * len(header))
        for kind in KINDS:
            if kind not in hit.samples:
                continue
            rate, _, p95 = summary(hit.samples[kind])
            missed = kind != "upload" and (rate < 1 or p95 >= P95_TARGET_S)
            mark = "  <- misses the target (100 %, p95 < 5 s)" if missed else ""
            print(f"{kind:<12} | {row(calm, kind)} | {row(hit, kind)}{mark}")
        budget = f" of a {hit.budget / (1 << 20):.0f} MiB budget" if hit.budget else ""
        print(f"most stored under attack: {hit.most_stored / (1 << 20):.1f} MiB{budget}")
        print(f"the attacker got: {hit.attack_note}")
        if hit.leaks:
            failed = True
            print(f"WRITTEN TO DISK: {hit.leaks}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
