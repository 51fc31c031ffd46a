"""The naive screener the benchmark compares against: exact CAS and exact names only.

CAS numbers in a set of every listed CAS, plus ``chemicals.identifiers.search_chemical`` on
each distinct description (deduplicated, as anyone would), its CAS looked up in the same set.
It reads the manifest with pandas and writes ``line_id,flagged`` with pyarrow. It finds no
synonym the PubChem table lacks, no foreign name, typo, salt, mixture, structure or
designer precursor: it is the floor of what screening costs, not a screener to use.

    python bench/naive.py MANIFEST.csv OUT.csv
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv


def listed_cas() -> set[str]:
    """Every CAS number (parents and salts) of every bundled listed substance."""
    from precursorwatch.lists.load import bundled_lists_dir, load_bundled

    wl = load_bundled(bundled_lists_dir())
    return {cas for s in wl.substances.values() for cas in s.all_cas()}


def naive_screen(manifest: Path, out: Path) -> tuple[int, int]:
    """Screen ``manifest`` naively into ``out``; returns (lines, flagged)."""
    from chemicals.identifiers import search_chemical

    cas_set = listed_cas()
    df = pd.read_csv(manifest, dtype=str, keep_default_na=False)
    desc_col, cas_col, id_col = df.columns[1], df.columns[2], df.columns[0]
    hits: dict[str, bool] = {}
    for text in pd.unique(df[desc_col]):
        try:
            found = search_chemical(str(text)).CASs in cas_set
        except Exception:
            found = False
        hits[str(text)] = found
    flagged = df[cas_col].isin(cas_set) | df[desc_col].map(hits).fillna(False).astype(bool)
    table = pa.table({"line_id": df[id_col].to_numpy(), "flagged": flagged.to_numpy()})
    pacsv.write_csv(table, out)
    return len(df), int(flagged.sum())


def main() -> int:
    """``naive.py MANIFEST OUT``: prints lines, flagged and seconds."""
    t0 = time.perf_counter()
    lines, flagged = naive_screen(Path(sys.argv[1]), Path(sys.argv[2]))
    sys.stdout.write(f"{lines} lines, {flagged} flagged, {time.perf_counter() - t0:.2f} s\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
