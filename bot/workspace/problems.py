"""Config errors that name the key path, collected rather than raised one by one.

    try:
        ws = load_workspace("auditbot.toml")
    except WorkspaceError as err:
        print(err)            # one "file: key.path: message" line per problem
        err.problems          # [Problem(path="task_types[1].pass_threshold", message=...)]
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the config. ``path`` is empty for file-level problems."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class WorkspaceError(Exception):
    """The config cannot be used; ``problems`` lists every problem found in one pass."""

    def __init__(self, problems: list[Problem], *, source: str = "auditbot.toml") -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(f"{self.source}: {problem}" for problem in self.problems)
