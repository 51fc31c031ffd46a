"""The lean record: each distinct result once per screening, the lines in compressed blocks.

Revision ID: 0003_lean_record
Revises: 0002
Create Date: 2026-12-07

``screening_line`` kept every line with its whole result JSON (~500 MB per million lines).
Its rows are moved, screening by screening and in input order, into ``screening_result`` (each
distinct result once) and ``screening_block`` (the lines' own fields in compressed Arrow
blocks, :mod:`precursorwatch.store.blocks`), then the table is dropped: every screening reads
back as it was. ``screening.pruned_at`` is added for ``precursorwatch prune``. The move reads
the old rows as a stream, so a big store upgrades in bounded memory (about a minute per
million lines, once).

Downgrade writes the blocks back as ``screening_line`` rows and drops what upgrade made.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from precursorwatch.models import DeclarationLine, LineResult
from precursorwatch.serial import from_json, to_json
from precursorwatch.store.blocks import (
    BLOCK_FORMAT,
    BLOCK_LINES,
    ResultBook,
    block_from_lines,
    decode_block,
    lines_of,
    result_template,
)

revision: str = "0003_lean_record"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = ("line_id", "description", "cas", "hs_code", "unit", "smiles", "origin", "destination")
_OLD_LINE = sa.table(
    "screening_line",
    sa.column("screening_id", sa.String()),
    sa.column("position", sa.Integer()),
    sa.column("row", sa.Integer()),
    *(sa.column(name, sa.Text()) for name in (*_TEXT, "consignor", "consignee")),
    sa.column("quantity", sa.Float()),
    sa.column("warnings", sa.JSON()),
    sa.column("risk", sa.String()),
    sa.column("flagged", sa.Boolean()),
    sa.column("matched_key", sa.String()),
    sa.column("match_type", sa.String()),
    sa.column("score", sa.Float()),
    sa.column("result", sa.JSON()),
)
_RESULT = sa.table(
    "screening_result",
    sa.column("screening_id", sa.String()),
    sa.column("result_no", sa.Integer()),
    sa.column("risk", sa.String()),
    sa.column("flagged", sa.Boolean()),
    sa.column("matched_key", sa.String()),
    sa.column("match_type", sa.String()),
    sa.column("score", sa.Float()),
    sa.column("result", sa.Text()),
)
_BLOCK = sa.table(
    "screening_block",
    sa.column("screening_id", sa.String()),
    sa.column("block_no", sa.Integer()),
    sa.column("first_position", sa.Integer()),
    sa.column("line_count", sa.Integer()),
    sa.column("result_count", sa.Integer()),
    sa.column("bytes", sa.BigInteger()),
    sa.column("format", sa.String()),
    sa.column("data", sa.LargeBinary()),
)
_DECLARATION = ("row", *_TEXT, "quantity", "consignor", "consignee")


def _create_new_tables() -> None:
    op.add_column("screening", sa.Column("pruned_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "screening_result",
        sa.Column("screening_id", sa.String(32), nullable=False),
        sa.Column("result_no", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("risk", sa.String(16), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("matched_key", sa.String(200), nullable=False),
        sa.Column("match_type", sa.String(32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["screening_id"], ["screening.id"], name="fk_screening_result_screening_id_screening"
        ),
        sa.PrimaryKeyConstraint("screening_id", "result_no", name="pk_screening_result"),
    )
    op.create_index("ix_screening_result_matched_key", "screening_result", ["matched_key"])
    op.create_table(
        "screening_block",
        sa.Column("screening_id", sa.String(32), nullable=False),
        sa.Column("block_no", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("first_position", sa.Integer(), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("result_count", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["screening_id"], ["screening.id"], name="fk_screening_block_screening_id_screening"
        ),
        sa.PrimaryKeyConstraint("screening_id", "block_no", name="pk_screening_block"),
    )


def _old_lines(
    conn: sa.Connection, screening_id: str
) -> Iterator[tuple[DeclarationLine, LineResult]]:
    """The lines of one screening in the old table, in input order, as a stream."""
    rows = conn.execute(  # a server-side cursor where there is one: bounded memory
        sa.select(_OLD_LINE)
        .where(_OLD_LINE.c.screening_id == screening_id)
        .order_by(_OLD_LINE.c.position)
        .execution_options(stream_results=True, yield_per=5_000)
    )
    for r in rows:
        values = {name: getattr(r, name) for name in _DECLARATION}
        line = DeclarationLine(**values, warnings=tuple(r.warnings))
        yield line, from_json(LineResult, r.result)


def _write(
    conn: sa.Connection, screening_id: str, block_no: int, first: int, part: Any, book: Any
) -> None:
    data = block_from_lines(part, first, book)
    results = book.take()
    if results:
        conn.execute(sa.insert(_RESULT), [{**r, "screening_id": screening_id} for r in results])
    size = len(data) + sum(len(r["result"].encode("utf-8")) for r in results)
    conn.execute(
        sa.insert(_BLOCK).values(
            screening_id=screening_id, block_no=block_no, first_position=first,
            line_count=len(part), result_count=len(results), bytes=size, format=BLOCK_FORMAT,
            data=data,
        )
    )  # fmt: skip


def _move_lines(conn: sa.Connection) -> None:
    """Every screening's old rows into results and blocks (bounded memory)."""
    ids = list(conn.execute(sa.select(_OLD_LINE.c.screening_id).distinct()).scalars())
    for screening_id in sorted(ids):
        book = ResultBook()
        part: list[tuple[DeclarationLine, LineResult]] = []
        first = block_no = 0
        for pair in _old_lines(conn, screening_id):
            part.append(pair)
            if len(part) == BLOCK_LINES:
                _write(conn, screening_id, block_no, first, part, book)
                first, block_no, part = first + len(part), block_no + 1, []
        if part:
            _write(conn, screening_id, block_no, first, part, book)


def upgrade() -> None:
    """Create the result and block tables, move every line into them, drop the old table."""
    _create_new_tables()
    _move_lines(op.get_bind())
    op.drop_index("ix_screening_line_matched_key", table_name="screening_line")
    op.drop_index("ix_screening_line_screening_id", table_name="screening_line")
    op.drop_table("screening_line")


def _old_row(screening_id: str, position: int, line: DeclarationLine, result: LineResult) -> Any:
    row = {name: getattr(line, name) for name in _DECLARATION}
    row.update(
        screening_id=screening_id, position=position, warnings=list(line.warnings),
        risk=result.risk, flagged=result.flagged, matched_key=result.matched_key,
        match_type=result.match_type, score=result.score, result=to_json(result),
    )  # fmt: skip
    return row


def downgrade() -> None:
    """Write the blocks back as ``screening_line`` rows; drop the new tables and column."""
    op.create_table(
        "screening_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("screening_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Text(), nullable=False) for name in _TEXT[:4]),
        sa.Column("quantity", sa.Float(), nullable=True),
        *(sa.Column(name, sa.Text(), nullable=False) for name in _TEXT[4:]),
        sa.Column("consignor", sa.Text(), nullable=False),
        sa.Column("consignee", sa.Text(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("risk", sa.String(16), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("matched_key", sa.String(200), nullable=False),
        sa.Column("match_type", sa.String(32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["screening_id"], ["screening.id"], name="fk_screening_line_screening_id_screening"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_screening_line"),
    )
    op.create_index("ix_screening_line_screening_id", "screening_line", ["screening_id"])
    op.create_index("ix_screening_line_matched_key", "screening_line", ["matched_key"])
    conn = op.get_bind()
    ids = list(conn.execute(sa.select(_BLOCK.c.screening_id).distinct()).scalars())
    for screening_id in sorted(ids):
        templates = {
            r.result_no: result_template(r.result)
            for r in conn.execute(
                sa.select(_RESULT.c.result_no, _RESULT.c.result).where(
                    _RESULT.c.screening_id == screening_id
                )
            )
        }
        blocks = conn.execute(
            sa.select(_BLOCK.c.block_no, _BLOCK.c.first_position, _BLOCK.c.format)
            .where(_BLOCK.c.screening_id == screening_id)
            .order_by(_BLOCK.c.block_no)
        ).all()
        for number, first, fmt in blocks:
            data = conn.execute(
                sa.select(_BLOCK.c.data).where(
                    _BLOCK.c.screening_id == screening_id, _BLOCK.c.block_no == number
                )
            ).scalar_one()
            pairs = lines_of(decode_block(bytes(data), fmt), first, templates)
            rows = [_old_row(screening_id, first + i, ln, r) for i, (ln, r) in enumerate(pairs)]
            for start in range(0, len(rows), 5_000):
                conn.execute(sa.insert(_OLD_LINE), rows[start : start + 5_000])
    op.drop_table("screening_block")
    op.drop_index("ix_screening_result_matched_key", table_name="screening_result")
    op.drop_table("screening_result")
    op.drop_column("screening", "pruned_at")
