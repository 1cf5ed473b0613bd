"""Reproducible sampling: the same trainer, task type, week and data always pick the same outputs.

The seed is derived from what is being audited, not from the time of the run, and the
population is sorted before drawing, so anyone holding the stored seed and population can
re-derive the choice (``draw_sample``) and see that it was not cherry-picked.
"""

import hashlib
import math
import random
from collections.abc import Sequence


def sample_seed(*, trainer: str, task_type: str, iso_week: str) -> str:
    return hashlib.sha256(f"auditbot|{trainer}|{task_type}|{iso_week}".encode()).hexdigest()


def draw_sample(population: Sequence[str], *, k: int, seed: str) -> list[str]:
    """``k`` ids drawn without replacement (all of them when there are fewer), in draw order."""
    ordered = sorted(population)
    rng = random.Random(int(seed, 16))
    return rng.sample(ordered, min(k, len(ordered)))


def double_review_positions(count: int, *, fraction: float, seed: str) -> frozenset[int]:
    """Which of ``count`` samples (0-based positions) need a second reviewer.

    ``count * fraction`` is rounded up or down at random (seeded), so over many weeks the
    share matches ``fraction`` even when a week has few samples.
    """
    if count == 0 or fraction <= 0:
        return frozenset()
    rng = random.Random(int(seed, 16) ^ 0xD0B1E)
    exact = count * fraction
    chosen = min(count, math.floor(exact + rng.random()))
    return frozenset(rng.sample(range(count), chosen))
