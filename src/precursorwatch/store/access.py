"""Who may read what: the key each screening was made with, and the reads the API needs to
answer within bounded memory (a screening's summary alone, its lines as a stream, every
stored substance for the redaction of confidential facts).

Screenings are authorised by key *id*: ``screening_owner`` records the key that made each
one (the name in ``screening.actor`` is for people; it need not have been unique before
0004_key_ids).
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from precursorwatch.errors import QueryError
from precursorwatch.models import DeclarationLine, LineResult, Substance
from precursorwatch.serial import substance_from_dict
from precursorwatch.store.records import ScreeningSummary
from precursorwatch.store.screenings import _lines, _summary
from precursorwatch.store.tables import screening, screening_owner, substance


def record_owner(*, session: Session, screening_id: str, key_id: str, key_name: str) -> None:
    """Record that API key ``key_id`` (named ``key_name``) made screening ``screening_id``."""
    session.execute(
        insert(screening_owner).values(screening_id=screening_id, key_id=key_id, key_name=key_name)
    )


def owner_of(*, session: Session, screening_id: str) -> str | None:
    """The id of the key that made the screening; None when unknown (made by the CLI, or
    before key ids were recorded with no unique key of its actor's name)."""
    found: str | None = session.execute(
        select(screening_owner.c.key_id).where(screening_owner.c.screening_id == screening_id)
    ).scalar_one_or_none()
    return found


def screening_summary(*, session: Session, screening_id: str) -> ScreeningSummary:
    """A complete screening's record without its lines. Raises QueryError when unknown."""
    row = session.execute(
        select(screening).where(screening.c.id == screening_id, screening.c.complete.is_(True))
    ).first()
    if row is None:
        raise QueryError(f"no screening with id {screening_id!r}")
    return _summary(row)


def screening_lines(
    *, session: Session, screening_id: str
) -> Iterator[tuple[DeclarationLine, LineResult]]:
    """A screening's lines in input order, read a block at a time (the session must stay
    open while they are read)."""
    yield from _lines(session, screening_id)


def all_substances(*, session: Session) -> list[Substance]:
    """Every substance the store holds, current lists' or not (a dropped one included)."""
    return [substance_from_dict(p) for p in session.execute(select(substance.c.payload)).scalars()]
