"""Every attack the suite runs: issue 9's (harness.py) and issue 17's (second_round.py)."""

from __future__ import annotations

from .harness import ATTACKS as FIRST_ROUND
from .second_round import ATTACKS as SECOND_ROUND

ATTACKS = {**FIRST_ROUND, **SECOND_ROUND}
