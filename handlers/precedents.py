"""Save as precedent: the button on a settlement (or on an adjudicated disagreement between
trainers), the modal, the stored precedent (stored, then acked: ``handlers.kept``)."""

from typing import Any

from slack_bolt import Ack, App, BoltContext
from sqlmodel import Session

from bot.common.errors import NotFound
from bot.services.grading import task_type_of
from bot.services.precedent_save import (
    adjudicated_view,
    check_may_save,
    check_may_save_disagreement,
    disagreement_precedent_for,
    precedent_for,
    precedent_problems,
    ruled_view,
    save_disagreement_precedent,
    save_precedent,
)
from bot.services.precedents import SavedPrecedent
from bot.slack.ids import SAVE_ACTION, SAVE_DISAGREEMENT_ACTION, PrecedentBlock, PrecedentCallback
from bot.slack.payloads import parse_click, parse_id, parse_precedent, precedent_metadata
from bot.slack.precedent_form import disagreement_precedent_modal, precedent_modal
from bot.wiring.context import AppContext
from handlers.errors import guarded
from handlers.kept import arrived, store_submission

FIELD_OF = {"category": PrecedentBlock.CATEGORY, "ruling": PrecedentBlock.RULING,
            "rationale": PrecedentBlock.RATIONALE}


def register(app: App, ctx: AppContext) -> None:
    after_ack = guarded(ctx)

    @app.action(SAVE_ACTION)
    @after_ack
    def save_clicked(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        click = parse_click(body)
        with ctx.session() as session:
            check_may_save(session, sample_id=click.sample_id, user=click.user)
            view = ruled_view(session, click.sample_id)
            saved = precedent_for(session, click.sample_id)
        if view is None:  # check_may_save found its ruling; be safe anyway
            return
        task_type = task_type_of(ctx.workspace, view.task_type)
        ctx.client.views_open(trigger_id=click.trigger_id, view=precedent_modal(
            view, task_name=task_type.name, categories=task_type.error_categories,
            saved=saved, private_metadata=precedent_metadata(sample_id=view.sample_id,
                                                task_type=view.task_type)))

    @app.action(SAVE_DISAGREEMENT_ACTION)
    @after_ack
    def save_disagreement_clicked(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        click = parse_click(body)
        disagreement_id = parse_id(click.value, "a disagreement id")
        with ctx.session() as session:
            row = check_may_save_disagreement(session, disagreement_id=disagreement_id,
                                              user=click.user)
            view = adjudicated_view(row)
            saved = disagreement_precedent_for(session, disagreement_id)
        if view is None:  # check_may_save_disagreement found it adjudicated; be safe anyway
            return
        task_type = task_type_of(ctx.workspace, view.task_type)
        ctx.client.views_open(trigger_id=click.trigger_id, view=disagreement_precedent_modal(
            view, task_name=task_type.name, categories=task_type.error_categories,
            saved=saved, private_metadata=precedent_metadata(
                disagreement_id=view.disagreement_id, task_type=view.task_type)))

    @app.view(PrecedentCallback.MODAL, middleware=[arrived])
    @after_ack
    def precedent_submitted(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        submission = parse_precedent(body)
        try:
            categories = task_type_of(ctx.workspace, submission.task_type).error_categories
        except NotFound as gone:  # the config changed while the modal was open
            ack(response_action="errors", errors={PrecedentBlock.CATEGORY: gone.user_message})
            return
        problems = precedent_problems(category=submission.category, ruling=submission.ruling,
                                      rationale=submission.rationale, categories=categories)
        if problems:
            ack(response_action="errors", errors={FIELD_OF[k]: v for k, v in problems.items()})
            return

        def saved(session: Session) -> SavedPrecedent:
            if submission.disagreement_id is not None:
                return save_disagreement_precedent(
                    session, ctx.workspace, disagreement_id=submission.disagreement_id,
                    author=submission.user, category=submission.category or "",
                    ruling=submission.ruling or "", rationale=submission.rationale or "",
                    now=ctx.clock.now())
            assert submission.sample_id is not None  # parse_precedent: one or the other
            return save_precedent(session, ctx.workspace, sample_id=submission.sample_id,
                                  author=submission.user, category=submission.category or "",
                                  ruling=submission.ruling or "",
                                  rationale=submission.rationale or "", now=ctx.clock.now())

        store_submission(ctx, context, ack, saved, field=PrecedentBlock.RATIONALE)
