"""Generated stored screenings for the finder tests: lines of a few kinds of goods, saved
through the real repository functions (no engine run needed to have a big screening)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, update

from precursorwatch.models import DeclarationLine, LineResult
from precursorwatch.store import Store, save_screening
from precursorwatch.store.access import record_owner
from precursorwatch.store.tables import line_decision, screening

BMK = LineResult(
    line_id="", flagged=True, risk="high", matched_key="1-phenyl-2-propanone",
    matched_name="1-Phenyl-2-propanone (BMK)", matched_cas="103-79-7",
    lists=("UN-T1", "EU-CAT1"), match_type="cas", score=1.0,
    reason="CAS 103-79-7 is BMK, a Table I precursor: high in any quantity.",
)  # fmt: skip
ACETONE = LineResult(
    line_id="", flagged=True, risk="medium", matched_key="acetone", matched_name="Acetone",
    matched_cas="67-64-1", lists=("UN-T2", "EU-CAT3"), match_type="name", score=0.95,
    reason="'Aceton' is a name of Acetone.",
)  # fmt: skip
SIMILAR = LineResult(
    line_id="", flagged=False, risk="low", matched_key="safrole", matched_name="Safrole",
    lists=("UN-T1",), match_type="similar", score=0.6, reason="Looks somewhat like safrole.",
)  # fmt: skip
CLEAR = LineResult(line_id="", flagged=False, risk="none", reason="No listed substance found.")


def kind_of(i: int) -> str:
    """The kind of goods of line ``i`` (0-based): bmk, acetone, similar or clear."""
    if i % 50 == 0:
        return "bmk"
    if i % 10 == 3:
        return "acetone"
    if i % 7 == 5:
        return "similar"
    return "clear"


_GOODS = {
    "bmk": ("Benzyl methyl ketone", "103-79-7", BMK),
    "acetone": ("Aceton technisch", "", ACETONE),
    "similar": ("Sassafras oil", "", SIMILAR),
    "clear": ("Sodium chloride", "7647-14-5", CLEAR),
}


def lines(n: int, prefix: str = "L") -> list[tuple[DeclarationLine, LineResult]]:
    """``n`` lines: every 50th BMK (high), every 10th from 3 acetone (medium), some similar
    (low), the rest clear; consignees "Firm 0" .. "Firm 12" and line ids ``prefix`` + i."""
    out = []
    for i in range(n):
        text, cas, result = _GOODS[kind_of(i)]
        line_id = f"{prefix}{i + 1}"
        out.append(
            (
                DeclarationLine(
                    row=i + 1,
                    line_id=line_id,
                    description=text,
                    cas=cas,
                    quantity=float(i % 90 + 1),
                    unit="kg",
                    consignee=f"Firm {i % 13}",
                    destination="DE",
                ),
                LineResult(**{**_fields(result), "line_id": line_id}),
            )
        )
    return out


def _fields(result: LineResult) -> dict[str, object]:
    return {f: getattr(result, f) for f in result.__dataclass_fields__}


def stored(
    store: Store,
    n: int,
    *,
    name: str = "manifest.csv",
    actor: str = "officer-a",
    key_id: str = "",
    created_at: datetime | None = None,
    input_hash: str | None = None,
    prefix: str = "L",
) -> str:
    """A stored screening of :func:`lines` (owned by ``key_id`` when given); its id."""
    with store.session() as session:
        sid = save_screening(
            session=session, actor=actor, input_name=name,
            input_hash=input_hash or f"hash-{name}-{n}", list_versions={"UN-T1": "1"},
            lines=lines(n, prefix),
        )  # fmt: skip
        if key_id:
            record_owner(session=session, screening_id=sid, key_id=key_id, key_name=actor)
        if created_at is not None:
            session.execute(
                update(screening).where(screening.c.id == sid).values(created_at=created_at)
            )
    return sid


def decide(store: Store, screening_id: str, line_id: str, decision: str) -> None:
    """Record a decision row as the decisions API would (this helper only reads them)."""
    with store.session() as session:
        session.execute(
            insert(line_decision).values(
                screening_id=screening_id,
                line_id=line_id,
                decision=decision,
                comment="",
                actor="officer-a",
                actor_key_id="",
                at=datetime.now(UTC),
            )
        )
