"""The screening kept in the store as it streams: :class:`StoreSink`.

Each chunk becomes one block of the store's record (:mod:`precursorwatch.store.blocks`): the
lines' own fields as Arrow columns, taken from the chunk's columns without a Python object
per line, and the number of each line's result. The results are numbered once per distinct
verdict: lines are grouped on integer codes of every result column but the line's own
(the evidence by its text, each distinct text object looked at once since all the lines of the
same judged goods share one; the other columns by Arrow's dictionary codes), and only each
group's first line makes Python objects.
A screening of a million lines thus costs the store about as many rows as it has distinct
verdicts, plus a few compressed blocks. Each block's table is made in the sink's call (so the
pipeline holds no more chunks than without the store); it is compressed and committed by a
thread of the sink's own while the screening goes on with the next chunk.
"""

from __future__ import annotations

import ctypes
import json
import platform
import re
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from precursorwatch.frames import text_array
from precursorwatch.manifest.quantities import parse_quantity
from precursorwatch.store.blocks import TEXT_FIELDS, ResultBook, block_table, table_bytes

#: A quantity that is a plain whole number: its value is the number itself.
_PLAIN = re.compile(r"^[0-9]{1,12}$")
#: The result's text columns kept in ``screening_result`` (all but the line's own).
_SHARED_TEXT = ("risk", "match_type", "matched_key", "matched_name", "matched_cas", "lists")
_STRING = pa.large_string()


def _texts(frame: pd.DataFrame, name: str, n: int) -> Any:
    """Column ``name`` of ``frame`` as an Arrow text array ('' where absent or missing)."""
    if name not in frame.columns:
        return pa.array(np.full(n, "", dtype=object), type=_STRING)
    column = frame[name]
    if isinstance(column.dtype, (pd.StringDtype, pd.ArrowDtype)):
        try:
            texts = text_array(column)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            pass
        else:
            return texts if not texts.null_count else texts.fill_null("")
    values = ["" if v is None or v is pd.NA else str(v) for v in column.to_numpy(dtype=object)]
    return pa.array(values, type=_STRING)


def _json_lists(texts: Any, rows: np.ndarray) -> Any:
    """JSON lists of the '; '-joined warnings at ``rows`` of ``texts`` (each distinct text
    made once: a warning repeats over many lines)."""
    encoded = pc.dictionary_encode(texts.take(pa.array(rows)))
    lists = [json.dumps([w for w in v.split("; ") if w]) for v in encoded.dictionary.to_pylist()]
    return pa.array(lists, type=_STRING).take(encoded.indices)


def _with_texts(n: int, rows: np.ndarray, values: Any) -> Any:
    """A text array of ``n`` nulls with ``values`` (an Arrow text array) at ``rows``."""
    empty = pa.nulls(n, type=_STRING)
    if not len(rows):
        return empty
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    return pc.replace_with_mask(empty, pa.array(mask), values)


def _unless(derived: Any, values: Any) -> Any:
    """``values`` with a null wherever ``derived`` is true; the nulls hold no bytes (an
    ``if_else`` would keep every value's text behind them)."""
    keep = pc.invert(derived)
    if not pc.any(keep).as_py():
        return pa.nulls(len(values), type=values.type)
    return pc.replace_with_mask(pa.nulls(len(values), type=values.type), keep, values.filter(keep))


def _codes(values: Any) -> tuple[np.ndarray, int]:
    """Codes of a text array from 1 (equal texts, equal codes; 0 for a null) and how many
    there can be (Arrow's dictionary encoding)."""
    encoded = pc.dictionary_encode(values)
    codes: np.ndarray = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    return codes.astype(np.int64) + 1, len(encoded.dictionary) + 1


def _grouped(codes: np.ndarray, more: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """Codes of the tuples (code, more codes ...), numbered from 0 in order of first
    appearance. The codes are combined in mixed radix and renumbered only when the next
    radix could overflow."""
    combined, size = codes, int(codes.max(initial=0)) + 1
    for values, radix in more:
        if size * radix >= 1 << 62:
            combined = pd.factorize(combined)[0]
            size = int(combined.max(initial=0)) + 1
        combined = combined * radix + values
        size *= radix
    result: np.ndarray = pd.factorize(combined)[0]
    return result


def _object_ids(values: np.ndarray) -> np.ndarray:
    """The identities of the objects of a contiguous object array, as integers: CPython
    keeps them as pointers, read here without a Python call per item."""
    if platform.python_implementation() != "CPython" or not values.flags.c_contiguous:
        return np.fromiter(map(id, values), dtype=np.int64, count=len(values))
    if not len(values):
        return np.zeros(0, dtype=np.int64)
    address = values.__array_interface__["data"][0]
    pointers = ctypes.cast(address, ctypes.POINTER(ctypes.c_ssize_t))
    ids: np.ndarray = np.ctypeslib.as_array(pointers, shape=(len(values),)).astype(np.int64)
    return ids


def _firsts(codes: np.ndarray) -> np.ndarray:
    """The first line of each code (codes numbered in order of first appearance: the first
    line of a code is where the running maximum grows)."""
    return np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)


def _risk_counts(risk: pd.Series) -> dict[str, int]:
    """Lines per risk tier, counted in C."""
    return {
        str(tier): int(count) for tier, count in risk.value_counts(sort=False, dropna=False).items()
    }


class StoreSink:
    """Saves the screening in the store chunk by chunk; :meth:`finish` marks it complete.

    Every line reads back as :func:`precursorwatch.store.save_screening` would have kept it
    (the same declaration and the same result), so readers cannot tell the two paths apart.
    """

    def __init__(
        self,
        store: Any,
        *,
        actor: str,
        input_name: str,
        input_hash: str,
        list_versions: Mapping[str, str],
        screening_id: str = "",
        as_of: str = "",
    ) -> None:
        self.store = store
        self._given_id = screening_id  # a web job's id, known before the screening starts
        self.as_of = as_of  # the day whose law is applied, YYYY-MM-DD ('' = today)
        self.actor, self.input_name, self.input_hash = actor, input_name, input_hash
        self.list_versions = dict(list_versions)
        self.screening_id = ""
        self.position = 0
        self.blocks = 0
        self.flagged = 0
        self.by_risk: Counter[str] = Counter()
        self.book = ResultBook()
        self._numbers: dict[tuple[Any, ...], tuple[int, str]] = {}
        self._thread: ThreadPoolExecutor | None = None
        self._writing: Future[None] | None = None
        self._quantities: dict[tuple[str, str], tuple[float | None, str]] = {}

    def _begin(self) -> None:
        """Insert the (incomplete) screening row, once, when the first chunk arrives."""
        from precursorwatch.store.stream import begin_screening

        if self.screening_id:
            return
        with self.store.session() as session:
            self.screening_id = begin_screening(
                session=session,
                actor=self.actor,
                input_name=self.input_name,
                input_hash=self.input_hash,
                list_versions=self.list_versions,
                screening_id=self._given_id or None,
                as_of=self.as_of,
            )

    def _quantity(self, text: str, unit: str) -> tuple[float | None, str]:
        """``parse_quantity``'s value and unit symbol (the manifest's unit when it gives none).

        A plain whole number is its own value; its unit is looked up once per unit text.
        """
        plain = _PLAIN.match(text) is not None
        key = ("1", unit) if plain else (text, unit)
        hit = self._quantities.get(key)
        if hit is None:
            if len(self._quantities) > 100_000:
                self._quantities.clear()
            value, symbol, _ = parse_quantity(key[0], unit)
            hit = self._quantities[key] = (value, symbol or unit)
        return (float(text), hit[1]) if key[0] != text else hit

    def _quantities_of(self, chunk: pd.DataFrame, n: int) -> tuple[Any, Any]:
        """The parsed quantity and unit symbol of every line, as Arrow arrays: plain whole
        numbers and empty quantities in C, the rest (ranges, units in the text ...) one by
        one, as :meth:`_quantity` reads each."""
        text, unit = _texts(chunk, "quantity", n), _texts(chunk, "unit", n)
        # what _PLAIN matches: 1 to 12 ASCII digits (Arrow's check is cheaper than a regex)
        plain = pc.and_(pc.ascii_is_decimal(text), pc.less_equal(pc.binary_length(text), 12))
        empty = pc.equal(text, "")
        values = pc.cast(pc.if_else(plain, text, pa.scalar(None, type=_STRING)), pa.float64())
        distinct = pc.unique(unit)
        symbols = pa.array([self._quantity("1", u)[1] for u in distinct.to_pylist()], _STRING)
        units = pc.if_else(empty, unit, symbols.take(pc.index_in(unit, value_set=distinct)))
        others = np.flatnonzero(~pc.or_(plain, empty).to_numpy(zero_copy_only=False))
        if len(others):
            at = pa.array(others)
            pairs = zip(text.take(at).to_pylist(), unit.take(at).to_pylist(), strict=True)
            read = [self._quantity(" ".join(q.split()), u) for q, u in pairs]
            mask = np.zeros(n, dtype=bool)
            mask[others] = True
            got = pa.array([v for v, _ in read], type=pa.float64())
            values = pc.replace_with_mask(values, pa.array(mask), got)
            units = pc.replace_with_mask(
                units, pa.array(mask), pa.array([u for _, u in read], _STRING)
            )
        return values, units

    def _line_columns(
        self, chunk: pd.DataFrame, out: pd.DataFrame, n: int, first: int
    ) -> dict[str, Any]:
        """The block columns that are the lines' own (all but ``result`` and ``reason``) of
        the ``n`` lines from position ``first`` on."""
        if "row" in chunk.columns:
            rows = chunk["row"].to_numpy(dtype=np.int64)
        else:
            rows = np.arange(1, n + 1, dtype=np.int64)
        derived = rows == np.arange(first + 1, first + n + 1, dtype=np.int64)
        row_texts = pc.cast(pa.array(rows), _STRING)
        line_ids = _texts(chunk, "line_id", n)
        result_ids = _texts(out, "line_id", n)
        # a result's line id is the line's, or its row number when the line has none
        shown = pc.or_(
            pc.equal(result_ids, line_ids),
            pc.and_(pc.equal(line_ids, ""), pc.equal(result_ids, row_texts)),
        )
        warnings = _texts(chunk, "warnings", n)
        warned = np.flatnonzero(pc.not_equal(warnings, "").to_numpy(zero_copy_only=False))
        result_warnings = _texts(out, "warnings", n)
        differ = pc.not_equal(result_warnings, warnings).to_numpy(zero_copy_only=False)
        other = np.flatnonzero(differ)
        quantity, unit = self._quantities_of(chunk, n)
        return {
            "row": pa.array(np.where(derived, 0, rows), mask=derived),
            "line_id": _unless(pc.equal(line_ids, row_texts), line_ids),
            **{name: _texts(chunk, name, n) for name in TEXT_FIELDS if name != "unit"},
            "unit": unit,
            "quantity": quantity,
            "warnings": _with_texts(n, warned, _json_lists(warnings, warned)),
            "result_line_id": _unless(shown, result_ids),
            "result_warnings": _with_texts(n, other, _json_lists(result_warnings, other)),
        }

    def _results(self, out: pd.DataFrame) -> tuple[Any, Any]:
        """Each line's result number, and its own reason where it is not its result's.

        Lines are grouped on codes of every result column but the line's own; each group's
        first line gives the result (numbered by :class:`ResultBook`, shared with every
        earlier line of the same result).
        """
        n = len(out)
        evidence = np.ascontiguousarray(out["evidence"].to_numpy(dtype=object))
        texts = {name: _texts(out, name, n) for name in _SHARED_TEXT}
        flags = out["flagged"].to_numpy(dtype=bool)
        scores = out["score"].to_numpy(dtype=float)
        score_codes, distinct_scores = pd.factorize(scores, use_na_sentinel=False)
        codes = [_codes(values) for values in texts.values()]
        codes += [(score_codes, len(distinct_scores) + 1), (flags.astype(np.int64), 2)]
        # the evidence by content: each distinct text object once (a judged declaration's
        # lines share one), then those objects by their text
        objects = pd.factorize(_object_ids(evidence))[0]
        distinct: dict[Any, int] = {}  # a dict of the texts' own (cached) hashes: the fastest
        texts_of = np.fromiter(
            (distinct.setdefault(e, len(distinct)) for e in evidence[_firsts(objects)].tolist()),
            dtype=np.int64,
        )
        groups = _grouped(texts_of[objects], codes)
        first = _firsts(groups)
        at = pa.array(first)
        firsts = [values.take(at).to_pylist() for values in texts.values()]
        reasons = _texts(out, "reason", n)
        first_reasons = reasons.take(at).to_pylist()
        numbers = np.empty(len(first), dtype=np.int32)
        kept: list[str] = []
        known = self._numbers
        for g, (i, *shared) in enumerate(zip(first.tolist(), *firsts, strict=True)):
            key = (evidence[i], *shared, bool(flags[i]), float(scores[i]))
            hit = known.get(key)
            if hit is None:
                if len(known) > 200_000:
                    known.clear()
                hit = known[key] = self._number(key, first_reasons[g])
            numbers[g], reason = hit
            kept.append(reason)
        encoded = pc.dictionary_encode(reasons)
        line_codes = encoded.indices.to_numpy(zero_copy_only=False)
        kept_codes = (
            pc.index_in(pa.array(kept, type=_STRING), value_set=encoded.dictionary)
            .fill_null(-1)
            .to_numpy(zero_copy_only=False)
        )
        own = _unless(pa.array(line_codes == kept_codes[groups]), reasons)
        return pa.array(numbers[groups], type=pa.int32()), own

    def _number(self, key: tuple[Any, ...], reason: str) -> tuple[int, str]:
        """The result number of a verdict (``key``: evidence, the :data:`_SHARED_TEXT`
        columns, flagged, score) and the reason it is stored with; a new verdict's head (the
        result JSON members but the line's own: line id, reason, warnings) is made here."""
        evidence, risk, match_type, matched_key, name, cas, lists, flagged, score = key
        fields = {
            "flagged": flagged,
            "risk": risk,
            "matched_key": matched_key,
            "matched_name": name,
            "matched_cas": cas,
            "lists": [c for c in lists.split(";") if c],
            "match_type": match_type,
            "score": score,
        }
        head = json.dumps(fields)[1:-1] + ', "evidence": ' + str(evidence or "[]")
        return self.book.number(
            head,
            reason,
            risk=risk,
            flagged=flagged,
            matched_key=matched_key,
            match_type=match_type,
            score=score,
        )

    def __call__(self, chunk: pd.DataFrame, out: pd.DataFrame) -> None:
        """Make the chunk's lines one block's table (here: nothing of the chunk outlives this
        call, so the pipeline holds no more chunks than without the store) and hand it to the
        writing thread, which compresses and commits it (still invisible to readers) while
        the screening goes on; the block before is waited for first."""
        self.flush()
        self._begin()
        n = len(out)
        if not n:
            return
        columns = self._line_columns(chunk, out, n, self.position)
        columns["result"], columns["reason"] = self._results(out)
        table = block_table(columns)
        del columns
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="record")
        self._writing = self._thread.submit(
            self._write, table, self.book.take(), self.position, self.blocks
        )
        self.blocks += 1
        self.position += n
        self.flagged += int(out["flagged"].to_numpy(dtype=bool).sum())
        self.by_risk.update(_risk_counts(out["risk"]))

    def _write(self, table: Any, results: list[dict[str, Any]], first: int, block_no: int) -> None:
        """In the writing thread: one block (compressed) and the results it numbered first,
        in one transaction."""
        from precursorwatch.store.stream import add_screening_block

        data, lines = table_bytes(table), table.num_rows
        del table
        pa.default_memory_pool().release_unused()  # the block's buffers: no growth per block
        with self.store.session() as session:
            add_screening_block(
                session=session,
                screening_id=self.screening_id,
                block_no=block_no,
                first_position=first,
                line_count=lines,
                data=data,
                results=results,
            )

    def flush(self) -> None:
        """Wait until every chunk handed over is in the store; raise what writing it raised.
        (:func:`~precursorwatch.run.streaming.stream_screen` calls it before it forks
        workers, so no thread of the sink runs while a process is forked.)"""
        writing, self._writing = self._writing, None
        if writing is not None:
            writing.result()

    def close(self) -> None:
        """Stop the writing thread (after :meth:`flush`, or when the screening failed)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.shutdown(wait=True, cancel_futures=True)

    def finish(self) -> str:
        """Mark the screening complete (counts, audit event); returns its id."""
        from precursorwatch.store.stream import finish_screening

        try:
            self.flush()
        finally:
            self.close()
        self._begin()
        with self.store.session() as session:
            finish_screening(
                session=session,
                screening_id=self.screening_id,
                line_count=self.position,
                flagged=self.flagged,
                by_risk=dict(self.by_risk),
                actor=self.actor,
                input_name=self.input_name,
                input_hash=self.input_hash,
                list_versions=self.list_versions,
            )
        return self.screening_id
