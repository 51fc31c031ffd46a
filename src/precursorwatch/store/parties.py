"""The stored lines of given parties (consignees), for the cross-line checks and a party's
history.

One repository function, :func:`party_lines`, reads every line of the complete screenings in a
period whose consignee folds to one of the given keys, as plain :class:`PartyLine` rows (the
declaration's fields, the screening's id and time, and the verdict's risk, matched substance
and list codes). The store does not know how names are folded: the caller passes ``fold``
(:func:`precursorwatch.intel.consignee.fold_name` in practice).

The lines are kept in compressed blocks (:mod:`precursorwatch.store.blocks`), so each block of
the period is read and its distinct consignee spellings folded (once per spelling); only the
matching lines become Python objects. A folded-consignee key kept beside the blocks would let
this read only the blocks of those parties.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.orm import Session

from precursorwatch.store.blocks import TEXT_FIELDS, block_arrow, shown_line_ids
from precursorwatch.store.screenings import block_data, block_rows
from precursorwatch.store.tables import (
    screening,
    screening_owner,
    screening_result,
)

#: Block columns a party line is made of.
_COLUMNS = (
    "row",
    "line_id",
    "result_line_id",
    "consignee",
    "description",
    "cas",
    "quantity",
    "unit",
    "destination",
    "result",
)


@dataclass(frozen=True, slots=True)
class PartyLine:
    """One stored line of a party: what was declared, when, and the verdict's headline."""

    screening_id: str
    created_at: datetime
    line_id: str
    consignee: str
    description: str
    cas: str
    quantity: float | None
    unit: str
    destination: str
    matched_key: str
    matched_name: str
    risk: str
    lists: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Verdict:
    matched_key: str
    matched_name: str
    risk: str
    lists: tuple[str, ...]


def _verdicts(session: Session, screening_id: str) -> dict[int, _Verdict]:
    """Result number -> the headline of that stored result."""
    sr = screening_result.c
    out = {}
    for row in session.execute(
        select(sr.result_no, sr.risk, sr.matched_key, sr.result).where(
            sr.screening_id == screening_id
        )
    ):
        data = json.loads(row.result)
        out[row.result_no] = _Verdict(
            row.matched_key,
            str(data.get("matched_name") or ""),
            row.risk,
            tuple(str(c) for c in data.get("lists") or ()),
        )
    return out


def _values(table: Any, name: str, rows: Any) -> list[Any]:
    """Column ``name`` of an Arrow ``table`` at ``rows``, as a list. A block leaves out a
    column of nulls only, and a text field that is '' on every line."""
    if name not in table.column_names:
        return [("" if name in TEXT_FIELDS else None)] * len(rows)
    values: list[Any] = table.column(name).take(rows).to_pylist()
    return values


def _block_columns(
    table: Any,
    wanted: Callable[[str], bool],
    keep_row: Callable[[str, str, int], bool] | None,
) -> tuple[list[int], dict[str, list[Any]]]:
    """The positions (within the block's Arrow ``table``) of the lines whose consignee is
    ``wanted`` (and that ``keep_row(description, cas, result number)`` keeps), and their
    party-line columns."""
    if "consignee" not in table.column_names:  # no line of the block names one
        return [], {}
    consignee = table.column("consignee")
    if pa.types.is_dictionary(consignee.type):
        consignee = consignee.cast(consignee.type.value_type)
    spellings = [s for s in pc.unique(consignee).to_pylist() if s and wanted(s)]
    if not spellings:
        return [], {}
    mask = pc.is_in(consignee, value_set=pa.array(spellings, type=consignee.type))
    keep = np.flatnonzero(mask.to_numpy(zero_copy_only=False)).tolist()
    if keep_row is not None:
        rows = pa.array(keep, type=pa.int64())
        texts, cas, results = (
            _values(table, name, rows) for name in ("description", "cas", "result")
        )
        keep = [
            keep[j] for j in range(len(keep)) if keep_row(texts[j] or "", cas[j] or "", results[j])
        ]
    rows = pa.array(keep, type=pa.int64())
    return keep, {name: _values(table, name, rows) for name in _COLUMNS}


def _screenings(
    session: Session,
    since: datetime | None,
    until: datetime | None,
    owner_key_id: str | None,
    exclude: Collection[str],
) -> list[tuple[str, datetime]]:
    s = screening.c
    stmt = (
        select(s.id, s.created_at)
        .where(s.complete.is_(True), s.pruned_at.is_(None))
        .order_by(s.created_at, s.id)
    )
    if since is not None:
        stmt = stmt.where(s.created_at >= since)
    if until is not None:
        stmt = stmt.where(s.created_at <= until)
    if owner_key_id is not None:
        stmt = stmt.join(screening_owner, screening_owner.c.screening_id == s.id).where(
            screening_owner.c.key_id == owner_key_id
        )
    return [(r.id, r.created_at) for r in session.execute(stmt) if r.id not in exclude]


def _lines_of(
    session: Session,
    screening_id: str,
    created_at: datetime,
    wanted: Callable[[str], bool],
    where: Callable[[str, str, str, str], bool] | None,
) -> Iterator[PartyLine]:
    verdicts: Mapping[int, _Verdict] | None = None

    def keep_row(description: str, cas: str, number: int) -> bool:
        nonlocal verdicts
        if verdicts is None:
            verdicts = _verdicts(session, screening_id)
        verdict = verdicts[number]
        assert where is not None
        return where(description, cas, verdict.risk, verdict.matched_key)

    for block in block_rows(session, screening_id):
        table = block_arrow(block_data(session, screening_id, block.block_no), block.format)
        positions, cols = _block_columns(table, wanted, keep_row if where is not None else None)
        if not positions:
            continue
        if verdicts is None:
            verdicts = _verdicts(session, screening_id)
        first = block.first_position
        cols["row"] = [
            first + p + 1 if r is None else r for r, p in zip(cols["row"], positions, strict=True)
        ]
        shown = shown_line_ids(cols, first)
        for j in range(len(positions)):
            verdict = verdicts[cols["result"][j]]
            yield PartyLine(
                screening_id=screening_id,
                created_at=created_at,
                line_id=shown[j],
                consignee=cols["consignee"][j] or "",
                description=cols["description"][j] or "",
                cas=cols["cas"][j] or "",
                quantity=cols["quantity"][j],
                unit=cols["unit"][j] or "",
                destination=cols["destination"][j] or "",
                matched_key=verdict.matched_key,
                matched_name=verdict.matched_name,
                risk=verdict.risk,
                lists=verdict.lists,
            )


def party_lines(
    *,
    session: Session,
    keys: Collection[str],
    fold: Callable[[str], str],
    since: datetime | None = None,
    until: datetime | None = None,
    owner_key_id: str | None = None,
    exclude: Collection[str] = (),
    where: Callable[[str, str, str, str], bool] | None = None,
) -> list[PartyLine]:
    """Every stored line whose consignee folds (``fold``) to one of ``keys``: oldest screening
    first, in input order.

    Only complete screenings whose lines are kept (not pruned), created in ``[since, until]``
    (timezone-aware; None: no bound), made with API key ``owner_key_id`` when given, and not
    in ``exclude`` (screening ids). Blank consignees match nothing. ``where(description, cas,
    risk, matched_key)``, when given, keeps only the lines it is true of (before they are
    made into rows).
    """
    wanted_keys = frozenset(k for k in keys if k)
    if not wanted_keys:
        return []
    folded: dict[str, bool] = {}

    def wanted(spelling: str) -> bool:
        hit = folded.get(spelling)
        if hit is None:
            hit = folded[spelling] = fold(spelling) in wanted_keys
        return hit

    out: list[PartyLine] = []
    for screening_id, created_at in _screenings(session, since, until, owner_key_id, exclude):
        out.extend(_lines_of(session, screening_id, created_at, wanted, where))
    return out
