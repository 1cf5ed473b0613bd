"""Full-text search over reviewers' explanations, settlement notes and saved precedents, with
the store's own engine (the indexes are made by migration 0014_precedent_search).

Usage (inside a query the caller builds)::

    found = matching(session, GRADES, col(Grade.id), words=("ibuprofen", "ckd"))
    stmt = found.join(select(Grade.sample_id, found.score).select_from(Grade))
    stmt = stmt.where(found.condition)

- SQLite: FTS5, ``<source>_fts MATCH '"word" "word"'`` (every word, each quoted as a string
  so nothing a person types is FTS5 syntax: ``"`` doubled; ``NEAR``, ``OR``, ``*``, ``-``,
  ``:`` are plain text), scored with ``bm25`` (negated: higher is more relevant).
- PostgreSQL: ``<table>.search_vector @@ plainto_tsquery('english', :words)`` (every word;
  the words are a bound parameter, and plainto_tsquery reads no operators), scored with
  ``ts_rank``; ``search_vector`` is a generated column (``to_tsvector('english', …)`` of the
  source's columns) with a GIN index.

Both stem English (``porter`` on SQLite, ``english`` on PostgreSQL), so "recommends" finds
"recommend". PostgreSQL also drops English stop words ("the", "is") from the query; SQLite
looks for them too. A word with no letter or digit in it ("*", "🙂") looks for nothing.

``any_of`` is the same with "any word" instead of "every word", for ranking texts by how
much they share with a longer text (the grading modal's precedents).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, bindparam, column, func, literal_column, table
from sqlmodel import Session

CONFIG = "english"


@dataclass(frozen=True)
class Source:
    table: str
    fts: str  # the SQLite FTS5 table; on PostgreSQL, its GIN index is ix_<fts>
    columns: tuple[str, ...]


GRADES = Source("grade", "grade_fts", ("category", "explanation"))
SETTLEMENTS = Source("dispute_settlement", "settlement_fts", ("note",))
PRECEDENTS = Source("precedent", "precedent_fts", ("category", "ruling", "rationale"))


@dataclass(frozen=True)
class Match:
    """How to narrow a query on ``source`` to the rows that match, and their relevance."""

    source: Source
    id_column: Any  # the source's primary key in the caller's query
    condition: ColumnElement[bool]
    score: ColumnElement[float]  # higher is more relevant
    fts5: bool

    def join(self, stmt: Any) -> Any:
        """``stmt`` joined to the FTS5 table on SQLite (unchanged on PostgreSQL)."""
        if not self.fts5:
            return stmt
        fts = table(self.source.fts, column("rowid"))
        return stmt.join(fts, fts.c.rowid == self.id_column)


def vector_sql(source: Source) -> str:
    """PostgreSQL: the source's stored document (migration 0014's generated column)."""
    return f"{source.table}.search_vector"


def matching(session: Session, source: Source, id_column: Any, *,
             words: Sequence[str]) -> Match:
    """Rows of ``source`` with every one of ``words``."""
    if _fts5(session):
        return _fts5_match(source, id_column, " ".join(_quoted(w) for w in words))
    query = func.plainto_tsquery(literal_column(f"'{CONFIG}'::regconfig"),
                                 bindparam("search_words", " ".join(words), unique=True))
    return _pg_match(source, id_column, query)


def any_of(session: Session, source: Source, id_column: Any, *,
           words: Sequence[str]) -> Match:
    """Rows of ``source`` with at least one of ``words``, the more the more relevant.
    ``words`` should be plain words (``plain_words``); others are quoted all the same."""
    if _fts5(session):
        return _fts5_match(source, id_column, " OR ".join(_quoted(w) for w in words))
    # Each word through plainto_tsquery (a bound parameter, no syntax), or-ed together.
    queries = [func.plainto_tsquery(literal_column(f"'{CONFIG}'::regconfig"),
                                    bindparam(f"search_word_{i}", w, unique=True))
               for i, w in enumerate(words)]
    query: ColumnElement[Any] = queries[0]
    for more in queries[1:]:
        query = query.op("||")(more)
    return _pg_match(source, id_column, query)


WORD = re.compile(r"[^\W_]{4,}")


def plain_words(*texts: str, most: int = 24, chars: int = 4000) -> tuple[str, ...]:
    """The longest distinct words (four letters or more) of ``texts``, at most ``most``: a
    bounded query for "texts that share words with these". Each text is read to ``chars``."""
    seen: dict[str, str] = {}
    for text in texts:
        for word in WORD.findall(text[:chars]):
            if not word.isdigit():
                seen.setdefault(word.casefold(), word.casefold())
    ranked = sorted(seen.values(), key=lambda w: (-len(w), w))
    return tuple(ranked[:most])


def _fts5(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _quoted(word: str) -> str:
    """An FTS5 string: whatever is inside is text to look for, never query syntax."""
    return '"' + word.replace('"', '""') + '"'


def _fts5_match(source: Source, id_column: Any, query: str) -> Match:
    fts: ColumnElement[Any] = literal_column(source.fts)
    return Match(source=source, id_column=id_column,
                 condition=fts.op("MATCH")(bindparam("search_words", query, unique=True)),
                 score=-func.bm25(fts), fts5=True)


def _pg_match(source: Source, id_column: Any, query: ColumnElement[Any]) -> Match:
    vector: ColumnElement[Any] = literal_column(vector_sql(source))
    return Match(source=source, id_column=id_column, condition=vector.op("@@")(query),
                 score=func.ts_rank(vector, query), fts5=False)
