"""Commands of administration: keys, audit, history, prune, serve."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Annotated, Any

import typer
from rich.table import Table

from precursorwatch.cli.common import (
    DbOption,
    app,
    err,
    errors,
    keys_app,
    open_store,
    out,
    settings_for,
)
from precursorwatch.errors import PrecursorWatchError


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option("--role", help="officer | operator | admin")],
    name: Annotated[str, typer.Option("--name", help="Who or what uses the key.")],
    db: DbOption = None,
) -> None:
    """Create an API key; the key is printed once, alone on the last line."""
    from precursorwatch.store import create_api_key

    with errors():
        store = open_store(db)
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

    with errors():
        store = open_store(db)
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

    with errors():
        store = open_store(db)
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

    with errors():
        store = open_store(db)
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
    query: Annotated[
        str | None,
        typer.Argument(help="A substance name, CAS or key (none: every screening's record)."),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="From this day (YYYY-MM-DD, UTC), included.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Up to this day (YYYY-MM-DD, UTC), included.")
    ] = None,
    consignee: Annotated[
        str | None,
        typer.Option("--consignee", help="Only lines whose consignee holds this (any case)."),
    ] = None,
    limit: Annotated[
        int,
        typer.Option(
            "--limit", min=1, help="How many lines (with QUERY or --consignee) or screenings."
        ),
    ] = 100,
    db: DbOption = None,
) -> None:
    """Which consignees received a substance, when, in which screenings (newest first); with
    --consignee, a party's lines. Without QUERY or --consignee, the screenings newest first
    with what the store keeps of each. A file screened more than once is shown once, with the
    number of times ("times")."""
    from precursorwatch.run.lookup import lookup_substances
    from precursorwatch.store import screening_sizes
    from precursorwatch.store.linesearch import screening_files, search_lines

    with errors():
        start, end = _day_option("--since", since), _day_option("--until", until)
        store = open_store(db)
        with store.session(write=False) as session:
            if query is None and not consignee:
                files = screening_files(session=session, since=start, until=end, limit=limit)
                ids = [item.summary.screening_id for item, _ in files]
                times = {item.summary.screening_id: n for item, n in files}
                sizes = screening_sizes(session=session, ids=ids)
                found = None
            else:
                named = lookup_substances(session=session, query=query) if query else []
                if query is not None and not named:
                    raise PrecursorWatchError(
                        f"nothing in the store matches {query!r}: try a CAS number or a name"
                    )
                found = search_lines(
                    session=session, keys=[named[0].key] if named else [],
                    consignee=consignee or "", since=start, until=end, limit=limit,
                )  # fmt: skip
                ids = list(dict.fromkeys(f.screening_id for f in found.lines))
                times = {f.screening_id: f.times for f in found.lines}
                sizes = screening_sizes(session=session, ids=ids)
    if found is not None:
        title = f"history of {named[0].name}" if named else f"lines of consignee {consignee!r}"
        _print_lines(title, found)
    _print_sizes(sizes, times)


def _day_option(name: str, text: str | None) -> Any:
    """``text`` as a day (None when not given); PrecursorWatchError naming ``name``."""
    from precursorwatch.lists.dates import parse_day

    if text is None:
        return None
    day = parse_day(text.strip())
    if day is None:
        raise PrecursorWatchError(f"{name} {text!r} is not a date: give it as YYYY-MM-DD")
    return day


def _print_lines(title: str, found: Any) -> None:
    """The lines a history found, then how many and whether more match."""
    table = Table(title=title, header_style="bold")
    for col in ("when", "screening", "file", "times", "line", "consignee", "destination",
                "quantity", "risk", "description"):  # fmt: skip
        table.add_column(col, overflow="fold")
    for f in found.lines:
        d = f.line
        quantity = f"{d.quantity:g} {d.unit}".strip() if d.quantity is not None else d.unit
        table.add_row(
            f.created_at.isoformat(timespec="seconds"), f.screening_id[:12], f.input_name,
            str(f.times), f.result.line_id, d.consignee, d.destination, quantity,
            f.result.risk, d.description,
        )  # fmt: skip
    out.print(table)
    note = (
        f"{len(found.lines)} lines, newest screening first; "
        "a file screened more than once is shown once"
    )
    if found.more:
        note += "; more lines match: raise --limit or narrow with --since, --until or --consignee"
    if found.stopped_early:
        note += f"; only the newest {found.screenings_read} screenings were read: give --since"
    out.print(note, highlight=False)


def _print_sizes(sizes: list[Any], times: Mapping[str, int] | None = None) -> None:
    """What the store keeps of each screening, one row per screening (``times``: screening
    id -> how many screenings of its file there are, shown as "times")."""
    table = Table(title="what the store keeps", header_style="bold")
    for col in ("when", "screening", "file", "times", "actor", "law of", "lines", "flagged",
                "lines stored", "results", "MB"):  # fmt: skip
        table.add_column(col, overflow="fold")
    for s in sizes:
        summary = s.summary
        pruned = f"pruned {summary.pruned_at.date().isoformat()}" if summary.pruned_at else ""
        table.add_row(
            summary.created_at.isoformat(timespec="seconds"),
            summary.screening_id[:12],
            summary.input_name,
            str((times or {}).get(summary.screening_id, 1)),
            summary.actor,
            summary.as_of,
            f"{summary.lines:,}",
            f"{summary.flagged:,}",
            pruned or f"{s.lines_stored:,}",
            f"{s.results_stored:,}",
            f"{s.bytes / 1e6:.2f}",
        )
    out.print(table)
    total = sum(s.bytes for s in sizes)
    out.print(
        f"{len(sizes)} screenings, {total / 1e6:.2f} MB of lines and results", highlight=False
    )


@app.command()
def prune(
    before: Annotated[
        str, typer.Option("--before", help="Prune screenings created before this day (UTC).")
    ],
    vacuum: Annotated[
        bool, typer.Option("--vacuum", help="SQLite: give the freed pages back to the disk.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Remove the lines of screenings created before DATE (YYYY-MM-DD), keeping each
    screening's summary and audit trail; recorded in the audit log. An administrator's
    command: history and rescreen no longer see those lines."""
    from datetime import UTC, date, datetime, time

    from precursorwatch.store import prune_screenings

    with errors():
        try:
            day = date.fromisoformat(before)
        except ValueError:
            raise PrecursorWatchError(
                f"--before {before!r} is not a date: give it as YYYY-MM-DD"
            ) from None
        cutoff = datetime.combine(day, time.min, tzinfo=UTC)
        store = open_store(db)
        with store.session() as session:
            done = prune_screenings(session=session, before=cutoff, actor="cli")
        if vacuum and store.engine.dialect.name == "sqlite":
            raw = store.engine.raw_connection()  # outside a transaction, as VACUUM must be
            try:
                raw.driver_connection.execute("VACUUM")
            finally:
                raw.close()
    out.print(
        f"pruned {len(done.screenings)} screenings created before {day.isoformat()}: "
        f"{done.lines:,} lines and {done.results:,} results removed ({done.bytes / 1e6:.2f} MB); "
        "their summaries and audit trail are kept",
        highlight=False,
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    proxy: Annotated[
        bool,
        typer.Option(
            "--proxy",
            help="Behind a TLS proxy: trust its X-Forwarded-Proto/-For headers "
            "(from FORWARDED_ALLOW_IPS, default 127.0.0.1).",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Serve the HTTP API (/v1, /openapi.json) and the officers' pages with uvicorn."""
    from precursorwatch.web.server import serve as run_server

    with errors():
        settings = settings_for(db)
        store = open_store(db)
    err.print(f"precursorwatch on http://{host}:{port}/ (API under /v1)", highlight=False)
    run_server(settings, store, host=host, port=port, proxy=proxy)
