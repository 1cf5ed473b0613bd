"""Shapes of Slack ids, checked offline.

    >>> is_user_id("U0TRAINER1"), is_channel_id("C0QUALITY")
    (True, True)

Only the *form* is checked (``auditbot config check`` never calls Slack). Users are ``U…``
or ``W…`` (Enterprise Grid), channels ``C…`` (public) or ``G…`` (private, legacy).
"""

import re

USER_ID_RE = re.compile(r"[UW][A-Z0-9]{2,}")
CHANNEL_ID_RE = re.compile(r"[CG][A-Z0-9]{2,}")


def is_user_id(text: str) -> bool:
    """True when ``text`` has the shape of a Slack user id (``U0TRAINER1``)."""
    return USER_ID_RE.fullmatch(text) is not None


def is_channel_id(text: str) -> bool:
    """True when ``text`` has the shape of a Slack channel id (``C0CLINICAL``)."""
    return CHANNEL_ID_RE.fullmatch(text) is not None
