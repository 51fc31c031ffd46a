"""Commands on the lists: lists show, import, diff, export; substance."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from precursorwatch.cli.common import (
    DbOption,
    app,
    errors,
    lists_app,
    open_store,
    out,
    print_summaries,
)
from precursorwatch.errors import PrecursorWatchError


@lists_app.command("show")
def lists_show(
    code: Annotated[str | None, typer.Argument(help="A list code, e.g. UN-T1.")] = None,
    db: DbOption = None,
) -> None:
    """Every list with its version and size, or the entries of one list."""
    from precursorwatch.engine.index import LIST_LABELS
    from precursorwatch.run.service import watchlist_of

    with errors():
        store = open_store(db)
        if code is None:
            print_summaries(store)
            return
        wl = watchlist_of(store)
        d = wl.lists.get(code.upper())
        if d is None:
            raise PrecursorWatchError(f"no list {code!r}; known: {', '.join(sorted(wl.lists))}")
    table = Table(
        title=f"{d.code} — {d.title} (v{d.version}, {LIST_LABELS.get(d.code, d.code)})",
        header_style="bold",
    )
    for col in ("key", "name", "CAS", "category", "covers", "thresholds"):
        table.add_column(col, overflow="fold")
    for e in d.entries:
        s = wl.substances.get(e.substance_key)
        thr = "; ".join(
            f"{t.quantity:g} {t.unit}{' per ' + t.per if t.per else ''}" for t in e.thresholds
        )
        table.add_row(
            e.substance_key,
            s.name if s else "",
            s.cas if s else "",
            e.category,
            ", ".join(e.covers) + (f" family: {e.family_name}" if e.family_name else ""),
            thr,
        )
    out.print(table)


@lists_app.command("import")
def lists_import(
    file: Annotated[Path, typer.Argument(help="A list file: YAML or CSV.")],
    confidential: Annotated[
        bool, typer.Option("--confidential", help="Hide from operators.")
    ] = False,
    public: Annotated[
        bool,
        typer.Option(
            "--public",
            help="Make a confidential list public (without it, a new version of a "
            "confidential list stays confidential).",
        ),
    ] = False,
    code: Annotated[str | None, typer.Option("--code", help="List code for a CSV list.")] = None,
    db: DbOption = None,
) -> None:
    """Import a user's list; a malformed file is refused whole and the store is unchanged."""
    from precursorwatch.run.service import import_list_file

    with errors():
        if confidential and public:
            raise PrecursorWatchError("give --confidential or --public, not both")
        if not file.is_file():
            raise PrecursorWatchError(f"{file}: no such file")
        store = open_store(db)
        flag = True if confidential else (False if public else None)
        outcome = import_list_file(store, file, code=code, confidential=flag, actor="cli")
    out.print(
        f"{outcome.code}: {outcome.status} (version {outcome.version}, "
        f"hash {outcome.content_hash[:12]})",
        highlight=False,
    )


@lists_app.command("diff")
def lists_diff(
    code: Annotated[str, typer.Argument(help="A list code.")],
    old: Annotated[
        int | None, typer.Option("--from", help="Old version (default: previous).")
    ] = None,
    new: Annotated[int | None, typer.Option("--to", help="New version (default: current).")] = None,
    db: DbOption = None,
) -> None:
    """What changed in a list between two versions."""
    from precursorwatch.lists.load import diff_lists
    from precursorwatch.store import get_list, list_versions

    with errors():
        store = open_store(db)
        with store.session() as session:
            versions = sorted(v.version for v in list_versions(session=session, code=code))
            if not versions:
                raise PrecursorWatchError(f"no list {code!r}")
            new_v = new or versions[-1]
            old_v = old or (versions[-2] if len(versions) > 1 else versions[-1])
            a = get_list(session=session, code=code, version=old_v)
            b = get_list(session=session, code=code, version=new_v)
    diff = diff_lists(a, b)
    out.print(f"{code.upper()} v{old_v} -> v{new_v}", highlight=False)
    for label, items in (
        ("added", diff.added),
        ("removed", diff.removed),
        ("changed", diff.changed),
    ):
        for item in items:
            out.print(f"  {label}: {item}", highlight=False)
    if not (diff.added or diff.removed or diff.changed):
        out.print("  no changes")


@lists_app.command("export")
def lists_export(
    output: Annotated[Path, typer.Option("-o", "--output", help="FILE.csv")], db: DbOption = None
) -> None:
    """Every current entry of every list as CSV (one row per list entry)."""
    from precursorwatch.run.service import watchlist_of

    with errors():
        wl = watchlist_of(open_store(db))
        with output.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(
                [
                    "list",
                    "version",
                    "key",
                    "name",
                    "cas",
                    "smiles",
                    "category",
                    "covers",
                    "family_name",
                    "family_smarts",
                    "hs_codes",
                    "synonyms",
                ]
            )
            for code in sorted(wl.lists):
                d = wl.lists[code]
                for e in d.entries:
                    s = wl.substances[e.substance_key]
                    w.writerow(
                        [
                            code,
                            d.version,
                            s.key,
                            s.name,
                            s.cas,
                            s.smiles,
                            e.category,
                            ";".join(e.covers),
                            e.family_name,
                            e.family_smarts,
                            ";".join(s.hs_codes),
                            ";".join(s.all_names()),
                        ]
                    )
    out.print(f"exported to {output}")


@app.command()
def substance(
    query: Annotated[str, typer.Argument(help="A name, CAS number or key.")], db: DbOption = None
) -> None:
    """Everything the store knows about one chemical: identifiers, names, lists, thresholds."""
    from precursorwatch.engine.index import LIST_LABELS
    from precursorwatch.identify.normalise import read_cas
    from precursorwatch.run.service import watchlist_of
    from precursorwatch.store import find_substances

    with errors():
        store = open_store(db)
        readings = read_cas(query)
        q = readings[0].cas if readings and readings[0].valid else query
        with store.session() as session:
            found = find_substances(session=session, query=q)
        if not found:
            raise PrecursorWatchError(
                f"nothing in the store matches {query!r}; try a CAS "
                "number, a name or `precursorwatch lists show`"
            )
        wl = watchlist_of(store)
    for s in found[:5]:
        out.print(f"{s.name}  key {s.key}  CAS {s.cas or '—'}", style="bold", highlight=False)
        if s.other_cas:
            out.print(
                "  forms: " + "; ".join(f"{o.cas} {o.form}" for o in s.other_cas), highlight=False
            )
        if s.smiles:
            out.print(f"  SMILES {s.smiles}  InChIKey {s.inchikey}", highlight=False)
        if s.hs_codes:
            out.print(f"  HS {', '.join(s.hs_codes)}", highlight=False)
        for e in wl.entries_for(s.key):
            listdef = wl.lists[e.list_code]
            start, act = listdef.entry_from(e), listdef.entry_act(e)
            dated = (f" from {start}{'' if e.applies_from else ' or before'}" if start else "") + (
                f" ({act})" if act else ""
            )
            if e.applies_until:
                dated += f", until {e.applies_until}" + (
                    f" ({e.removed_by})" if e.removed_by else ""
                )
            thr = "; ".join(
                f"{t.quantity:g} {t.unit}{' per ' + t.per if t.per else ''}"
                f"{' (' + t.note + ')' if t.note else ''}"
                for t in e.thresholds
            )
            out.print(
                f"  {e.list_code} ({LIST_LABELS.get(e.list_code, e.list_code)})"
                f"{' category ' + e.category if e.category else ''}"
                f"{' covers ' + ', '.join(e.covers) if e.covers else ''}"
                f"{' threshold ' + thr if thr else ''}"
                f"{dated}",
                highlight=False,
            )
        for note in unconfirmed_facts(s.notes):
            out.print(f"  not confirmed by a stored source: {note}", highlight=False)
        names = s.all_names()
        out.print(
            f"  names: {', '.join(names[:30])}{' …' if len(names) > 30 else ''}", highlight=False
        )


def unconfirmed_facts(notes: str) -> list[str]:
    """The sentences of a substance's notes that say a fact is not confirmed (the list files
    mark them "UNCONFIRMED"), so that whoever reads the substance sees them."""
    import re

    sentences = re.split(r"(?<=[.;])\s+", notes or "")
    return [s.strip() for s in sentences if "unconfirmed" in s.casefold()]
