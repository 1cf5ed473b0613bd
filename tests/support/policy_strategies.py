"""Hypothesis strategies for the escalation policy, shared by the scoring properties
(``tests/unit/test_scoring.py``) and the batched standings' (``test_batched_standings``)."""

from typing import Any

from hypothesis import strategies as st

from bot.workspace import Policy


def policies(*, watch_margin: bool = False) -> st.SearchStrategy[Policy]:
    """Policies with any pass threshold, minimum, confidence and severe-major count;
    ``watch_margin``: a random watch margin too (otherwise the default)."""
    margin: dict[str, Any] = {"watch_margin": st.floats(0.0, 0.1)} if watch_margin else {}
    return st.builds(
        Policy,
        pass_threshold=st.floats(0.0, 1.0),
        min_graded=st.integers(0, 20),
        escalation_confidence=st.floats(0.5, 0.999),
        severe_majors=st.integers(0, 5),
        **margin,
    )
