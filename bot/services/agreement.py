"""How far graders agree: the grade scale, Krippendorff's alpha and percent agreement (pure).

    ordinal_alpha([("pass", "pass"), ("pass", "minor"), ("major", "major")])   # 0.78
    percent_agreement([("pass", "pass"), ("pass", "minor")])                    # 0.5
    rank_distance("pass", "major")                                             # 2

The scale is ordinal: Pass > Minor issue > Major error, ranked pass = 0, minor = 1,
major = 2. Alpha is Krippendorff's, with his ordinal metric (a disagreement weighs by how
many of all the pairable grades lie between the two), computed here exactly in fractions:
what the ``krippendorff`` package returns for ``level_of_measurement="ordinal"`` (the tests
check it against that package), without numpy on the way of a status answer.
1 is perfect agreement, 0 is what graders grading at random with the same overall mix would
reach, below 0 is systematic disagreement. Krippendorff's own bar: alpha >= 0.8 to rely on
the data, >= 0.667 for tentative conclusions, below that not at all.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from fractions import Fraction

SCALE = ("pass", "minor", "major")  # the ordinal order of grades (best to worst)
RANK = {grade: rank for rank, grade in enumerate(SCALE)}


def rank_distance(a: str, b: str) -> int:
    """How many notches apart two grades are on the scale: pass-minor 1, pass-major 2."""
    return abs(RANK[a] - RANK[b])


def percent_agreement(pairs: Iterable[tuple[str, str]]) -> float | None:
    """The share of pairs whose two grades are the same; ``None`` without pairs."""
    pairs = list(pairs)
    if not pairs:
        return None
    return sum(a == b for a, b in pairs) / len(pairs)


def ordinal_alpha(units: Iterable[Sequence[str]], *,
                  scale: Sequence[str] = SCALE) -> float | None:
    """Krippendorff's alpha (ordinal) over units, each the values its graders gave.

    A unit may have any number of values; units with fewer than two cannot be paired and add
    nothing. ``scale`` lists every possible value in order. ``None`` when alpha is undefined:
    no unit with two values, or every value the same (no variation to agree on: 0 / 0).
    ``ValueError`` on a value outside ``scale``.
    """
    index = {value: i for i, value in enumerate(scale)}
    counts: Counter[tuple[int, ...]] = Counter()  # each distinct unit, and how many there are
    for unit in units:
        row = [0] * len(scale)
        for value in unit:
            if value not in index:
                raise ValueError(f"{value!r} is not on the scale {list(scale)}")
            row[index[value]] += 1
        if sum(row) >= 2:
            counts[tuple(row)] += 1
    if not counts:
        return None
    size = len(scale)
    # The coincidence matrix: each unit's ordered pairs of values from different graders,
    # a unit of m values weighing 1 / (m - 1).
    coincidences = [[Fraction(0)] * size for _ in range(size)]
    for values, times in counts.items():
        weight = Fraction(times, sum(values) - 1)
        for c in range(size):
            for k in range(size):
                coincidences[c][k] += weight * (values[c] * values[k]
                                                - (values[c] if c == k else 0))
    totals = [sum(line, Fraction(0)) for line in coincidences]  # pairable values of each
    if sum(1 for n in totals if n) < 2:
        return None  # every pairable value the same: expected disagreement is zero

    def distance(c: int, k: int) -> Fraction:  # Krippendorff's ordinal metric, squared
        low, high = min(c, k), max(c, k)
        return (sum(totals[low:high + 1], Fraction(0)) - (totals[low] + totals[high]) / 2) ** 2

    pairs = [(c, k) for c in range(size) for k in range(size) if c != k]
    observed = sum((coincidences[c][k] * distance(c, k) for c, k in pairs), Fraction(0))
    expected = sum((totals[c] * totals[k] * distance(c, k) for c, k in pairs), Fraction(0)) \
        / (sum(totals, Fraction(0)) - 1)
    return float(1 - observed / expected)


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
