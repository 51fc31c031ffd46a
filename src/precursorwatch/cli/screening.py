"""Commands that screen: init, screen, explain, rescreen."""

from __future__ import annotations

import contextlib
import json
import sys
from datetime import UTC, datetime
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
from precursorwatch.cli.law import day_option
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
    format: Annotated[str, typer.Option("--format", help="csv | json | xlsx | html | table")] = "",
    all_lines: Annotated[
        bool,
        typer.Option("--all", help="Table: list every line, not only the flagged ones."),
    ] = False,
    map: Annotated[
        list[str] | None,
        typer.Option("--map", help="field=Header override; ignore=Header leaves a column unread."),
    ] = None,
    no_opsin: Annotated[
        bool, typer.Option("--no-opsin", help="Do not parse systematic names.")
    ] = False,
    no_record: Annotated[
        bool, typer.Option("--no-record", help="Do not keep the screening in the store.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Processes judging new declarations (default: every core this process may "
            "use; 1 judges in this process).",
        ),
    ] = None,
    dask: Annotated[
        str | None,
        typer.Option(
            "--dask", help="Screen on a Dask cluster (scheduler ADDRESS, e.g. tcp://h:8786)."
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Apply the lists as they stood on this day, YYYY-MM-DD (default: today).",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Screen a manifest; exit 0 when nothing is flagged, 1 when something is, 2 on bad input.

    CSV and table output stream: a file of any size is screened in bounded memory.
    """
    from precursorwatch.manifest.read import parse_mapping
    from precursorwatch.report.alerts import print_alerts
    from precursorwatch.report.terminal import TableSink
    from precursorwatch.report.writers import FORMATS, json_lines, write_xlsx
    from precursorwatch.run.alerts import AlertRules, AlertSink, alert_json, file_alerts
    from precursorwatch.run.asof import unknown_lists_note
    from precursorwatch.run.progress import ScreeningProgress
    from precursorwatch.run.service import default_workers, make_screener, screen_file
    from precursorwatch.run.streaming import CsvSink, DaskScreener

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
            day = day_option(as_of, "--as-of")
            settings = settings_for(db)
            store = open_store(db)
            screener: Any = make_screener(
                store,
                use_opsin=not no_opsin,
                opsin_timeout_s=settings.opsin_timeout_s,
                workers=workers or default_workers(),
                as_of=day,
            )
            law_day = screener.as_of
            note = unknown_lists_note(screener.watchlist, law_day)
            if note:
                err.print(f"warning: {note}", highlight=False)
            if dask:
                screener = DaskScreener(
                    dask, screener.watchlist, use_opsin=not no_opsin, as_of=law_day
                )
                stack.callback(screener.close)
            table = TableSink(show_all=all_lines) if fmt == "table" else None
            sinks: list[Any] = [table] if table is not None else []
            alerting = None
            if fmt in ("json", "table"):  # the formats that show cross-line alerts
                rules = AlertRules.for_watchlist(screener.watchlist, settings.alert_window_days)
                alerting = AlertSink(rules)
                sinks.append(alerting)
            if fmt == "csv":
                stream = (
                    stack.enter_context(partial.open("w", encoding="utf-8"))
                    if partial is not None
                    else sys.stdout
                )
                sinks.append(CsvSink(stream))
            progress = ScreeningProgress()
            if err.is_terminal:  # never when piped: a bar, shown once it takes a while
                progress.count_lines_of(input)
                stack.enter_context(ProgressBar(err, f"screening {input.name}", progress))
            done = screen_file(
                input,
                store=store,
                screener=screener,
                mapping=mapping,
                record=not no_record,
                keep_results=not streamed,
                sinks=sinks,
                progress=progress,
            )
            found, alerts = None, []
            if alerting is not None:
                columns = done.info.columns if done.info is not None else {}
                found = file_alerts(
                    store, alerting, columns=columns, screening_id=done.screening_id
                )
                alerts = [alert_json(a, alerting.rules.book) for a in found.alerts]
        if partial is not None and output is not None:
            partial.replace(output)
    finally:
        if partial is not None:
            partial.unlink(missing_ok=True)
    frame = done.frame
    if table is not None:
        table.print(out)
        if found is not None and not found.notices:
            print_alerts(out, alerts)
        for notice in found.notices if found else ():
            err.print(f"notice: {notice}", highlight=False)
    elif fmt == "xlsx" and output is not None:
        about = [
            ("File", input.name),
            ("Screened at (UTC)", f"{datetime.now(UTC):%Y-%m-%d %H:%M}"),
            ("Screened by", "cli"),
            ("Lists as they applied on", law_day.isoformat()),
            ("Screening id", done.screening_id or "(not recorded)"),
        ]
        write_xlsx(frame, output, done.lines, about)
    elif fmt == "html":
        _write_html(input, done, screener, output)
    elif fmt == "json":
        notices = ([note] if note else []) + (list(found.notices) if found else [])
        body = {
            "screening_id": done.screening_id,
            "as_of": law_day.isoformat(),
            "lines": json_lines(frame),
        }
        text = json.dumps({**body, "alerts": alerts, "notices": notices}, indent=1)
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


class ProgressBar:
    """A screening's progress on a terminal: a bar of the lines read against the total (when
    known), the lines screened and the time, shown only once the screening has taken
    ``delay`` seconds and gone when it ends. Use it as a context manager."""

    #: Seconds before the bar appears: a quick screening shows none.
    DELAY_S = 2.0

    def __init__(
        self, console: Any, description: str, progress: Any, *, delay: float = DELAY_S
    ) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        bar = self

        class _Later(Progress):
            def get_renderables(self) -> Any:
                if bar.task is not None and bar.shown():
                    bar.sync()
                    yield from super().get_renderables()

        self.progress = progress
        self.delay = delay
        self.task: Any = None
        self.display = _Later(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task = self.display.add_task(description, total=None, counts="")

    def shown(self) -> bool:
        """True once the screening has run ``delay`` seconds (and until it is done)."""
        return not self.progress.done and self.progress.seconds >= self.delay

    def counts(self) -> str:
        """What the bar says: lines read (of the total when known) and lines screened."""
        p = self.progress
        read = f"{p.read:,}" if p.total is None else f"{p.read:,}/{p.total:,}"
        return f"{read} lines read, {p.judged:,} screened"

    def sync(self) -> None:
        """Bring the bar up to the screening's counts."""
        p = self.progress
        self.display.update(self.task, completed=p.read, total=p.total, counts=self.counts())

    def __enter__(self) -> ProgressBar:
        self.display.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.display.stop()


def _write_html(input: Path, done: Any, screener: Any, output: Path | None) -> None:
    """The HTML report the web offers as report.html, of a screening done here."""
    from collections import Counter

    from precursorwatch.report.html import (
        ReportSummary,
        render_report_html,
        report_rows,
        structure_picture,
    )
    from precursorwatch.run.service import file_sha256

    watchlist = screener.watchlist
    by_risk = Counter(r.risk for r in done.results)
    summary = ReportSummary(
        input_name=input.name,
        input_hash=file_sha256(input),
        actor="cli",
        lines=done.line_count,
        flagged=done.flagged_count,
        by_risk={risk: by_risk[risk] for risk in ("high", "medium", "low", "none")},
        list_versions=watchlist.versions(),
        screening_id=done.screening_id,
        as_of=screener.as_of.isoformat(),
    )
    rows = report_rows(done.lines, done.results, structure_picture(watchlist.substances))
    text = render_report_html(summary, rows)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


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
