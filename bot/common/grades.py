"""The grade scale, defined once: an ordered tuple of levels, best first.

    from bot.common.grades import DEFAULT_SCALE as SCALE   # or workspace.scale, scale_in_force()
    SCALE.keys                      # ("pass", "minor", "major")
    SCALE.best                      # "pass"
    SCALE.non_pass                  # ("minor", "major")
    SCALE.label_of("minor")         # "Minor issue"
    SCALE.badge_of("major")         # "🔴 Major error"
    SCALE.distance("pass", "major") # 2 == SCALE.whole_step

Every other module derives its grade keys, labels, badges, button styles, default weights,
ranks and colours from a ``Scale``, so the scale is spelled out in one place: the default
below, or a workspace's own (``[[grade_scale]]``, read by ``bot.workspace.scale``). This is a
leaf module (no imports from the project).
"""

from collections.abc import Iterator
from dataclasses import dataclass

MIN_LEVELS, MAX_LEVELS = 2, 5  # a workspace's own scale ([[grade_scale]]) has 2 to 5 levels


@dataclass(frozen=True)
class Level:
    """One grade of the scale."""

    key: str  # stored in grade columns and sent as button values: "pass", "minor", ...
    label: str  # "Minor issue"
    badge: str  # "🟡 Minor issue": the label with its marker, where a grade is shown
    style: str | None  # the Slack button style ("primary", "danger" or None for default)
    weight: float  # default score contribution, in [0, 1] (the [policy] grade_weights default)
    colour: str  # the chart colour
    needs_explanation: bool  # a category and written explanation are required
    severe: bool  # counts as a major error (escalation "majority major", precedent arms)


@dataclass(frozen=True)
class Scale:
    """The ordered levels, best first; rank = index."""

    levels: tuple[Level, ...]

    def __post_init__(self) -> None:
        keys = [level.key for level in self.levels]
        if not MIN_LEVELS <= len(keys) <= MAX_LEVELS or len(set(keys)) != len(keys):
            raise ValueError(f"a scale needs {MIN_LEVELS} to {MAX_LEVELS} distinct levels "
                             f"(got {keys})")
        if self.levels[0].severe or self.levels[0].needs_explanation:
            raise ValueError("the best level is neither severe nor needs an explanation")

    def __iter__(self) -> Iterator[Level]:
        return iter(self.levels)

    def __len__(self) -> int:
        return len(self.levels)

    def __contains__(self, key: object) -> bool:
        return key in self.keys

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(level.key for level in self.levels)

    @property
    def best(self) -> str:
        """The pass key: the best level."""
        return self.levels[0].key

    @property
    def worst(self) -> str:
        return self.levels[-1].key

    @property
    def non_pass(self) -> tuple[str, ...]:
        return self.keys[1:]

    @property
    def severe(self) -> tuple[str, ...]:
        return tuple(level.key for level in self.levels if level.severe)

    @property
    def rank(self) -> dict[str, int]:
        return {level.key: i for i, level in enumerate(self.levels)}

    @property
    def whole_step(self) -> int:
        """The rank distance at which two reviewers disagree (``bot.services.disputes``):
        two ranks (Pass against Major error on the default scale; Minor against Critical on
        a four-level one), or one on a two-level scale, where one rank is all there is."""
        return min(2, len(self.levels) - 1)

    @property
    def default_weights(self) -> dict[str, float]:
        return {level.key: level.weight for level in self.levels}

    def level(self, key: str) -> Level:
        for level in self.levels:
            if level.key == key:
                return level
        raise KeyError(key)

    def distance(self, a: str, b: str) -> int:
        """Ordinal distance between two grades (0 = same, whole_step = best vs worst)."""
        rank = self.rank
        return abs(rank[a] - rank[b])

    def label_of(self, key: str) -> str:
        return self.level(key).label

    def badge_of(self, key: str) -> str:
        """The badge of a known grade, else the key itself (shown as stored)."""
        return self.level(key).badge if key in self else key

    def is_severe(self, key: str) -> bool:
        return key in self and self.level(key).severe

    def needs_explanation(self, key: str) -> bool:
        return self.level(key).needs_explanation

    def labels(self) -> dict[str, str]:
        return {level.key: level.label for level in self.levels}

    def badges(self) -> dict[str, str]:
        return {level.key: level.badge for level in self.levels}

    def listed(self) -> str:
        """The labels in bold as a sentence lists them: *Pass*, *Minor issue* or *Major error*."""
        labels = [f"*{level.label}*" for level in self.levels]
        return f"{', '.join(labels[:-1])} or {labels[-1]}"

    def named(self, keys: tuple[str, ...], conjunction: str = "or") -> str:
        """These grades' labels as a sentence names them: ``Minor issue or Major error``."""
        labels = [self.label_of(key) for key in keys]
        if len(labels) < 2:
            return "".join(labels)
        return f"{', '.join(labels[:-1])} {conjunction} {labels[-1]}"


DEFAULT_SCALE = Scale((
    Level("pass", "Pass", "✅ Pass", "primary", 1.0, "#2e7d32",
          needs_explanation=False, severe=False),
    Level("minor", "Minor issue", "🟡 Minor issue", None, 0.5, "#f9a825",
          needs_explanation=True, severe=False),
    Level("major", "Major error", "🔴 Major error", "danger", 0.0, "#c62828",
          needs_explanation=True, severe=True),
))
# The scale in force in this process. Code handed a workspace or a policy reads its scale
# there (``Workspace.scale``, ``Policy.scale``); the rules deep below them that are not
# (what a sample counts as, disputes, agreement, badges on every surface) read this one,
# which the process sets once at start from the same workspace (``use_scale``, called by
# ``bot.wiring.context.use_grade_scale``): one workspace, so one scale, per process.
_in_force: list[Scale] = [DEFAULT_SCALE]


def use_scale(scale: Scale) -> None:
    """Make ``scale`` (the workspace's) the one in force in this process."""
    _in_force[0] = scale


def scale_in_force() -> Scale:
    """The workspace's scale once the process has started, else the default."""
    return _in_force[0]
