"""Score the world-declarations holdout (tests/data/eval/holdout_world.csv) by category.

The set was written for issue 18 before any of its fixes and is frozen: never tune on it.
Each line has a ``kind``: ``listed`` (a listed substance named or identified directly),
``designer`` (a designer precursor reached by structure), ``negative`` (a hard negative) or
``broken`` (an invalid InChI or InChIKey: must not be flagged, should say on its line that
the InChI or InChIKey was not read (in the reason or the warnings), must never fail the
file). Positives count as found when flagged; "key ok" counts those whose
matched key is the expected one.

    .venv/bin/python bench/holdout_world.py [--csv PATH] [--json OUT] [--misses] [--lists DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CSV = ROOT / "tests" / "data" / "eval" / "holdout_world.csv"


def screen(truth: pd.DataFrame, lists: Path | None = None) -> pd.DataFrame:
    """Screen the whole set as one frame; fall back to line by line if the frame fails."""
    from precursorwatch import Screener, load_bundled

    screener = Screener(load_bundled(lists) if lists else load_bundled())
    cols = [c for c in truth.columns if c not in {"category", "kind", "note"}]
    cols = [c for c in cols if not c.startswith("expect_")]
    try:
        out = screener.screen_frame(truth[cols])
        errors = [""] * len(truth)
    except Exception as exc:
        print(f"whole-frame screening failed: {exc!r}; screening line by line", file=sys.stderr)
        parts, errors = [], []
        for i in range(len(truth)):
            try:
                parts.append(screener.screen_frame(truth[cols].iloc[[i]]))
                errors.append("")
            except Exception as line_exc:
                parts.append(pd.DataFrame([{"flagged": False}]))
                errors.append(repr(line_exc))
        out = pd.concat(parts, ignore_index=True)
    out = out.reset_index(drop=True)
    got = pd.DataFrame(
        {
            "got_flagged": out["flagged"].astype(bool).to_numpy(),
            "got_key": out.get("matched_key", pd.Series([""] * len(out))).fillna("").to_numpy(),
            "got_type": out.get("match_type", pd.Series([""] * len(out))).fillna("").to_numpy(),
            "got_reason": out.get("reason", pd.Series([""] * len(out))).fillna("").to_numpy(),
            "got_warnings": out.get("warnings", pd.Series([""] * len(out))).fillna("").to_numpy(),
            "error": errors,
        }
    )
    return pd.concat([truth.reset_index(drop=True), got], axis=1)


def figures(df: pd.DataFrame) -> dict[str, Any]:
    rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(cat: str, r: Any) -> None:
        s = rows[cat]
        s["lines"] += 1
        positive = r.expect_flagged == "true"
        flagged = bool(r.got_flagged)
        if positive:
            s["pos"] += 1
            s[f"pos_{r.kind}"] += 1
            if flagged:
                s["tp"] += 1
                s[f"tp_{r.kind}"] += 1
                s["key_ok"] += int(r.got_key == r.expect_key)
        else:
            s["neg"] += 1
            s["fp"] += int(flagged)
        s["flagged"] += int(flagged)
        if r.kind == "broken":  # warned: the line says the InChI (or key) was not read
            s["broken"] += 1
            said = f"{r.got_warnings!s} {r.got_reason!s}".lower()
            s["broken_warned"] += int("inchi" in said)
        s["errors"] += int(bool(r.error))

    for r in df.itertuples():
        add(str(r.category), r)
        add("ALL", r)

    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 3) if b else None

    table: dict[str, Any] = {}
    for cat, s in rows.items():
        table[cat] = {
            "lines": s["lines"],
            "positives": s["pos"],
            "found": s["tp"],
            "recall": ratio(s["tp"], s["pos"]),
            "recall_listed": ratio(s["tp_listed"], s["pos_listed"]),
            "recall_designer": ratio(s["tp_designer"], s["pos_designer"]),
            "key_ok": s["key_ok"],
            "precision": ratio(s["tp"], s["flagged"]),
            "negatives": s["neg"],
            "false_positives": s["fp"],
            "hard_negative_fp_rate": ratio(s["fp"], s["neg"]),
            "broken": s["broken"],
            "broken_warned": s["broken_warned"],
            "errors": s["errors"],
        }
    return table


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def markdown(table: dict[str, Any]) -> str:
    head = (
        "| category | lines | listed found | designer found | recall | key ok | precision "
        "| negatives FP | broken warned |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    out = [head]
    for cat in sorted(table, key=lambda c: (c == "ALL", c)):
        t = table[cat]
        out.append(
            f"| {cat} | {t['lines']} | {_fmt(t['recall_listed'])} | {_fmt(t['recall_designer'])} "
            f"| {t['found']}/{t['positives']} ({_fmt(t['recall'])}) | {t['key_ok']} "
            f"| {_fmt(t['precision'])} | {t['false_positives']}/{t['negatives']} "
            f"| {t['broken_warned']}/{t['broken']} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    ap.add_argument("--json", type=Path, help="write the figures (and every line) as JSON")
    ap.add_argument("--misses", action="store_true", help="print every wrong line")
    ap.add_argument("--lists", type=Path, help="a lists directory instead of the bundled one")
    args = ap.parse_args(argv)

    truth = pd.read_csv(args.csv, dtype=str, keep_default_na=False)
    t0 = time.perf_counter()
    df = screen(truth, args.lists)
    seconds = time.perf_counter() - t0
    table = figures(df)
    print(markdown(table))
    a = table["ALL"]
    print(
        f"\nrecall listed {_fmt(a['recall_listed'])}  designer {_fmt(a['recall_designer'])}  "
        f"precision {_fmt(a['precision'])}  hard-negative FP {_fmt(a['hard_negative_fp_rate'])}  "
        f"broken warned {a['broken_warned']}/{a['broken']}  errors {a['errors']}  "
        f"({seconds:.1f} s)"
    )
    if args.misses:
        for r in df.itertuples():
            wrong = bool(r.got_flagged) != (r.expect_flagged == "true")
            unsaid = "inchi" not in f"{r.got_warnings!s} {r.got_reason!s}".lower()
            if wrong or (r.kind == "broken" and unsaid) or r.error:
                print(
                    f"MISS {r.line_id!s} {r.category!s}/{r.kind!s}: {r.description!r} "
                    f"expect={r.expect_key or '-'!s} got={r.got_key or '-'!s} ({r.got_type!s}) "
                    f"{str(r.got_reason)[:90]} warn={str(r.got_warnings)[:60]!r} {r.error!s}"
                )
    if args.json:
        lines = df[
            [
                "line_id",
                "category",
                "kind",
                "expect_key",
                "got_flagged",
                "got_key",
                "got_type",
                "got_warnings",
                "error",
            ]
        ].to_dict(orient="records")
        args.json.write_text(
            json.dumps(
                {"seconds": round(seconds, 1), "figures": table, "lines": lines},
                ensure_ascii=False,
                indent=1,
                default=str,
            ),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
