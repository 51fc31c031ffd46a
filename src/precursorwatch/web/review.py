"""Officers' decisions as the API, the pages and every report show them: record one (with
the audit event), read a screening's newest decision per line and put it on the rows of the
results table and of every report.

A line is *open* when it is flagged and no decision was recorded on it yet: the lines an
officer still has to work (the ``decision=open`` filter of the API and the results page,
:mod:`precursorwatch.store.finder`). Decisions carry no confidential fact (a decision, a
comment typed by an officer, who and when), so every role that may read the screening sees
them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from precursorwatch.models import LineResult
from precursorwatch.report.html import Row
from precursorwatch.report.writers import defuse
from precursorwatch.store import ApiKeyInfo
from precursorwatch.store.decisions import (
    LineDecision,
    current_decisions,
    decision_history,
    record_decision,
)

if TYPE_CHECKING:
    from precursorwatch.web.state import AppState

__all__ = [
    "decide",
    "decided",
    "decision_json",
    "decisions_of",
    "history",
    "row_decision",
    "with_decisions",
]


def decided(state: AppState, screening_id: str) -> dict[str, LineDecision]:
    """Line id -> the newest decision on it, for a screening's decided lines."""
    with state.store.session(write=False) as session:
        return current_decisions(session=session, screening_id=screening_id)


def history(state: AppState, screening_id: str, line_id: str) -> list[LineDecision]:
    """Every decision recorded on one line, oldest first."""
    with state.store.session(write=False) as session:
        return decision_history(session=session, screening_id=screening_id, line_id=line_id)


def decide(
    state: AppState, key: ApiKeyInfo, screening_id: str, line_id: str, decision: str, comment: str
) -> LineDecision:
    """Record ``key``'s decision on a line (audited as "line.decision"). Raises InputError
    (422, the field named) or QueryError (404) as
    :func:`~precursorwatch.store.decisions.record_decision` does; the caller has authorised
    the key to read the screening."""
    with state.store.session() as session:
        return record_decision(
            session=session,
            screening_id=screening_id,
            line_id=line_id,
            decision=decision,
            comment=comment,
            actor=key.name,
            actor_key_id=key.key_id,
        )


def decision_json(item: LineDecision | None) -> dict[str, Any] | None:
    """A decision as the API shows it on a line (None: no decision yet)."""
    if item is None:
        return None
    return {
        "decision": item.decision,
        "comment": item.comment,
        "actor": item.actor,
        "at": item.at,
    }


def row_decision(item: LineDecision | None) -> tuple[str, str]:
    """A results row's decision and its note ("by alice, 2026-12-07 09:14 UTC: papers in
    order"), the comment defused against formula injection; ('', '') when none."""
    if item is None:
        return "", ""
    said = f": {defuse(item.comment)}" if item.comment else ""
    return item.decision, f"by {item.actor}, {item.at:%Y-%m-%d %H:%M} UTC{said}"


def with_decisions(state: AppState, screening_id: str, rows: Sequence[Row]) -> list[Row]:
    """``rows`` of a screening's results table, each with its line's newest decision."""
    decisions = decided(state, screening_id)
    out = []
    for row in rows:
        item = decisions.get(row.result.line_id)
        if item is not None:
            made, note = row_decision(item)
            row = dataclasses.replace(row, decision=made, decision_note=note)
        out.append(row)
    return out


def decisions_of(results: Sequence[LineResult], decisions: Mapping[str, LineDecision]) -> list[str]:
    """Each result's decision word ('' when none), for the reports' ``decision`` column."""
    out = []
    for r in results:
        item = decisions.get(r.line_id)
        out.append(item.decision if item is not None else "")
    return out
