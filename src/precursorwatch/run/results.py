"""The result frame of a screening: canonical input columns in, one result row per line out.

:func:`canonical_frame` makes every input column text; :func:`broadcast` puts the judged
results of the distinct declarations back onto every line (with the quantity-threshold
sentence of each flagged line); :func:`results_from_frame` turns result rows back into
:class:`~precursorwatch.models.LineResult` objects.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from precursorwatch.engine.index import ListIndex
from precursorwatch.engine.thresholds import has_thresholds
from precursorwatch.engine.triage import UNIDENTIFIED_WARNING, best_share, line_verdict
from precursorwatch.frames import text_array
from precursorwatch.identify.inchi import with_structure_fields
from precursorwatch.manifest.quantities import parse_quantity
from precursorwatch.models import INPUT_COLUMNS, OUTPUT_COLUMNS, LineResult
from precursorwatch.report.writers import LINE_COLUMNS, quantity_cell
from precursorwatch.run.judged import Template
from precursorwatch.serial import evidence_from_dicts

#: The result frame's columns: the contract's, the evidence and warnings, then what each line
#: declared, as the reports write it (``decision`` is the store's, not the screening's).
RESULT_COLUMNS: tuple[str, ...] = (
    *OUTPUT_COLUMNS,
    "evidence",
    "warnings",
    *(c for c in LINE_COLUMNS if c != "decision"),
)


def empty_result() -> pd.DataFrame:
    """The result frame of no lines, with the columns and dtypes of any other."""
    dtypes: dict[str, Any] = {c: TEXT for c in RESULT_COLUMNS}
    dtypes["evidence"] = object
    dtypes["flagged"] = bool
    dtypes["score"] = float
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes.items()})


#: Quantities whose report cell is found without reading them one by one: a plain whole
#: number (its own text), and a plain decimal with one or two decimals after a point or a
#: comma (its digits, trailing zeros dropped), which ``parse_quantity`` reads the same way in
#: every locale. Over 12 digits a quantity is implausible, so it is read the long way.
_WHOLE = r"^(?:0|[1-9][0-9]{0,11})$"
_DECIMAL = r"^(?:0|[1-9][0-9]{0,11})[.,][0-9]{1,2}$"
#: (quantity, unit) -> (quantity cell, unit cell), for the quantities read the long way.
_READ: dict[tuple[str, str], tuple[str, str]] = {}
_READ_SIZE = 100_000


def _read(text: str, unit: str) -> tuple[str, str]:
    cells = _READ.get((text, unit))
    if cells is None:
        if len(_READ) >= _READ_SIZE:
            _READ.clear()
        value, symbol, _ = parse_quantity(" ".join(text.split()), unit)
        cells = _READ[(text, unit)] = (quantity_cell(value), symbol or unit)
    return cells


def quantity_columns(quantity: pd.Series, unit: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The report's ``quantity`` and ``unit`` cells of each line: the quantity as read (a
    number, '' when unreadable) and its unit symbol (the manifest's unit when it has none),
    exactly as the store keeps them (``parse_quantity``), so that the CLI's CSV and the API's
    report.csv agree. Plain numbers are done in C; the rest once per distinct pair."""
    q = text_array(as_text(quantity.reset_index(drop=True)))
    u = text_array(as_text(unit.reset_index(drop=True)))
    whole = pc.match_substring_regex(q, _WHOLE)
    decimal = pc.match_substring_regex(q, _DECIMAL)
    plain = pc.or_(whole, decimal)
    trimmed = pc.replace_substring_regex(pc.replace_substring(q, ",", "."), r"\.?0+$", "")
    qty = pc.if_else(whole, q, pc.if_else(decimal, trimmed, pa.scalar("", pa.large_string())))
    # the unit of a plain number is the unit column's symbol; of no quantity, the column as is
    codes, units = pd.factorize(u.to_numpy(zero_copy_only=False))
    symbols = np.asarray([_read("1", str(x))[1] for x in units], dtype=object)
    empty = pc.equal(q, "").to_numpy(zero_copy_only=False)
    unit_cells = np.where(empty, u.to_numpy(zero_copy_only=False), symbols[codes])
    rest = np.flatnonzero(~(plain.to_numpy(zero_copy_only=False) | empty))
    if len(rest):
        texts = q.take(pa.array(rest)).to_pylist()
        their_units = u.take(pa.array(rest)).to_pylist()
        read = [_read(t, x) for t, x in zip(texts, their_units, strict=True)]
        mask = np.zeros(len(q), dtype=bool)
        mask[rest] = True
        qty = pc.replace_with_mask(qty, mask, pa.array([c for c, _ in read], pa.large_string()))
        unit_cells[rest] = [x for _, x in read]
    return text_series(qty), text_series(pa.array(unit_cells, type=pa.large_string()))


def results_from_frame(out: pd.DataFrame) -> list[LineResult]:
    """Turn an output frame of :meth:`Screener.screen_frame` back into :class:`LineResult`s."""
    results = []
    for r in out.to_dict("records"):
        evidence = tuple(evidence_from_dicts(json.loads(r["evidence"] or "[]")))
        results.append(
            LineResult(
                line_id=str(r["line_id"]),
                flagged=bool(r["flagged"]),
                risk=str(r["risk"]),
                matched_key=str(r["matched_key"]),
                matched_name=str(r["matched_name"]),
                matched_cas=str(r["matched_cas"]),
                lists=tuple(c for c in str(r["lists"]).split(";") if c),
                match_type=str(r["match_type"]),
                score=float(r["score"]),
                reason=str(r["reason"]),
                evidence=evidence,
                warnings=tuple(w for w in str(r["warnings"]).split("; ") if w),
            )
        )
    return results


#: Optional input columns identified with the description (a manifest's InChI and InChIKey
#: columns, the API's ``inchi`` and ``inchikey``): a frame without them is read as before.
STRUCTURE_FIELDS: tuple[str, ...] = ("inchi", "inchikey")


def identified_texts(frame: pd.DataFrame) -> pd.Series:
    """The text identified for each line: its description, joined with its InChI and InChIKey
    columns (:func:`~precursorwatch.identify.inchi.with_structure_fields`) where it has any, so
    that a distinct declaration is still one text to identify, judge and cache. The
    description column itself when no line has either (no copy)."""
    description = frame["description"]
    present = [c for c in STRUCTURE_FIELDS if c in frame.columns]
    filled = np.zeros(len(frame), dtype=bool)
    for c in present:
        filled |= (frame[c].notna() & (frame[c] != "")).to_numpy(dtype=bool)
    rows = np.flatnonzero(filled)
    if not len(rows):
        return description
    texts = description.to_numpy(dtype=object).copy()
    given = {c: frame[c].to_numpy(dtype=object)[rows] for c in present}
    empty = np.full(len(rows), "", dtype=object)
    inchi, key = (given.get(c, empty) for c in STRUCTURE_FIELDS)
    texts[rows] = [
        with_structure_fields(str(texts[r]), _cell(inchi[j]), _cell(key[j]))
        for j, r in enumerate(rows)
    ]
    return pd.Series(texts, index=description.index, dtype=object)


def _cell(value: object) -> str:
    """A cell of an optional column as text ('' for a missing value)."""
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def canonical_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every input column as text ('' where missing or empty). A column that is
    text already without missing values (what the manifest reader gives) is kept as it is:
    converting a million strings back and forth costs a second."""
    frame = df.copy(deep=False)
    n = len(frame)
    if "row" not in frame.columns:
        frame["row"] = np.arange(1, n + 1)
    for col in (*INPUT_COLUMNS, "warnings"):
        if col not in frame.columns:
            frame[col] = ""
        elif not pd.api.types.is_string_dtype(frame[col]) or frame[col].hasnans:
            frame[col] = frame[col].astype(object).fillna("").astype(str)
    return frame


#: The result frame's text columns: pandas' Arrow-backed text ("str" in pandas 3). Results
#: are taken from the distinct declarations' values in C, and the CSV writer reads their
#: bytes as they are (no Python string per cell either way).
TEXT = pd.StringDtype("pyarrow", na_value=np.nan)


def text_series(values: Any) -> pd.Series:
    """A text column of an Arrow string array (no copy)."""
    return pd.Series(pd.array(values, dtype=TEXT), copy=False)


def as_text(column: pd.Series) -> pd.Series:
    """``column`` as a text column with a fresh index (no copy when it is one already)."""
    if column.dtype == TEXT:
        return pd.Series(column.array, copy=False)
    return pd.Series(column.to_numpy(dtype=object), dtype=TEXT)


def broadcast(
    frame: pd.DataFrame,
    groups: np.ndarray,
    judged: list[Template],
    index: ListIndex,
) -> pd.DataFrame:
    """Results of the distinct declarations back onto every line, with each line's own part:
    the triage's line verdict on a flagged line's quantity (its risk and sentence,
    :func:`~precursorwatch.engine.triage.line_verdict`, once per distinct question),
    the warning of goods that name no chemical, and the line's description, quantity, unit
    and consignee for the reports."""
    templates = [t for t, _ in judged]
    at = pa.array(groups)

    def take(values: list[str]) -> pd.Series:
        return text_series(pa.array(values, type=pa.large_string()).take(at))

    line_ids = as_text(frame["line_id"])
    unnamed = np.flatnonzero((line_ids == "").to_numpy(dtype=bool))
    if len(unnamed):  # a line without an id is named by its row number
        ids = line_ids.to_numpy(dtype=object)
        ids[unnamed] = frame["row"].iloc[unnamed].astype(str).to_numpy(dtype=object)
        line_ids = pd.Series(ids, dtype=TEXT)
    out = pd.DataFrame(
        {
            "line_id": line_ids,
            "flagged": np.asarray([t.flagged for t in templates], dtype=bool)[groups],
            "risk": take([t.risk for t in templates]),
            "matched_key": take([t.matched_key for t in templates]),
            "matched_name": take([t.matched_name for t in templates]),
            "matched_cas": take([t.matched_cas for t in templates]),
            "lists": take([";".join(t.lists) for t in templates]),
            "match_type": take([t.match_type for t in templates]),
            "score": np.asarray([t.score for t in templates], dtype=float)[groups],
            "reason": take([t.reason for t in templates]),
            # object on purpose: the evidence JSON is long and not in the CSV report, so each
            # line points at its declaration's text rather than getting a copy of its bytes
            "evidence": pd.Series(
                np.asarray([e for _, e in judged], dtype=object)[groups], dtype=object, copy=False
            ),
            "warnings": _warned(frame, groups, templates),
        },
        copy=False,  # the columns as they are: stacking ten columns costs a copy
    )
    _apply_line_verdicts(out, frame, groups, judged, index)
    quantity, unit = quantity_columns(frame["quantity"], frame["unit"])
    for name, column in (
        ("description", as_text(frame["description"])),
        ("quantity", quantity),
        ("unit", unit),
        ("consignee", _consignee(frame)),
    ):
        out[name] = column if column is not None else take([""] * len(judged))
    return out


def _consignee(frame: pd.DataFrame) -> pd.Series | None:
    """The consignee column as text ('' where missing), or None when there is none."""
    if "consignee" not in frame.columns:
        return None
    column = frame["consignee"]
    if not pd.api.types.is_string_dtype(column) or column.hasnans:
        column = column.astype(object).fillna("").astype(str)
    return as_text(column)


def _warned(frame: pd.DataFrame, groups: np.ndarray, templates: list[LineResult]) -> pd.Series:
    """The lines' warnings, then their declaration's (what was written wrong in it, such as an
    unreadable InChI) and the warning of goods that name no chemical where it applies."""
    warnings = as_text(frame["warnings"])
    added = np.asarray(
        [
            "; ".join(
                (*t.warnings, UNIDENTIFIED_WARNING)
                if t.match_type == "unidentified"
                else t.warnings
            )
            for t in templates
        ],
        dtype=object,
    )
    rows = np.flatnonzero((added != "")[groups]) if len(groups) else np.empty(0, dtype=np.int64)
    if not len(rows):
        return warnings
    current = warnings.to_numpy(dtype=object)
    now, more = current[rows], added[groups[rows]]
    current[rows] = np.where(now == "", more, now + "; " + more)
    return text_series(pa.array(current, type=pa.large_string()))


def _apply_line_verdicts(
    out: pd.DataFrame,
    frame: pd.DataFrame,
    groups: np.ndarray,
    judged: list[Template],
    index: ListIndex,
) -> None:
    """Each flagged line with a quantity of a substance with thresholds: the triage's verdict
    on its quantity (a risk raised, a sentence added to the reason), in place.

    Asked once per distinct question within the frame, and not remembered across frames: the
    quantities of a large file are mostly distinct, so a memo kept across chunks would grow
    with the file rather than save time (bench/README.md has the figures)."""
    notes: dict[tuple[str, ...], tuple[str, str]] = {}
    flagged_rows = np.flatnonzero(out["flagged"].to_numpy())
    if not len(flagged_rows):
        return
    keys = out["matched_key"].iloc[flagged_rows].to_numpy(dtype=object)
    # only lines of a substance with a threshold can get a sentence (one in ten)
    wanted = {k for k in set(keys) if has_thresholds(index, str(k))}
    kept = np.asarray([k in wanted for k in keys], dtype=bool)
    flagged_rows = flagged_rows[kept]
    qty = frame["quantity"].iloc[flagged_rows].to_numpy(dtype=object)
    unit = frame["unit"].iloc[flagged_rows].to_numpy(dtype=object)
    origin, destination = (
        frame[c].iloc[flagged_rows].to_numpy(dtype=object)
        if c in frame.columns
        else np.full(len(flagged_rows), "", dtype=object)
        for c in ("origin", "destination")
    )
    reasons = out["reason"].iloc[flagged_rows].to_numpy(dtype=object)
    shares: dict[int, str] = {}
    noted = np.zeros(len(out), dtype=bool)
    texts, risks = [], []
    for j, i in enumerate(flagged_rows):
        if not qty[j]:
            continue
        g = int(groups[i])
        t = judged[g][0]
        if g not in shares:
            share = best_share(json.loads(judged[g][1] or "[]"), t.matched_key, t.match_type)
            shares[g] = "" if share is None else repr(share)
        route = (str(origin[j] or ""), str(destination[j] or ""))
        ask = (t.matched_key, t.match_type, t.risk, str(qty[j]), str(unit[j]), shares[g], *route)
        if ask not in notes:
            notes[ask] = line_verdict(
                index,
                key=t.matched_key,
                match_type=t.match_type,
                risk=t.risk,
                quantity=ask[3],
                unit=ask[4],
                share=float(shares[g]) if shares[g] else None,
                origin=route[0],
                destination=route[1],
            )
        risk, sentence = notes[ask]
        if sentence or risk != t.risk:
            noted[i] = True
            texts.append(f"{reasons[j]} {sentence}" if sentence else str(reasons[j]))
            risks.append(risk)
    if texts:
        out["reason"] = text_series(
            pc.replace_with_mask(
                text_array(out["reason"]), noted, pa.array(texts, type=pa.large_string())
            )
        )
        out["risk"] = text_series(
            pc.replace_with_mask(
                text_array(out["risk"]), noted, pa.array(risks, type=pa.large_string())
            )
        )
