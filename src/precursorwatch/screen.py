"""The screening engine: dedupe, identify, run the matchers, score, broadcast back to lines.

Pure: no files, no database, no printing. ``screen_frame(df, watchlist) -> df`` is the one
library call the CLI, the API and Dask share. A :class:`Screener` keeps what it resolved, so a
file screened in chunks resolves each distinct description once; an optional
:class:`ResolutionCache` (the store's resolver_cache table) carries resolutions across runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from precursorwatch import chem
from precursorwatch.identify import ComponentId, DescriptionId, identify_descriptions
from precursorwatch.index import ListIndex, build_index
from precursorwatch.matchers import MATCHERS, Declared, StructureId
from precursorwatch.models import DeclarationLine, Evidence, LineResult, Watchlist
from precursorwatch.normalise import CasReading, normalise_hs, read_cas
from precursorwatch.resolve import (
    RESOLVER_VERSION,
    KnownChemical,
    pubchem_by_cas,
    pubchem_by_inchikey,
)
from precursorwatch.scoring import score_line
from precursorwatch.thresholds import threshold_note

#: Canonical input columns the engine reads (others are carried through untouched).
INPUT_COLUMNS: tuple[str, ...] = (
    "line_id",
    "description",
    "cas",
    "hs_code",
    "quantity",
    "unit",
    "smiles",
)
#: The output contract's columns (DESIGN.md §5), in order.
OUTPUT_COLUMNS: tuple[str, ...] = (
    "line_id",
    "flagged",
    "risk",
    "matched_key",
    "matched_name",
    "matched_cas",
    "lists",
    "match_type",
    "score",
    "reason",
)
_KEY_COLUMNS = ["description", "cas", "hs_code", "smiles"]


class ResolutionCache(Protocol):
    """Where resolutions persist between runs (the store implements it)."""

    def get_many(self, namespace: str, keys: Sequence[str]) -> dict[str, dict[str, Any]]: ...

    def put_many(self, namespace: str, values: Mapping[str, dict[str, Any]]) -> None: ...


def _description_from_json(data: Mapping[str, Any]) -> DescriptionId:
    comps = tuple(
        ComponentId(
            **{
                **c,
                "watch_keys": tuple(c["watch_keys"]),
                "fuzzy": tuple(tuple(f) for f in c["fuzzy"]),
            }
        )
        for c in data["components"]
    )
    return DescriptionId(
        text=data["text"],
        components=comps,
        cas_in_text=tuple(data["cas_in_text"]),
        notes=tuple(data["notes"]),
    )


def evidence_to_dict(ev: Evidence) -> dict[str, Any]:
    """JSON-able form of one piece of evidence (lists as arrays)."""
    d = asdict(ev)
    d["list_codes"] = list(ev.list_codes)
    return d


@dataclass
class Screener:
    """Screens declarations against one watchlist, remembering what it has resolved."""

    watchlist: Watchlist
    use_opsin: bool = True
    opsin_timeout_s: float = 60.0
    cache: ResolutionCache | None = None
    index: ListIndex = field(init=False)
    _descriptions: dict[str, DescriptionId] = field(default_factory=dict, init=False)
    _cas: dict[str, tuple[tuple[CasReading, ...], dict[str, KnownChemical]]] = field(
        default_factory=dict, init=False
    )
    _structures: dict[str, StructureId] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.index = build_index(self.watchlist)
        digest = hashlib.sha256(json.dumps(self.watchlist.versions(), sort_keys=True).encode())
        self.namespace = f"r{RESOLVER_VERSION}:{digest.hexdigest()[:16]}"

    # --- identification, once per distinct value -------------------------------------------

    def _identify(self, texts: Sequence[str]) -> None:
        todo = [t for t in dict.fromkeys(texts) if t and t not in self._descriptions]
        if not todo:
            return
        if self.cache is not None:
            for text, data in self.cache.get_many(self.namespace, todo).items():
                self._descriptions[text] = _description_from_json(data)
            todo = [t for t in todo if t not in self._descriptions]
        if not todo:
            return
        found = identify_descriptions(
            todo, self.index, use_opsin=self.use_opsin, opsin_timeout_s=self.opsin_timeout_s
        )
        self._descriptions.update(found)
        if self.cache is not None:
            self.cache.put_many(
                self.namespace, {t: asdict(d) for t, d in found.items() if not d.notes}
            )

    def _read_cas(self, text: str) -> tuple[tuple[CasReading, ...], dict[str, KnownChemical]]:
        if text not in self._cas:
            readings = tuple(read_cas(text))
            known = {}
            for r in readings:
                if r.valid and r.cas not in self.index.by_cas:
                    k = pubchem_by_cas(r.cas)
                    if k is not None:
                        known[r.cas] = k
            self._cas[text] = (readings, known)
        return self._cas[text]

    def _structure(self, smiles: str, origin: str, comp: ComponentId | None = None) -> StructureId:
        memo_key = f"{origin}\x1f{smiles}"
        s = self._structures.get(memo_key)
        if s is None:
            ident, problem = chem.identity(smiles)
            known = None
            if ident is not None and origin == "smiles":
                known = pubchem_by_inchikey(ident.declared_inchikey)
            s = StructureId(smiles, origin, ident, problem=problem, known=known)
            self._structures[memo_key] = s
        if comp is not None:
            s = StructureId(
                s.smiles, s.origin, s.identity, comp.name, comp.share, s.problem, s.known
            )
        return s

    def _declared(self, description: str, cas: str, hs: str, smiles: str) -> Declared:
        d = self._descriptions.get(description) if description else None
        readings, known = self._read_cas(cas) if cas else ((), {})
        structures = []
        if smiles:
            structures.append(self._structure(smiles, "smiles"))
        if d is not None:
            structures += [
                self._structure(c.smiles, c.smiles_via, c) for c in d.components if c.smiles
            ]
        return Declared(d, readings, known, normalise_hs(hs), tuple(structures))

    def _judge(self, declared: Declared) -> LineResult:
        evidence: list[Evidence] = []
        for matcher in MATCHERS:
            evidence.extend(matcher(declared, self.index))
        notes = [f"CAS {r.written} fails its check digit" for r in declared.cas if not r.valid]
        notes += [
            f"SMILES not used: {s.problem}"
            for s in declared.structures
            if s.origin == "smiles" and s.identity is None
        ]
        if declared.description is not None:
            notes += list(declared.description.notes)
        return score_line(evidence, self.index, notes=notes)

    # --- public entry points ---------------------------------------------------------------

    def screen_frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """Screen a frame of canonical columns; one result row per input row, same order.

        Missing input columns count as empty. Returns the contract's columns plus
        ``evidence`` (JSON text) and ``warnings``.
        """
        frame = _canonical(df)
        if frame.empty:
            return pd.DataFrame(
                {c: pd.Series(dtype=object) for c in (*OUTPUT_COLUMNS, "evidence", "warnings")}
            )
        groups = frame.groupby(_KEY_COLUMNS, sort=False, dropna=False).ngroup().to_numpy()
        uniques = frame[_KEY_COLUMNS].drop_duplicates()
        self._identify(list(uniques["description"]))
        templates = [
            self._judge(self._declared(*row)) for row in uniques.itertuples(index=False, name=None)
        ]
        return _broadcast(frame, groups, templates, self.index)

    def screen_lines(self, lines: Sequence[DeclarationLine]) -> list[LineResult]:
        """Screen declaration objects (the API's path); results in the same order."""
        df = pd.DataFrame(
            [{**asdict(line), "warnings": "; ".join(line.warnings)} for line in lines]
        )
        out = self.screen_frame(df)
        return results_from_frame(out)


def results_from_frame(out: pd.DataFrame) -> list[LineResult]:
    """Turn an output frame of :meth:`Screener.screen_frame` back into :class:`LineResult`s."""
    results = []
    for r in out.to_dict("records"):
        evidence = tuple(
            Evidence(**{**e, "list_codes": tuple(e["list_codes"])})
            for e in json.loads(r["evidence"] or "[]")
        )
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


def _canonical(df: pd.DataFrame) -> pd.DataFrame:
    frame = df.copy()
    n = len(frame)
    if "row" not in frame.columns:
        frame["row"] = np.arange(1, n + 1)
    for col in (*INPUT_COLUMNS, "warnings"):
        if col not in frame.columns:
            frame[col] = ""
        else:
            frame[col] = frame[col].fillna("").astype(str)
    return frame


def _broadcast(
    frame: pd.DataFrame, groups: np.ndarray, templates: list[LineResult], index: ListIndex
) -> pd.DataFrame:
    def take(values: list[Any]) -> np.ndarray:
        picked: np.ndarray = np.asarray(values, dtype=object)[groups]
        return picked

    line_ids = frame["line_id"].to_numpy(dtype=object)
    rows = frame["row"].astype(str).to_numpy(dtype=object)
    out = pd.DataFrame(
        {
            "line_id": np.where(line_ids != "", line_ids, rows),
            "flagged": np.asarray([t.flagged for t in templates], dtype=bool)[groups],
            "risk": take([t.risk for t in templates]),
            "matched_key": take([t.matched_key for t in templates]),
            "matched_name": take([t.matched_name for t in templates]),
            "matched_cas": take([t.matched_cas for t in templates]),
            "lists": take([";".join(t.lists) for t in templates]),
            "match_type": take([t.match_type for t in templates]),
            "score": np.asarray([t.score for t in templates], dtype=float)[groups],
            "reason": take([t.reason for t in templates]),
            "evidence": take(
                [json.dumps([evidence_to_dict(e) for e in t.evidence]) for t in templates]
            ),
            "warnings": frame["warnings"].to_numpy(dtype=object),
        }
    )
    flagged_rows = np.flatnonzero(out["flagged"].to_numpy())
    if len(flagged_rows):
        qty = frame["quantity"].to_numpy(dtype=object)
        unit = frame["unit"].to_numpy(dtype=object)
        keys = out["matched_key"].to_numpy(dtype=object)
        reasons = out["reason"].to_numpy(dtype=object).copy()
        for i in flagged_rows:
            if qty[i]:
                note = threshold_note(index, str(keys[i]), str(qty[i]), str(unit[i]))
                if note:
                    reasons[i] = f"{reasons[i]} {note}"
        out["reason"] = reasons
    return out


def screen_frame(
    df: pd.DataFrame,
    watchlist: Watchlist,
    *,
    use_opsin: bool = True,
    cache: ResolutionCache | None = None,
) -> pd.DataFrame:
    """Screen ``df`` (canonical manifest columns) against ``watchlist``; see :class:`Screener`."""
    return Screener(watchlist, use_opsin=use_opsin, cache=cache).screen_frame(df)
