"""How far graders agree: the grade scale, Krippendorff's alpha and percent agreement (pure).

    ordinal_alpha([("pass", "pass"), ("pass", "minor"), ("major", "major")])   # 0.78
    percent_agreement([("pass", "pass"), ("pass", "minor")])                    # 0.5
    rank_distance("pass", "major")                                             # 2

The scale is ordinal: Pass > Minor issue > Major error, ranked pass = 0, minor = 1,
major = 2. Alpha comes from the ``krippendorff`` package (Krippendorff's ordinal metric,
which weighs a disagreement by how many of all the pairable grades lie between the two);
1 is perfect agreement, 0 is what graders grading at random with the same overall mix would
reach, below 0 is systematic disagreement. Krippendorff's own bar: alpha >= 0.8 to rely on
the data, >= 0.667 for tentative conclusions, below that not at all. ``krippendorff`` and
numpy are imported by the first alpha computed, so ``auditbot serve`` starts without them.
"""

import math
from collections.abc import Iterable, Sequence
from typing import Literal, cast

from bot.common.grades import scale_in_force


def rank_distance(a: str, b: str) -> int:
    """How many notches apart two grades are on the scale: pass-minor 1, pass-major 2."""
    return scale_in_force().distance(a, b)


def percent_agreement(pairs: Iterable[tuple[str, str]]) -> float | None:
    """The share of pairs whose two grades are the same; ``None`` without pairs."""
    pairs = list(pairs)
    if not pairs:
        return None
    return sum(a == b for a, b in pairs) / len(pairs)


def ordinal_alpha(units: Iterable[Sequence[str]], *,
                  scale: Sequence[str] | None = None) -> float | None:
    """Krippendorff's alpha (ordinal) over units, each the values its graders gave.

    A unit may have any number of values; units with fewer than two cannot be paired and add
    nothing. ``scale`` lists every possible value in order. ``None`` when alpha is undefined:
    no unit with two values, or every value the same (no variation to agree on: 0 / 0).
    ``ValueError`` on a value outside ``scale``.
    """
    scale = scale_in_force().keys if scale is None else scale
    index = {value: i for i, value in enumerate(scale)}
    counts = []
    for unit in units:
        row = [0] * len(scale)
        for value in unit:
            if value not in index:
                raise ValueError(f"{value!r} is not on the scale {list(scale)}")
            row[index[value]] += 1
        if sum(row) >= 2:
            counts.append(row)
    if not counts:
        return None
    if sum(any(column) for column in zip(*counts, strict=True)) < 2:
        return None  # every pairable value the same: expected disagreement is zero
    import krippendorff
    import numpy as np

    matrix = np.array(counts, dtype=float)
    alpha = float(krippendorff.alpha(value_counts=matrix,
                                     value_domain=list(range(len(scale))),
                                     level_of_measurement="ordinal"))
    return None if math.isnan(alpha) else alpha


Graded = tuple[str, str]  # (reviewer, grade)


def blind_pair(events: Iterable[Graded]) -> tuple[Graded, Graded] | None:
    """The two reviews of a double review as they stood while still blind.

    ``events`` is every grade recorded on the sample, in order (changes included). The first
    two different reviewers are the pair; each counts with the grade they had when the second
    reviewer's first grade came in, before either could see the other's (the message shows
    both grades from then on, and a later change could just copy the other). ``None`` until
    a second reviewer has graded.
    """
    latest: dict[str, str] = {}
    for reviewer, grade in events:
        if reviewer in latest or not latest:
            latest[reviewer] = grade
            continue
        first = next(iter(latest.items()))
        return first, (reviewer, grade)
    return None


def alpha_upper_bound(units: Iterable[Sequence[str]], *, confidence: float, seed: str,
                      resamples: int = 1000,
                      scale: Sequence[str] | None = None) -> float | None:
    """A one-sided percentile-bootstrap upper bound on ``ordinal_alpha``: units drawn with
    replacement ``resamples`` times, alpha computed on each, the ``confidence`` quantile.

    A resample whose alpha is undefined (every value the same) counts as full agreement, so
    the bound errs towards no alert. The draw is seeded by ``seed`` (say, the task type and
    window): the same data give the same bound on every read. ``None``: no pairable unit.
    """
    import hashlib

    import krippendorff
    import numpy as np

    scale = scale_in_force().keys if scale is None else scale
    index = {value: i for i, value in enumerate(scale)}
    rows: dict[tuple[int, ...], int] = {}
    for unit in units:
        row = [0] * len(scale)
        for value in unit:
            row[index[value]] += 1
        if sum(row) >= 2:
            rows[tuple(row)] = rows.get(tuple(row), 0) + 1
    if not rows:
        return None
    kinds = np.array(list(rows), dtype=float)
    counts = np.array(list(rows.values()))
    total = int(counts.sum())
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8],
                                               "big"))
    alphas = []
    for drawn in rng.multinomial(total, counts / total, size=resamples):
        matrix = np.repeat(kinds, drawn, axis=0)
        if np.count_nonzero(matrix.sum(axis=0)) < 2:
            alphas.append(1.0)
            continue
        alpha = float(krippendorff.alpha(value_counts=matrix,
                                         value_domain=list(range(len(scale))),
                                         level_of_measurement="ordinal"))
        alphas.append(1.0 if math.isnan(alpha) else alpha)
    return float(np.quantile(alphas, confidence))


LEVELS = ("nominal", "ordinal", "interval")
Level = Literal["nominal", "ordinal", "interval"]


def label_alpha(units: Iterable[Sequence[str]], *, level: str,
                order: Sequence[str] = ()) -> float | None:
    """Krippendorff's alpha over trainers' labels, at ``level`` (nominal, ordinal, interval).

    Each unit is the labels one item got. ``order``: an ordinal scale's labels, first to
    last; without it an ordinal (and any interval) scale reads the labels as numbers. A
    label that cannot be placed (outside ``order``, or not a number where one is needed) is
    left out of its unit. ``None`` when alpha is undefined, as for ``ordinal_alpha``.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    kept = [[v for v in unit if _placeable(v, level, order)] for unit in units]
    values = sorted({v for unit in kept for v in unit},
                    key=lambda v: _position(v, level, order))
    index = {value: i for i, value in enumerate(values)}
    counts = []
    for unit in kept:
        row = [0] * len(values)
        for value in unit:
            row[index[value]] += 1
        if sum(row) >= 2:
            counts.append(row)
    if not counts or sum(any(column) for column in zip(*counts, strict=True)) < 2:
        return None
    import krippendorff
    import numpy as np

    domain: list[float] = ([float(v) for v in values] if level == "interval"
                           else [float(i) for i in range(len(values))])
    alpha = float(krippendorff.alpha(value_counts=np.array(counts, dtype=float),
                                     value_domain=domain,
                                     level_of_measurement=cast(Level, level)))
    return None if math.isnan(alpha) else alpha


def labels_match(a: str, b: str, *, level: str) -> bool:
    """Whether two trainers gave the same label: equal labels (nominal, ordinal), or equal
    numbers (interval: ``4`` and ``4.0`` match; a label that is not a number matches only
    itself)."""
    if level == "interval":
        x, y = _number(a), _number(b)
        if x is not None and y is not None:
            return x == y
    return a == b


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _placeable(value: str, level: str, order: Sequence[str]) -> bool:
    if level == "nominal":
        return True
    if level == "ordinal" and order:
        return value in order
    return _number(value) is not None


def _position(value: str, level: str, order: Sequence[str]) -> tuple[float, str]:
    if level == "ordinal" and order:
        return float(order.index(value)), value
    if level == "nominal":
        return 0.0, value
    return _number(value) or 0.0, value
