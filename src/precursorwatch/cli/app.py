"""The command line: parse arguments, call one library function, print. No business logic.

Exit codes (scanners rely on them): 0 screened and nothing flagged, 1 screened and at least one
line flagged, 2 usage or input error (nothing screened; one line on stderr, no traceback).
"""

from __future__ import annotations

import contextlib
import csv
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from precursorwatch.errors import PrecursorWatchError
from precursorwatch.settings import Settings, get_settings

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Screen shipment declarations against drug-precursor watch lists.",
)
lists_app = typer.Typer(no_args_is_help=True, help="Show, import, compare and export lists.")
keys_app = typer.Typer(no_args_is_help=True, help="API keys: create, list, revoke.")
app.add_typer(lists_app, name="lists")
app.add_typer(keys_app, name="keys")

#: Piped output gets a wide console so reasons are not folded into a narrow column.
#: Markup is off: names, titles and descriptions come from users and may hold "[/]".
out = Console(width=None if sys.stdout.isatty() else 180, markup=False)
err = Console(stderr=True, soft_wrap=True, markup=False)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: the embedded SQLite store; env PRECURSORWATCH_DATABASE_URL).",
    ),
]


def _settings(db: str | None) -> Settings:
    return get_settings(database_url=db)


@contextmanager
def _errors() -> Iterator[None]:
    """Library errors -> one line on stderr and exit code 2; never a traceback."""
    try:
        yield
    except PrecursorWatchError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    except (OSError, UnicodeError) as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None


def _store(db: str | None) -> Any:
    from precursorwatch.run.service import open_ready_store

    return open_ready_store(_settings(db))


@app.command()
def init(db: DbOption = None) -> None:
    """Create the store, load the bundled lists (new versions when they changed), say where."""
    from precursorwatch.run.service import load_bundled_lists
    from precursorwatch.store.engine import mask_url

    with _errors():
        settings = _settings(db)
        store = _store(db)
        outcomes = load_bundled_lists(store, settings.lists_dir)
    out.print(f"store: {mask_url(settings.resolved_database_url())}", highlight=False)
    changed = [o for o in outcomes if o.status != "unchanged"]
    news = f"; {len(changed)} got a new version now" if changed else ""
    out.print(f"{len(outcomes)} bundled lists loaded and current{news}", highlight=False)
    _print_summaries(store)
    _prepare_pubchem()


def _prepare_pubchem() -> None:
    """Build the PubChem look-up index once per installation, and say where it is."""
    import sqlite3

    from precursorwatch.identify.resolve import prepare_pubchem_index_said

    try:
        said = prepare_pubchem_index_said()
    except (OSError, sqlite3.Error) as exc:
        err.print(
            f"warning: the PubChem look-up index could not be written ({exc}); each screening "
            "loads the table into memory instead (~1 s). Set PRECURSORWATCH_CACHE_DIR to a "
            "writable directory.",
            highlight=False,
        )
        return
    out.print(f"PubChem look-up index: {said}", highlight=False)


def _print_summaries(store: Any) -> None:
    from precursorwatch.store import list_summaries

    with store.session() as session:
        rows = list_summaries(session=session)
    table = Table(header_style="bold")
    for col in ("code", "title", "version", "entries", "substances", "effective", "hash"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r.code + (" (confidential)" if r.confidential else ""),
            r.title,
            str(r.version),
            str(r.entries),
            str(r.substances),
            r.effective_date,
            r.content_hash[:12],
        )
    out.print(table)


@app.command()
def screen(
    input: Annotated[Path, typer.Argument(help="Manifest: .csv, .tsv or .xlsx.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the report here.")
    ] = None,
    format: Annotated[str, typer.Option("--format", help="csv | json | xlsx | table")] = "",
    map: Annotated[list[str] | None, typer.Option("--map", help="field=Header override.")] = None,
    no_opsin: Annotated[
        bool, typer.Option("--no-opsin", help="Do not parse systematic names.")
    ] = False,
    no_record: Annotated[
        bool, typer.Option("--no-record", help="Do not keep the screening in the store.")
    ] = False,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Processes judging new declarations.")
    ] = 1,
    dask: Annotated[
        str | None,
        typer.Option(
            "--dask", help="Screen on a Dask cluster (scheduler ADDRESS, e.g. tcp://h:8786)."
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Screen a manifest; exit 0 when nothing is flagged, 1 when something is, 2 on bad input.

    CSV and table output stream: a file of any size is screened in bounded memory.
    """
    from rich.progress import Progress

    from precursorwatch.manifest.read import parse_mapping
    from precursorwatch.report.writers import FORMATS, json_lines, write_xlsx
    from precursorwatch.run.service import make_screener, screen_file
    from precursorwatch.run.streaming import CsvSink, DaskScreener, TableSink

    fmt = format or (output.suffix.lstrip(".").lower() if output else "table")
    if fmt not in FORMATS:
        err.print(f"error: --format must be one of {', '.join(FORMATS)} (got {fmt!r})")
        raise typer.Exit(2)
    if fmt == "xlsx" and output is None:
        err.print("error: --format xlsx needs -o FILE.xlsx")
        raise typer.Exit(2)
    streamed = fmt in ("csv", "table")
    partial = output.with_name(f".{output.name}.partial") if output and streamed else None
    try:
        with _errors(), contextlib.ExitStack() as stack:
            if not input.is_file():
                raise PrecursorWatchError(
                    f"{input}: no such file; give a .csv, .tsv or .xlsx manifest"
                )
            mapping = parse_mapping(map or [])
            settings = _settings(db)
            store = _store(db)
            screener: Any = make_screener(
                store,
                use_opsin=not no_opsin,
                opsin_timeout_s=settings.opsin_timeout_s,
                workers=workers,
            )
            if dask:
                screener = DaskScreener(dask, screener.watchlist, use_opsin=not no_opsin)
                stack.callback(screener.close)
            table = TableSink() if fmt == "table" else None
            sinks: list[Any] = [table] if table is not None else []
            if fmt == "csv":
                stream = (
                    stack.enter_context(partial.open("w", encoding="utf-8"))
                    if partial is not None
                    else sys.stdout
                )
                sinks.append(CsvSink(stream))
            with Progress(console=err, transient=True, disable=not err.is_terminal) as progress:
                task = progress.add_task(f"screening {input.name}", total=None)
                done = screen_file(
                    input,
                    store=store,
                    screener=screener,
                    mapping=mapping,
                    record=not no_record,
                    on_chunk=lambda n: progress.advance(task, n),
                    keep_results=not streamed,
                    sinks=sinks,
                )
        if partial is not None and output is not None:
            partial.replace(output)
    finally:
        if partial is not None:
            partial.unlink(missing_ok=True)
    frame = done.frame
    if table is not None:
        table.print(out)
    elif fmt == "xlsx" and output is not None:
        write_xlsx(frame, output, done.lines)
    elif fmt == "json":
        text = json.dumps({"screening_id": done.screening_id, "lines": json_lines(frame)}, indent=1)
        if output is None:
            sys.stdout.write(text)
        else:
            output.write_text(text, encoding="utf-8")
    if output is not None:
        err.print(
            f"{done.line_count} lines screened, {done.flagged_count} flagged -> {output}",
            highlight=False,
        )
    raise typer.Exit(1 if done.flagged_count else 0)


@lists_app.command("show")
def lists_show(
    code: Annotated[str | None, typer.Argument(help="A list code, e.g. UN-T1.")] = None,
    db: DbOption = None,
) -> None:
    """Every list with its version and size, or the entries of one list."""
    from precursorwatch.engine.index import LIST_LABELS
    from precursorwatch.run.service import watchlist_of

    with _errors():
        store = _store(db)
        if code is None:
            _print_summaries(store)
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
    code: Annotated[str | None, typer.Option("--code", help="List code for a CSV list.")] = None,
    db: DbOption = None,
) -> None:
    """Import a user's list; a malformed file is refused whole and the store is unchanged."""
    from precursorwatch.run.service import import_list_file

    with _errors():
        if not file.is_file():
            raise PrecursorWatchError(f"{file}: no such file")
        store = _store(db)
        outcome = import_list_file(
            store, file, code=code, confidential=True if confidential else None, actor="cli"
        )
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

    with _errors():
        store = _store(db)
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

    with _errors():
        wl = watchlist_of(_store(db))
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

    with _errors():
        store = _store(db)
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
            thr = "; ".join(
                f"{t.quantity:g} {t.unit}{' per ' + t.per if t.per else ''}"
                f"{' (' + t.note + ')' if t.note else ''}"
                for t in e.thresholds
            )
            out.print(
                f"  {e.list_code} ({LIST_LABELS.get(e.list_code, e.list_code)})"
                f"{' category ' + e.category if e.category else ''}"
                f"{' covers ' + ', '.join(e.covers) if e.covers else ''}"
                f"{' threshold ' + thr if thr else ''}",
                highlight=False,
            )
        names = s.all_names()
        out.print(
            f"  names: {', '.join(names[:30])}{' …' if len(names) > 30 else ''}", highlight=False
        )


@app.command()
def explain(
    query: Annotated[str, typer.Argument(help="A chemical name, SMILES or CAS number.")],
    svg: Annotated[Path | None, typer.Option("--svg", help="Write the picture here.")] = None,
    db: DbOption = None,
) -> None:
    """The evidence chain: declared structure, transform steps, listed substance, lists."""
    from precursorwatch.run.explain import explain as explain_query
    from precursorwatch.run.service import make_screener

    with _errors():
        result = explain_query(query, make_screener(_store(db)))
    for line in result.lines():
        out.print(line, highlight=False, markup=False)
    if svg is not None and result.svg:
        svg.write_text(result.svg, encoding="utf-8")
        out.print(f"picture: {svg}", highlight=False)


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option("--role", help="officer | operator | admin")],
    name: Annotated[str, typer.Option("--name", help="Who or what uses the key.")],
    db: DbOption = None,
) -> None:
    """Create an API key; the key is printed once, alone on the last line."""
    from precursorwatch.store import create_api_key

    with _errors():
        store = _store(db)
        with store.session() as session:
            info, secret = create_api_key(session=session, name=name, role=role)
    out.print(
        f"key {info.key_id} ({info.role}, {info.name}); store it now, it is not shown again:",
        highlight=False,
    )
    sys.stdout.flush()
    print(secret)


@keys_app.command("list")
def keys_list(db: DbOption = None) -> None:
    """Every API key: id, name, role, prefix, created, revoked."""
    from precursorwatch.store import list_api_keys

    with _errors():
        store = _store(db)
        with store.session() as session:
            keys = list_api_keys(session=session)
    table = Table(header_style="bold")
    for col in ("id", "name", "role", "prefix", "created", "revoked"):
        table.add_column(col)
    for k in keys:
        table.add_row(
            k.key_id,
            k.name,
            k.role,
            k.prefix,
            k.created_at.isoformat(timespec="seconds"),
            k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else "",
        )
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key: Annotated[str, typer.Argument(help="Key id or prefix.")], db: DbOption = None
) -> None:
    """Revoke an API key (it stops working at once)."""
    from precursorwatch.store import revoke_api_key

    with _errors():
        store = _store(db)
        with store.session() as session:
            info = revoke_api_key(session=session, key_id_or_prefix=key, actor="cli")
    out.print(f"revoked {info.key_id} ({info.name})")


@app.command()
def audit(
    limit: Annotated[int, typer.Option(help="How many events, newest first.")] = 50,
    db: DbOption = None,
) -> None:
    """The append-only audit log: screenings, list imports, key changes."""
    from precursorwatch.store import list_audit

    with _errors():
        store = _store(db)
        with store.session() as session:
            events = list_audit(session=session, limit=limit)
    for e in events:
        out.print(
            f"{e.at.isoformat(timespec='seconds')}  {e.actor:<12} {e.action:<22} "
            f"{json.dumps(dict(e.detail), default=str)[:160]}",
            highlight=False,
        )


@app.command()
def history(
    query: Annotated[str, typer.Argument(help="A substance name, CAS or key.")], db: DbOption = None
) -> None:
    """Which consignees received a substance, when, in which screenings."""
    from precursorwatch.store import find_substances, substance_history

    with _errors():
        store = _store(db)
        with store.session() as session:
            found = find_substances(session=session, query=query)
            if not found:
                raise PrecursorWatchError(f"nothing in the store matches {query!r}")
            rows = substance_history(session=session, key=found[0].key)
    table = Table(title=f"history of {found[0].name}", header_style="bold")
    for col in ("when", "screening", "line", "consignee", "destination", "risk", "description"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            r.created_at.isoformat(timespec="seconds"),
            r.screening_id[:12],
            r.line_id,
            r.consignee,
            r.destination,
            r.risk,
            r.description,
        )
    out.print(table)


def main() -> None:
    """Console-script entry point."""
    app()


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    db: DbOption = None,
) -> None:
    """Serve the HTTP API (/v1, /openapi.json) and the officers' pages with uvicorn."""
    import uvicorn

    from precursorwatch.web import create_app

    with _errors():
        settings = _settings(db)
        store = _store(db)
    err.print(f"precursorwatch on http://{host}:{port}/ (API under /v1)", highlight=False)
    uvicorn.run(create_app(settings, store), host=host, port=port, log_level="info")


@app.command()
def rescreen(
    since: Annotated[str, typer.Option("--since", help="Re-screen screenings since DATE.")],
    db: DbOption = None,
) -> None:
    """Screen stored declarations again against the current lists; show lines whose risk went
    up. Exit 0 when none did, 1 when some did, 2 on bad input."""
    from datetime import date

    from precursorwatch.run.rescreen import rescreen as run_rescreen
    from precursorwatch.run.service import make_screener

    with _errors():
        try:
            start = date.fromisoformat(since)
        except ValueError:
            raise PrecursorWatchError(
                f"--since {since!r} is not a date: give it as YYYY-MM-DD"
            ) from None
        settings = _settings(db)
        store = _store(db)
        screener = make_screener(store, opsin_timeout_s=settings.opsin_timeout_s)
        report = run_rescreen(store, since=start, screener=screener, actor="cli")
    table = Table(title=f"risk went up since {start.isoformat()}", header_style="bold")
    for col in (
        "screened",
        "screening",
        "line",
        "description",
        "consignee",
        "was",
        "now",
        "reason",
    ):
        table.add_column(col, overflow="fold")
    for i in report.increases:
        table.add_row(
            i.screened_at.isoformat(timespec="seconds"),
            i.screening_id[:12],
            i.after.line_id,
            i.line.description,
            i.line.consignee,
            i.before.risk,
            i.after.risk,
            i.after.reason,
        )
    out.print(table)
    out.print(
        f"{report.lines_checked} lines re-screened, {len(report.increases)} with a higher risk",
        highlight=False,
    )
    raise typer.Exit(1 if report.increases else 0)
