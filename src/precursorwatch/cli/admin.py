"""Commands of administration: keys, audit, history, serve."""

from __future__ import annotations

import json
import sys
from typing import Annotated

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
    query: Annotated[str, typer.Argument(help="A substance name, CAS or key.")], db: DbOption = None
) -> None:
    """Which consignees received a substance, when, in which screenings."""
    from precursorwatch.store import find_substances, substance_history

    with errors():
        store = open_store(db)
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


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    db: DbOption = None,
) -> None:
    """Serve the HTTP API (/v1, /openapi.json) and the officers' pages with uvicorn."""
    import uvicorn

    from precursorwatch.web import create_app

    with errors():
        settings = settings_for(db)
        store = open_store(db)
    err.print(f"precursorwatch on http://{host}:{port}/ (API under /v1)", highlight=False)
    uvicorn.run(create_app(settings, store), host=host, port=port, log_level="info")
