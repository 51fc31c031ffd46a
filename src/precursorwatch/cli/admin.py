"""Commands of administration: keys, audit, history, prune, serve."""

from __future__ import annotations

import json
import sys
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
    limit: Annotated[int, typer.Option(help="Without QUERY: how many screenings.")] = 50,
    db: DbOption = None,
) -> None:
    """Which consignees received a substance, when, in which screenings; without QUERY, the
    screenings newest first with what the store keeps of each (lines, results, bytes)."""
    from precursorwatch.store import find_substances, screening_sizes, substance_history

    with errors():
        store = open_store(db)
        with store.session(write=False) as session:
            if query is None:
                sizes = screening_sizes(session=session, limit=limit)
            else:
                found = find_substances(session=session, query=query)
                if not found:
                    raise PrecursorWatchError(f"nothing in the store matches {query!r}")
                rows = substance_history(session=session, key=found[0].key)
                ids = list(dict.fromkeys(r.screening_id for r in rows))
                sizes = screening_sizes(session=session, ids=ids)
    if query is not None:
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
    _print_sizes(sizes)


def _print_sizes(sizes: list[Any]) -> None:
    """What the store keeps of each screening, one row per screening."""
    table = Table(title="what the store keeps", header_style="bold")
    for col in ("when", "screening", "file", "actor", "lines", "flagged", "lines stored",
                "results", "MB"):  # fmt: skip
        table.add_column(col, overflow="fold")
    for s in sizes:
        summary = s.summary
        pruned = f"pruned {summary.pruned_at.date().isoformat()}" if summary.pruned_at else ""
        table.add_row(
            summary.created_at.isoformat(timespec="seconds"),
            summary.screening_id[:12],
            summary.input_name,
            summary.actor,
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
