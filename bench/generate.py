"""Generate realistic, seeded manifests for the benchmark (``make bench``).

A real manifest repeats the same goods thousands of times: lines are drawn from a vocabulary
of distinct declarations (about 20,000 per million lines) with a heavy-tailed (Zipf-like)
frequency. Ordinary goods are real chemicals from the PubChem table shipped with the
``chemicals`` package (its common names, sometimes with grade or packaging words); 1 % of the
lines declare a listed precursor (any of its names in any language, or its CAS number); 5 %
carry a typo in the name; the CAS number is left out on a third of the lines.

    python bench/generate.py OUT.csv --lines 1000000 --seed 7

The file is written in chunks, so generating 10,000,000 lines needs little memory.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Distinct declarations per million lines (the ratio is kept for smaller files).
DISTINCT_PER_MILLION = 20_000
#: Shares of lines: a listed precursor, a misspelt name, no CAS number.
PRECURSOR_SHARE = 0.01
TYPO_SHARE = 0.05
NO_CAS_SHARE = 1 / 3
#: Zipf-like exponent of declaration frequencies (rank ** -a).
ZIPF_A = 0.8

HEADER = [
    "Item No",
    "Goods Description",
    "CAS No",
    "HS Code",
    "Net Mass",
    "Unit",
    "Country of Origin",
    "Consignee",
]
_GRADES = (
    "",
    "",
    "",
    " technical grade",
    " 99 %",
    " 98%",
    ", in 200 L drums",
    " (reagent grade)",
    " 25 kg bags",
    " pure",
    " for synthesis",
    " USP",
)
_HS = (
    "2901.10",
    "2902.30",
    "2905.11",
    "2909.19",
    "2914.39",
    "2915.39",
    "2922.49",
    "2933.39",
    "2942.00",
    "3824.99",
    "3204.17",
    "3402.42",
    "2918.19",
    "2921.42",
    "2932.99",
)
_COUNTRIES = ("CN", "IN", "DE", "NL", "US", "BE", "FR", "IT", "PL", "ES", "TR", "KR", "JP")
_CONSIGNEES = tuple(f"Consignee {i:03d} Ltd" for i in range(200))
_NAME_OK = re.compile(r"^[a-z][a-z0-9 ,()'-]{3,40}$")


@dataclass(frozen=True)
class Vocabulary:
    """Distinct declarations to draw lines from: description, CAS, HS code per pool."""

    normal: list[tuple[str, str, str]]
    typo: list[tuple[str, str, str]]
    precursor: list[tuple[str, str, str]]


def pubchem_names(limit: int, rng: np.random.Generator) -> list[tuple[str, str]]:
    """(common name, CAS) of real chemicals from the ``chemicals`` package's PubChem table."""
    import chemicals

    path = (
        Path(chemicals.__file__).parent / "Identifiers" / "chemical identifiers pubchem large.tsv"
    )
    rows: list[tuple[str, str]] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 9:
                continue
            name = cols[8].strip()
            if _NAME_OK.match(name) and not name[0].isdigit():
                rows.append((name, cols[1]))
    picked = rng.choice(len(rows), size=min(limit, len(rows)), replace=False)
    return [rows[i] for i in picked]


def precursor_names() -> list[tuple[str, str]]:
    """(name, CAS) for every name in every language of every bundled listed substance."""
    from precursorwatch.lists.load import bundled_lists_dir, load_bundled

    wl = load_bundled(bundled_lists_dir())
    out = []
    for s in wl.substances.values():
        for name in s.all_names():
            out.append((name, s.cas))
    return out


def typo(name: str, rng: np.random.Generator) -> str:
    """One random substitution, deletion or transposition in a letter of ``name``."""
    letters = [i for i, ch in enumerate(name) if ch.isalpha()]
    if len(letters) < 6:
        return name + "e"
    i = int(rng.choice(letters[1:-1]))
    kind = int(rng.integers(3))
    if kind == 0:
        return name[:i] + "aeiourstn"[int(rng.integers(9))] + name[i + 1 :]
    if kind == 1:
        return name[:i] + name[i + 1 :]
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


def vocabulary(distinct: int, seed: int) -> Vocabulary:
    """``distinct`` declarations: 94 % ordinary goods, 5 % misspelt, 1 % listed precursors."""
    rng = np.random.default_rng(seed)
    n_typo = max(1, round(distinct * TYPO_SHARE))
    n_prec = max(1, round(distinct * PRECURSOR_SHARE))
    n_norm = max(1, distinct - n_typo - n_prec)
    chems = pubchem_names(int(n_norm * 0.9) + 1, rng)
    normal = []
    for i in range(n_norm):
        name, cas = chems[i % len(chems)]
        grade = _GRADES[int(rng.integers(len(_GRADES)))] if i >= len(chems) else ""
        if i < len(chems) and rng.random() < 0.3:
            grade = _GRADES[int(rng.integers(len(_GRADES)))]
        text = name.capitalize() if rng.random() < 0.5 else name
        normal.append((text + grade, cas, _HS[int(rng.integers(len(_HS)))]))
    typos = []
    for _ in range(n_typo):
        name, cas = chems[int(rng.integers(len(chems)))]
        typos.append((typo(name, rng), cas, _HS[int(rng.integers(len(_HS)))]))
    precs = precursor_names()
    precursor = []
    for j in range(n_prec):
        name, cas = precs[int(rng.integers(len(precs)))]
        grade = _GRADES[int(rng.integers(len(_GRADES)))]
        precursor.append((name + grade if j >= len(precs) // 2 else name, cas, "2914.31"))
    return Vocabulary(normal, typos, precursor)


def _zipf_weights(n: int) -> np.ndarray:
    w = np.arange(1, n + 1, dtype=float) ** -ZIPF_A
    return w / w.sum()


def generate(
    path: Path, lines: int, *, seed: int = 7, distinct: int | None = None, chunk: int = 200_000
) -> int:
    """Write a manifest of ``lines`` lines to ``path``; returns the distinct declarations used.

    ``distinct`` defaults to 20,000 per million lines (at least 200, at most 20,000: a bigger
    file repeats the same goods more often, as a longer period of trade does).
    """
    if distinct is None:
        distinct = min(DISTINCT_PER_MILLION, max(200, lines * DISTINCT_PER_MILLION // 1_000_000))
    vocab = vocabulary(distinct, seed)
    pools = (vocab.normal, vocab.typo, vocab.precursor)
    weights = [_zipf_weights(len(p)) for p in pools]
    rng = np.random.default_rng(seed + 1)
    units = ("kg", "kg", "kg", "L", "t")
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(HEADER)
        for start in range(0, lines, chunk):
            n = min(chunk, lines - start)
            u = rng.random(n)
            pool_of = np.where(
                u < PRECURSOR_SHARE, 2, np.where(u < PRECURSOR_SHARE + TYPO_SHARE, 1, 0)
            )
            picks = np.empty(n, dtype=np.int64)
            for k in range(3):
                where = np.flatnonzero(pool_of == k)
                picks[where] = rng.choice(len(pools[k]), size=len(where), p=weights[k])
            no_cas = rng.random(n) < NO_CAS_SHARE
            mass = rng.integers(1, 40_000, size=n)
            unit = rng.integers(len(units), size=n)
            country = rng.integers(len(_COUNTRIES), size=n)
            consignee = rng.integers(len(_CONSIGNEES), size=n)
            rows = []
            for i in range(n):
                desc, cas, hs = pools[pool_of[i]][picks[i]]
                rows.append(
                    (
                        start + i + 1,
                        desc,
                        "" if no_cas[i] else cas,
                        hs,
                        int(mass[i]),
                        units[unit[i]],
                        _COUNTRIES[country[i]],
                        _CONSIGNEES[consignee[i]],
                    )
                )
            w.writerows(rows)
    return distinct


def main(argv: list[str] | None = None) -> int:
    """Command line: ``generate.py OUT --lines N [--seed S] [--distinct D]``."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--lines", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--distinct", type=int, default=None)
    a = p.parse_args(argv)
    d = generate(a.out, a.lines, seed=a.seed, distinct=a.distinct)
    sys.stderr.write(f"{a.out}: {a.lines} lines from {d} distinct declarations\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
