"""Saved precedents: a settled disagreement kept as a ruling reviewers can look up.

A precedent belongs to exactly one of: a settled sample (a double-review dispute settled by a
manager, or a trainer's dispute decided by a reviewer), or an adjudicated disagreement
between trainers (``bot.store.models.trainer.Disagreement``); one precedent per sample and one per
disagreement (unique, and a CHECK that exactly one is set), written and edited by whoever
settled it (``bot.services.precedent_save``). Migration 0021_disagreement_precedent made
``sample_id`` nullable and added ``disagreement_id``. The full-text indexes over
precedents, reviewers' explanations and settlement notes are store-specific and live in
migration 0014_precedent_search only (``bot.services.search`` queries them): on SQLite, FTS5 tables
``precedent_fts``, ``grade_fts`` and ``settlement_fts`` (external content, kept current by
triggers); on PostgreSQL, a generated ``search_vector`` column (``to_tsvector('english',
…)`` of the same columns) on ``grade``, ``dispute_settlement`` and ``precedent``, with a GIN
index. Neither exists on the other store, so they are not on these models (nothing maps or
writes ``search_vector``: PostgreSQL computes it).
"""

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Text
from sqlmodel import Field, SQLModel


class Precedent(SQLModel, table=True):
    """The ruling on a settled sample or an adjudicated disagreement, in one sentence, with
    its rationale."""

    __tablename__ = "precedent"
    __table_args__ = (CheckConstraint(
        "(sample_id IS NULL) <> (disagreement_id IS NULL)", name="ck_precedent_one_subject"),)

    id: int | None = Field(default=None, primary_key=True)
    sample_id: int | None = Field(default=None, foreign_key="sample.id", unique=True)
    disagreement_id: int | None = Field(default=None, foreign_key="disagreement.id",
                                        unique=True)
    task_type: str = Field(max_length=64, index=True)
    category: str = Field(max_length=100)
    ruling: str = Field(sa_column=Column(Text, nullable=False))
    rationale: str = Field(sa_column=Column(Text, nullable=False))
    author: str = Field(max_length=32)
    created_at: datetime
    updated_at: datetime
