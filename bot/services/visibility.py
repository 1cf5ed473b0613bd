"""Who may see whom: the one rule for naming a trainer next to their quality results.

Usage::

    may_see_trainer(workspace, viewer="U0NURSE01", trainer="U0TRAINER1")    # True or False
    check_may_see_trainer(workspace, viewer=user, trainer=trainer)          # or NotAllowed
    named, others = split_visible(workspace, viewer=user, trainers=watch)   # names, count

A trainer's results (score, state, watch or escalated, worst samples) are for the trainer
themself, their lead, the reviewers of their task types and managers. A trainer therefore
sees their own results and the aggregates (a task type's score, how many are on watch),
never another trainer's name in a quality context. `/audit status @trainer`, the lists of
`/audit status`, the App Home and the managers' digest all ask here.
"""

from collections.abc import Iterable

from bot.common.errors import NotFound
from bot.services.people import NotAllowed
from bot.workspace import Trainer, Workspace


def may_see_trainer(workspace: Workspace, *, viewer: str | None, trainer: str) -> bool:
    """Whether ``viewer`` may see ``trainer`` named with their results. ``viewer`` None is
    no person (a job's full picture, sent only to managers)."""
    if viewer is None or viewer == trainer:
        return True
    # Not ``roles_of``: its list of whom the viewer leads scans every trainer, and this
    # is asked once per name on lists of thousands.
    if workspace.is_manager(viewer):
        return True
    found = workspace.trainer(trainer)
    if found is None:
        return False
    reviews = {t.key for t in workspace.reviewer_task_types(viewer)}
    return found.lead == viewer or bool(reviews & set(found.task_types))


def check_may_see_trainer(workspace: Workspace, *, viewer: str, trainer: str) -> Trainer:
    """The trainer, or the refusal ``viewer`` reads (``NotFound``, ``NotAllowed``)."""
    found = workspace.trainer(trainer)
    if found is None:
        raise NotFound(f"<@{trainer}> is not a trainer in auditbot's config.")
    if not may_see_trainer(workspace, viewer=viewer, trainer=trainer):
        raise NotAllowed(f"Only <@{trainer}>, their lead, the reviewers of their task types "
                         "and managers can see their results.")
    return found


def split_visible(workspace: Workspace, *, viewer: str | None,
                  trainers: Iterable[str]) -> tuple[tuple[str, ...], int]:
    """Of ``trainers``, those ``viewer`` may see named (in order), and how many others."""
    listed = tuple(trainers)
    named = tuple(t for t in listed if may_see_trainer(workspace, viewer=viewer, trainer=t))
    return named, len(listed) - len(named)


def reviewers_shown(workspace: Workspace, *, viewer: str | None, trainer: str,
                    task_type: str) -> bool:
    """Whether ``viewer`` may read who graded ``trainer``'s samples: everyone who may see
    the trainer, except the trainer themself unless the task type's
    ``show_reviewer_to_trainer`` says so (DMs, the App Home, `status @self` all ask here)."""
    if viewer != trainer:
        return True
    try:
        return workspace.task_type(task_type).policy.show_reviewer_to_trainer
    except KeyError:
        return False
