"""How a screening's lines are kept: each distinct judged result once, the lines in blocks.

A million-line manifest declares a few thousand distinct goods, and every line of the same
goods gets the same verdict. So a screening stores:

- each distinct result once (``screening_result``): the :class:`~precursorwatch.models.
  LineResult` without the line's own fields, as JSON text, numbered in the order first seen
  (:class:`ResultBook`), with the columns readers filter on (risk, matched key ...);
- its lines in blocks of consecutive lines (``screening_block``): one Arrow table per block,
  compressed, with each line's own fields and the number of its result.

The columns of a block (:data:`COLUMN_TYPES`); a null means "as derived", so the usual line
costs a bit in the validity bitmap, not a copy of the value (and no bytes behind the null):

============== ===========================================================================
row            the data-row number; null when it is the line's position + 1
line_id        the declared line id ('' when none); null when it is ``str(row)``
description …   the declaration's text fields (:data:`TEXT_FIELDS`); left out when '' on every line
quantity       the parsed quantity; null when none
warnings       the line's warnings as a JSON list; null when none
result         the number of its result in ``screening_result``
reason         the line's own reason (a quantity sentence added); null when the result's
result_line_id the result's line id; null when it is ``line_id``, or ``str(row)`` when that
               is ''
result_warnings the result's warnings as a JSON list; null when they are the line's
============== ===========================================================================

Reading gives back exactly the ``(DeclarationLine, LineResult)`` pairs that were written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.ipc as ipc  # type: ignore[import-untyped]

from precursorwatch.errors import StoreError
from precursorwatch.models import DeclarationLine, LineResult
from precursorwatch.serial import from_json, to_json

#: The encoding of the blocks written now (readers know every one written before).
BLOCK_FORMAT = "arrow-ipc-zstd/1"
#: Lines per block when a screening is saved whole (a streamed one has one block per chunk).
BLOCK_LINES = 200_000
#: Distinct results a writer remembers; past it, a result seen again gets a new number
#: (still exact, only less shared), so a screening of endless distinct goods stays bounded.
MAX_KNOWN_RESULTS = 200_000

#: The declaration's text fields, each a column of a block.
TEXT_FIELDS: tuple[str, ...] = (
    "description",
    "cas",
    "hs_code",
    "unit",
    "smiles",
    "origin",
    "destination",
    "consignor",
    "consignee",
    "inchi",
    "inchikey",
)
# A field added to DeclarationLine needs a column here. A new text field needs no new
# BLOCK_FORMAT: a block without its column (one written before, or one where every line
# left it empty) reads as '' (inchi and inchikey came so).
assert {f.name for f in fields(DeclarationLine)} == {
    "row",
    "line_id",
    "quantity",
    "warnings",
    *TEXT_FIELDS,
}, "every DeclarationLine field must be a column of a screening block"
#: The declaration's text fields repeat a few values (the same goods, units, countries,
#: parties) over many lines: each block keeps them once and an index per line.
_REPEATED = pa.dictionary(pa.int32(), pa.large_string())
#: Every column of a block and its Arrow type.
COLUMN_TYPES: dict[str, Any] = {
    "row": pa.int64(),
    "line_id": pa.large_string(),
    **{name: _REPEATED for name in TEXT_FIELDS},
    "quantity": pa.float64(),
    "warnings": pa.large_string(),
    "result": pa.int32(),
    "reason": pa.large_string(),
    "result_line_id": pa.large_string(),
    "result_warnings": pa.large_string(),
}
#: Fields of a LineResult that are the line's own, not its result's.
_LINE_OWN = frozenset({"line_id", "reason", "warnings"})
#: The other fields, shared by every line of a result.
_RESULT_FIELDS = tuple(f.name for f in fields(LineResult) if f.name not in _LINE_OWN)


def _narrow(values: Any, kind: Any) -> Any:
    """``values`` as stored: text as dictionary codes (the narrowest integers that hold them)
    for the repeated fields, else in its own type; whole numbers in 32 bits when they fit.
    None for a repeated field that is '' on every line (it is left out of the block)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        values = pa.array(values, type=kind)
    if kind == _REPEATED:
        if not pa.types.is_dictionary(values.type):
            if not len(values) or not pc.max(pc.binary_length(values)).as_py():
                return None  # '' everywhere (or no line)
            values = pc.dictionary_encode(values.cast(pa.string()))
        elif values.dictionary.to_pylist() in ([], [""]):
            return None
        size = len(values.dictionary)
        codes = pa.int8() if size < 1 << 7 else pa.int16() if size < 1 << 15 else pa.int32()
        return pa.DictionaryArray.from_arrays(
            values.indices.cast(codes, safe=False), values.dictionary.cast(pa.string())
        )
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return values.cast(pa.string())
    if pa.types.is_integer(kind):
        values = values.cast(kind)
        top = pc.max(values).as_py()
        low = pc.min(values).as_py()
        if top is not None and low >= -(1 << 31) and top < 1 << 31:
            return values.cast(pa.int32(), safe=False)
    return values.cast(kind)


def block_table(columns: Mapping[str, Any]) -> Any:
    """The Arrow table of one block: ``columns`` (name -> Arrow array or list, every name of
    :data:`COLUMN_TYPES`, equal lengths) as stored (:func:`_narrow`). A column of nulls only,
    or a text field that is '' on every line, is left out (a reader takes a missing column for
    one of nulls, or of '' for a text field)."""
    arrays, names = [], []
    for name, kind in COLUMN_TYPES.items():
        values = _narrow(columns[name], kind)
        if values is None or (values.null_count == len(values) and len(values)):
            continue
        arrays.append(values)
        names.append(name)
    return pa.table(arrays, names=names)


def table_bytes(table: Any) -> bytes:
    """A :func:`block_table` as the bytes stored: one zstd-compressed Arrow IPC stream."""
    sink = pa.BufferOutputStream()
    options = ipc.IpcWriteOptions(compression="zstd")
    with ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    data: bytes = sink.getvalue().to_pybytes()
    return data


def encode_block(columns: Mapping[str, Any]) -> bytes:
    """The bytes of one block (:func:`block_table`, then :func:`table_bytes`)."""
    return table_bytes(block_table(columns))


def block_arrow(data: bytes, fmt: str) -> Any:
    """The Arrow table of a stored block, with the columns it was written with (one left out
    reads as :func:`column_values` says). Raises StoreError for an unknown format."""
    if fmt != BLOCK_FORMAT:
        raise StoreError(
            f"a screening block is in format {fmt!r}, which this precursorwatch cannot read: "
            "upgrade precursorwatch"
        )
    return ipc.open_stream(pa.py_buffer(data)).read_all()


def decode_block(data: bytes, fmt: str) -> dict[str, list[Any]]:
    """Every column of a block (:data:`COLUMN_TYPES`) as a Python list. Raises StoreError for
    an unknown format."""
    table = block_arrow(data, fmt)
    return {name: column_values(table, name) for name in COLUMN_TYPES}


def column_values(table: Any, name: str) -> list[Any]:
    """Column ``name`` of a block's Arrow ``table`` as a list: a column left out (nulls only,
    or a text field '' on every line) reads as that."""
    if name not in table.column_names:
        return [("" if name in TEXT_FIELDS else None)] * table.num_rows
    return _values(table.column(name))


def shown_line_ids(columns: Mapping[str, Sequence[Any]], first_position: int) -> list[str]:
    """The line id each line's result carries (what reports show and decisions are recorded
    against): its own result line id, else its declared line id, else its row number.
    ``columns`` holds at least ``row``, ``line_id`` and ``result_line_id`` of one block."""
    rows, ids, result_ids = columns["row"], columns["line_id"], columns["result_line_id"]
    out = []
    for i, own in enumerate(result_ids):
        if own is not None:
            out.append(own)
            continue
        row = rows[i] if rows[i] is not None else first_position + i + 1
        out.append(ids[i] or str(row))
    return out


def _values(column: Any) -> list[Any]:
    """A column's values as a list; a dictionary column's repeated texts are made once."""
    if not pa.types.is_dictionary(column.type):
        values: list[Any] = column.to_pylist()
        return values
    out: list[Any] = []
    for chunk in column.chunks:
        texts = np.asarray([*chunk.dictionary.to_pylist(), None], dtype=object)
        at = chunk.indices.fill_null(len(texts) - 1).to_numpy(zero_copy_only=False)
        out.extend(texts[at].tolist())
    return out


def result_json(head: str, reason: str) -> str:
    """The stored JSON text of a result: its ``head`` (the JSON members of every field but
    line_id, reason and warnings) and its reason."""
    return f'{{{head}, "reason": {json.dumps(reason)}}}'


def result_template(text: str) -> LineResult:
    """The LineResult a stored result stands for, with line_id '' and no warnings."""
    return from_json(LineResult, {**json.loads(text), "line_id": "", "warnings": []})


@dataclass
class ResultBook:
    """The distinct results of one screening as it is written, numbered as first seen.

    A result is known by its *head*: the JSON members of every field but the line's own
    (line id, reason, warnings). The first line of a head gives the result's reason; a line
    whose reason differs (a quantity sentence added) keeps its own.
    """

    known: dict[str, tuple[int, str]] = field(default_factory=dict)
    count: int = 0
    #: Rows of ``screening_result`` not yet written (:meth:`take`).
    pending: list[dict[str, Any]] = field(default_factory=list)

    def number(
        self,
        head: str,
        reason: str,
        *,
        risk: str,
        flagged: bool,
        matched_key: str,
        match_type: str,
        score: float,
    ) -> tuple[int, str]:
        """The number of the result with ``head`` and the reason it was stored with."""
        hit = self.known.get(head)
        if hit is None:
            if len(self.known) >= MAX_KNOWN_RESULTS:
                self.known.clear()
            hit = self.known[head] = (self.count, reason)
            self.pending.append(
                {
                    "result_no": self.count,
                    "risk": risk,
                    "flagged": flagged,
                    "matched_key": matched_key,
                    "match_type": match_type,
                    "score": score,
                    "result": result_json(head, reason),
                }
            )
            self.count += 1
        return hit

    def add(self, result: LineResult) -> tuple[int, str | None]:
        """Number ``result``: its result number, and its own reason (None: the result's)."""
        data = to_json(result)
        head = json.dumps({k: v for k, v in data.items() if k not in _LINE_OWN})[1:-1]
        number, reason = self.number(
            head,
            result.reason,
            risk=result.risk,
            flagged=result.flagged,
            matched_key=result.matched_key,
            match_type=result.match_type,
            score=result.score,
        )
        return number, None if reason == result.reason else result.reason

    def take(self) -> list[dict[str, Any]]:
        """The result rows numbered since the last call (to insert with the block)."""
        rows, self.pending = self.pending, []
        return rows


def _json_list(values: Sequence[str]) -> str | None:
    return json.dumps(list(values)) if values else None


def block_from_lines(
    pairs: Sequence[tuple[DeclarationLine, LineResult]], first_position: int, book: ResultBook
) -> bytes:
    """One block of ``pairs`` (the lines at ``first_position`` on), numbering their results
    in ``book``."""
    cols: dict[str, list[Any]] = {name: [] for name in COLUMN_TYPES}
    for i, (line, result) in enumerate(pairs):
        row = line.row
        shown = line.line_id or str(row)
        number, own_reason = book.add(result)
        cols["row"].append(None if row == first_position + i + 1 else row)
        cols["line_id"].append(None if line.line_id == str(row) else line.line_id)
        for name in TEXT_FIELDS:
            cols[name].append(getattr(line, name))
        cols["quantity"].append(line.quantity)
        cols["warnings"].append(_json_list(line.warnings))
        cols["result"].append(number)
        cols["reason"].append(own_reason)
        cols["result_line_id"].append(None if result.line_id == shown else result.line_id)
        same = tuple(result.warnings) == tuple(line.warnings)
        cols["result_warnings"].append(None if same else json.dumps(list(result.warnings)))
    return encode_block(cols)


def lines_of(
    columns: Mapping[str, list[Any]], first_position: int, templates: Mapping[int, LineResult]
) -> Iterator[tuple[DeclarationLine, LineResult]]:
    """The ``(DeclarationLine, LineResult)`` pairs of a decoded block, in order.

    ``templates``: result number -> :func:`result_template` of the screening's results.
    """
    texts = [columns[name] for name in TEXT_FIELDS]
    rows, line_ids, results = columns["row"], columns["line_id"], columns["result"]
    quantities, warnings, reasons = columns["quantity"], columns["warnings"], columns["reason"]
    result_ids, result_warnings = columns["result_line_id"], columns["result_warnings"]
    bases: dict[int, dict[str, Any]] = {}
    lists: dict[str, tuple[str, ...]] = {}

    def listed(text: str) -> tuple[str, ...]:
        found = lists.get(text)
        if found is None:
            found = lists[text] = tuple(json.loads(text))
        return found

    for i, number in enumerate(results):
        row = rows[i]
        if row is None:
            row = first_position + i + 1
        line_id = line_ids[i]
        if line_id is None:
            line_id = str(row)
        own = warnings[i]
        line_warnings = listed(own) if own is not None else ()
        line = DeclarationLine(
            row=row,
            line_id=line_id,
            quantity=quantities[i],
            warnings=line_warnings,
            **{name: t[i] for name, t in zip(TEXT_FIELDS, texts, strict=True)},
        )
        base = bases.get(number)
        if base is None:
            template = templates[number]
            base = bases[number] = {f: getattr(template, f) for f in _RESULT_FIELDS}
        result_id = result_ids[i]
        result_warning = result_warnings[i]
        reason = reasons[i]
        result = LineResult(
            **base,
            line_id=result_id if result_id is not None else (line_id or str(row)),
            reason=reason if reason is not None else templates[number].reason,
            warnings=listed(result_warning) if result_warning is not None else line_warnings,
        )
        yield line, result
