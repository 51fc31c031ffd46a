"""Commands that screen: init, screen, explain, rescreen."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from precursorwatch.cli.common import (
    DbOption,
    app,
    err,
    errors,
    open_store,
    out,
    print_summaries,
    settings_for,
)
from precursorwatch.errors import PrecursorWatchError


@app.command()
def init(db: DbOption = None) -> None:
    """Create the store, load the bundled lists (new versions when they changed), say where."""
    from precursorwatch.run.service import load_bundled_lists
    from precursorwatch.store.engine import mask_url

    with errors():
        settings = settings_for(db)
        store = open_store(db)
        outcomes = load_bundled_lists(store, settings.lists_dir)
    out.print(f"store: {mask_url(settings.resolved_database_url())}", highlight=False)
    changed = [o for o in outcomes if o.status != "unchanged"]
    news = f"; {len(changed)} got a new version now" if changed else ""
    out.print(f"{len(outcomes)} bundled lists loaded and current{news}", highlight=False)
    print_summaries(store)
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
        with errors(), contextlib.ExitStack() as stack:
            if not input.is_file():
                raise PrecursorWatchError(
                    f"{input}: no such file; give a .csv, .tsv or .xlsx manifest"
                )
            mapping = parse_mapping(map or [])
            settings = settings_for(db)
            store = open_store(db)
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


@app.command()
def explain(
    query: Annotated[str, typer.Argument(help="A chemical name, SMILES or CAS number.")],
    svg: Annotated[Path | None, typer.Option("--svg", help="Write the picture here.")] = None,
    db: DbOption = None,
) -> None:
    """The evidence chain: declared structure, transform steps, listed substance, lists."""
    from precursorwatch.run.explain import explain as explain_query
    from precursorwatch.run.service import make_screener

    with errors():
        result = explain_query(query, make_screener(open_store(db)))
    for line in result.lines():
        out.print(line, highlight=False, markup=False)
    if svg is not None and result.svg:
        svg.write_text(result.svg, encoding="utf-8")
        out.print(f"picture: {svg}", highlight=False)


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

    with errors():
        try:
            start = date.fromisoformat(since)
        except ValueError:
            raise PrecursorWatchError(
                f"--since {since!r} is not a date: give it as YYYY-MM-DD"
            ) from None
        settings = settings_for(db)
        store = open_store(db)
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
