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
from precursorwatch.engine.thresholds import has_thresholds, threshold_note
from precursorwatch.frames import text_array
from precursorwatch.models import INPUT_COLUMNS, OUTPUT_COLUMNS, LineResult
from precursorwatch.run.judged import Template
from precursorwatch.serial import evidence_from_dicts


def empty_result() -> pd.DataFrame:
    """The result frame of no lines, with the columns and dtypes of any other."""
    dtypes: dict[str, Any] = {c: TEXT for c in (*OUTPUT_COLUMNS, "evidence", "warnings")}
    dtypes["evidence"] = object
    dtypes["flagged"] = bool
    dtypes["score"] = float
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes.items()})


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
    notes: dict[tuple[str, str, str], str],
) -> pd.DataFrame:
    """Results of the distinct declarations back onto every line; ``notes`` memoises the
    quantity-threshold sentences across chunks."""
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
            "warnings": as_text(frame["warnings"]),
        },
        copy=False,  # the columns as they are: stacking ten columns costs a copy
    )
    flagged_rows = np.flatnonzero(out["flagged"].to_numpy())
    if len(flagged_rows):
        keys = out["matched_key"].iloc[flagged_rows].to_numpy(dtype=object)
        # only lines of a substance with a threshold can get a sentence (one in ten)
        wanted = {k for k in set(keys) if has_thresholds(index, str(k))}
        kept = np.asarray([k in wanted for k in keys], dtype=bool)
        flagged_rows, keys = flagged_rows[kept], keys[kept]
        qty = frame["quantity"].iloc[flagged_rows].to_numpy(dtype=object)
        unit = frame["unit"].iloc[flagged_rows].to_numpy(dtype=object)
        reasons = out["reason"].iloc[flagged_rows].to_numpy(dtype=object)
        noted = np.zeros(len(out), dtype=bool)
        texts = []
        for j, i in enumerate(flagged_rows):
            if qty[j]:
                ask = (str(keys[j]), str(qty[j]), str(unit[j]))
                if ask not in notes:
                    notes[ask] = threshold_note(index, *ask)
                if notes[ask]:
                    noted[i] = True
                    texts.append(f"{reasons[j]} {notes[ask]}")
        if texts:
            texts_array = pa.array(texts, type=pa.large_string())
            out["reason"] = text_series(
                pc.replace_with_mask(text_array(out["reason"]), noted, texts_array)
            )
    return out
