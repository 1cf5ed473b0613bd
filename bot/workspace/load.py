"""``load_workspace``: read auditbot.toml from disk, parse and validate it.

    ws = load_workspace(os.environ.get("AUDITBOT_CONFIG", "auditbot.toml"))

Every failure (missing file, invalid TOML, invalid values) is a ``WorkspaceError`` whose
message starts each line with the path given, so the CLI prints it as is and exits.
"""

import os
import re
import tomllib

from bot.workspace.model import Workspace
from bot.workspace.parse import parse_workspace
from bot.workspace.problems import Problem, WorkspaceError

# tomllib ends its messages with "(at line 3, column 5)" or "(at end of document)".
_TOML_WHERE_RE = re.compile(r"\s*\(at (line \d+, column \d+|end of document)\)$")


def load_workspace(path: str | os.PathLike[str]) -> Workspace:
    """Read, parse and validate the config file at ``path``."""
    source = os.fspath(path)
    try:
        with open(path, "rb") as file:
            # Editors on Windows may save a byte order mark, which TOML does not allow.
            data = tomllib.loads(file.read().decode("utf-8").removeprefix("\ufeff"))
    except FileNotFoundError:
        raise _error(source, "file not found (copy examples/auditbot.toml to start, "
                     "or set AUDITBOT_CONFIG)") from None
    except OSError as err:
        raise _error(source, f"cannot read the file: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise _error(source, "invalid TOML: the file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as err:
        raise _error(source, _toml_message(str(err))) from None
    return parse_workspace(data, source=source)


def _toml_message(message: str) -> str:
    """``line 3, column 5: invalid TOML: Expected '=' ...`` from tomllib's message."""
    where = _TOML_WHERE_RE.search(message)
    if where is None:
        return f"invalid TOML: {message}"
    return f"{where[1]}: invalid TOML: {message[:where.start()]}"


def _error(source: str, message: str) -> WorkspaceError:
    return WorkspaceError([Problem("", message)], source=source)
