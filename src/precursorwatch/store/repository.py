"""Repository functions of the store; every one takes the session keyword-only.

This module holds the versioned lists and the substance look-ups and re-exports the rest
(screenings, API keys, audit, resolver cache), so callers import from one place.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, exists, insert, select, update
from sqlalchemy.orm import Session

from precursorwatch.errors import ListFileError, QueryError
from precursorwatch.models import ListDef, Substance, Watchlist
from precursorwatch.serial import (
    content_hash,
    listdef_from_dict,
    listdef_to_dict,
    substance_from_dict,
    substance_to_dict,
    to_json,
)
from precursorwatch.store.audit import list_audit, record_audit
from precursorwatch.store.cache import cache_get_many, cache_has_any, cache_put_many
from precursorwatch.store.keys import authenticate, create_api_key, list_api_keys, revoke_api_key
from precursorwatch.store.records import ImportOutcome, ListSummary
from precursorwatch.store.screenings import (
    get_screening,
    iter_screening_lines,
    list_screenings,
    save_screening,
    screening_sizes,
    substance_history,
)
from precursorwatch.store.stream import PruneOutcome, prune_screenings
from precursorwatch.store.tables import (
    list_table,
    list_version,
    listing,
    substance,
    substance_cas,
    substance_name,
    utcnow,
)

__all__ = [
    "PruneOutcome",
    "authenticate",
    "cache_get_many",
    "cache_has_any",
    "cache_put_many",
    "create_api_key",
    "current_watchlist",
    "find_substances",
    "get_list",
    "get_screening",
    "get_substance",
    "import_lists",
    "iter_screening_lines",
    "list_api_keys",
    "list_audit",
    "list_screenings",
    "list_summaries",
    "list_versions",
    "prune_screenings",
    "record_audit",
    "revoke_api_key",
    "save_screening",
    "screening_sizes",
    "store_is_empty",
    "substance_history",
]

#: Most substances returned by a prefix search.
PREFIX_LIMIT = 50


def fold_name(name: str) -> str:
    """A name as looked up: NFKC, case-folded, inner whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def import_lists(
    *,
    session: Session,
    lists: Sequence[ListDef],
    substances: Mapping[str, Substance],
    source_file: str,
    actor: str = "system",
    made_public: Collection[str] = (),
) -> list[ImportOutcome]:
    """Store each list as a new version unless its content hash equals the current one's.

    Confidentiality never changes silently: a new version of a list whose current version
    is confidential stays confidential unless its code is in ``made_public`` (the importer
    said explicitly that it is public: ``--public``, ``confidential: false``); the audit
    event of every version records its confidentiality and what it was before.

    The whole call is one unit (a savepoint): when anything fails, nothing of it stays in the
    session, and the error is raised again. Raises ListFileError when an entry names a
    substance that ``substances`` lacks.
    """
    with session.begin_nested():
        return [
            _import_one(
                session=session,
                listdef=ld,
                substances=substances,
                source_file=source_file,
                actor=actor,
                made_public=ld.code in made_public,
            )
            for ld in lists
        ]


def _import_one(
    *,
    session: Session,
    listdef: ListDef,
    substances: Mapping[str, Substance],
    source_file: str,
    actor: str,
    made_public: bool = False,
) -> ImportOutcome:
    keys = list(dict.fromkeys(e.substance_key for e in listdef.entries))
    for entry in listdef.entries:
        if entry.substance_key not in substances:
            raise ListFileError(
                f"list {listdef.code!r} names substance {entry.substance_key!r}, which is not "
                "defined: add it to the substances file or correct the key",
                path=source_file,
                entry=entry.substance_key,
                field="substance",
            )
    named = {k: substances[k] for k in keys}
    list_id = session.execute(
        select(list_table.c.id).where(list_table.c.code == listdef.code)
    ).scalar_one_or_none()
    current = None
    if list_id is not None:
        current = session.execute(
            select(
                list_version.c.version, list_version.c.content_hash, list_version.c.confidential
            ).where(list_version.c.list_id == list_id, list_version.c.is_current.is_(True))
        ).first()
    was_confidential = bool(current is not None and current.confidential)
    kept = was_confidential and not listdef.confidential and not made_public
    if kept:  # not said to be public: the new version stays confidential
        listdef = dataclasses.replace(listdef, confidential=True, content_hash="")
    digest = listdef.content_hash or content_hash(listdef, named)
    now = utcnow()
    previous = 0
    if list_id is None:
        list_id = session.execute(
            insert(list_table).values(code=listdef.code, created_at=now).returning(list_table.c.id)
        ).scalar_one()
    else:
        if current is not None:
            previous = current.version
            if current.content_hash == digest:
                return ImportOutcome(listdef.code, "unchanged", previous, digest)
        session.execute(
            update(list_version)
            .where(list_version.c.list_id == list_id, list_version.c.is_current.is_(True))
            .values(is_current=False)
        )
    version = previous + 1
    _upsert_substances(session=session, substances=named.values())
    stored = dataclasses.replace(listdef, content_hash=digest, version=version)
    version_id = session.execute(
        insert(list_version)
        .values(
            list_id=list_id,
            version=version,
            is_current=True,
            title=listdef.title,
            confidential=listdef.confidential,
            effective_date=listdef.effective_date,
            content_hash=digest,
            source_file=source_file,
            imported_at=now,
            imported_by=actor,
            entries_count=len(listdef.entries),
            substances_count=len(named),
            payload={
                "list": listdef_to_dict(stored),
                "substances": {k: substance_to_dict(s) for k, s in named.items()},
            },
        )
        .returning(list_version.c.id)
    ).scalar_one()
    if listdef.entries:
        session.execute(
            insert(listing),
            [
                {
                    "list_version_id": version_id,
                    "substance_key": e.substance_key,
                    "category": e.category,
                    "covers": list(e.covers),
                    "thresholds": to_json(e.thresholds),
                    "family_smarts": e.family_smarts,
                    "family_name": e.family_name,
                    "applies_from": e.applies_from,
                    "applies_until": e.applies_until,
                    "act": e.act,
                    "removed_by": e.removed_by,
                }
                for e in listdef.entries
            ],
        )
    status = "new" if previous == 0 else "updated"
    record_audit(
        session=session,
        actor=actor,
        action=f"list.{'imported' if status == 'new' else 'updated'}",
        detail={
            "code": listdef.code,
            "version": version,
            "content_hash": digest,
            "source_file": source_file,
            "entries": len(listdef.entries),
            "confidential": listdef.confidential,
            "confidential_before": was_confidential if current is not None else None,
            "confidentiality": _confidentiality_note(
                was_confidential if current is not None else None, listdef.confidential, kept
            ),
        },
    )
    return ImportOutcome(listdef.code, status, version, digest)


def _confidentiality_note(before: bool | None, now: bool, kept: bool) -> str:
    """What happened to a list's confidentiality, for the audit."""
    if kept:
        return "kept confidential: the import did not say the list is public"
    if before is None:
        return "confidential" if now else "public"
    if before == now:
        return "unchanged (confidential)" if now else "unchanged (public)"
    return "made confidential" if now else "made public: the import said so explicitly"


def _upsert_substances(*, session: Session, substances: Iterable[Substance]) -> None:
    """Replace the normalised rows (substance, names, CAS numbers) of these substances."""
    items = list(substances)
    if not items:
        return
    keys = [s.key for s in items]
    now = utcnow()
    existing: set[str] = set()
    for start in range(0, len(keys), 900):
        chunk = keys[start : start + 900]
        existing.update(
            session.execute(select(substance.c.key).where(substance.c.key.in_(chunk))).scalars()
        )
        session.execute(delete(substance_name).where(substance_name.c.substance_key.in_(chunk)))
        session.execute(delete(substance_cas).where(substance_cas.c.substance_key.in_(chunk)))
    for s in items:
        values = {
            "name": s.name,
            "cas": s.cas,
            "smiles": s.smiles,
            "inchikey": s.inchikey,
            "payload": substance_to_dict(s),
            "updated_at": now,
        }
        if s.key in existing:
            session.execute(update(substance).where(substance.c.key == s.key).values(**values))
        else:
            session.execute(insert(substance).values(key=s.key, **values))
    names: list[dict[str, Any]] = []
    cas_rows: list[dict[str, Any]] = []
    for s in items:
        labelled: dict[str, str] = {s.name: ""}
        for lang, lang_names in s.names.items():
            for n in lang_names:
                labelled.setdefault(n, lang)
        for n in s.abbreviations:
            labelled.setdefault(n, "abbr")
        names.extend(
            {"substance_key": s.key, "name": n, "name_folded": fold_name(n), "lang": lang[:8]}
            for n, lang in labelled.items()
        )
        if s.cas:
            cas_rows.append({"substance_key": s.key, "cas": s.cas, "form": ""})
        cas_rows.extend(
            {"substance_key": s.key, "cas": o.cas, "form": o.form} for o in s.other_cas if o.cas
        )
    if names:
        session.execute(insert(substance_name), names)
    if cas_rows:
        session.execute(insert(substance_cas), cas_rows)


def _version_rows(session: Session, *, current_only: bool, code: str | None = None) -> Any:
    stmt = select(list_table.c.code, list_version).join(
        list_table, list_table.c.id == list_version.c.list_id
    )
    if current_only:
        stmt = stmt.where(list_version.c.is_current.is_(True))
    if code is not None:
        stmt = stmt.where(list_table.c.code == code)
    return session.execute(stmt.order_by(list_table.c.code, list_version.c.version))


def _summary(row: Any) -> ListSummary:
    return ListSummary(
        code=row.code,
        title=row.title,
        confidential=row.confidential,
        version=row.version,
        entries=row.entries_count,
        substances=row.substances_count,
        effective_date=row.effective_date,
        imported_at=row.imported_at,
        content_hash=row.content_hash,
        source_file=row.source_file,
        is_current=row.is_current,
    )


def _listdef(row: Any) -> ListDef:
    stored = listdef_from_dict(row.payload["list"])
    return dataclasses.replace(stored, version=row.version, content_hash=row.content_hash)


def current_watchlist(*, session: Session) -> Watchlist:
    """The current version of every list, with the substances they name, as imported.

    A substance named by several lists is taken from the most recently imported of them.
    An empty store gives an empty Watchlist.
    """
    rows = sorted(_version_rows(session, current_only=True), key=lambda r: r.imported_at)
    lists: dict[str, ListDef] = {}
    substances: dict[str, Substance] = {}
    for row in rows:
        lists[row.code] = _listdef(row)
        for key, data in row.payload["substances"].items():
            substances[key] = substance_from_dict(data)
    return Watchlist(substances=dict(sorted(substances.items())), lists=dict(sorted(lists.items())))


def store_is_empty(*, session: Session) -> bool:
    """True when no list was ever imported."""
    return not session.execute(select(exists().where(list_table.c.id.is_not(None)))).scalar()


def list_summaries(*, session: Session) -> list[ListSummary]:
    """The current version of every list, by code."""
    return [_summary(r) for r in _version_rows(session, current_only=True)]


def _code(code: str) -> str:
    return code.strip().upper()


def list_versions(*, session: Session, code: str) -> list[ListSummary]:
    """Every stored version of list ``code``, oldest first. Raises QueryError when unknown."""
    found = [_summary(r) for r in _version_rows(session, current_only=False, code=_code(code))]
    if not found:
        raise QueryError(f"no list with code {code!r}: see `precursorwatch lists`")
    return found


def get_list(*, session: Session, code: str, version: int | None = None) -> ListDef:
    """List ``code`` at ``version`` (default: the current one), exactly as imported.

    Raises QueryError when the list or that version is unknown.
    """
    rows = list(_version_rows(session, current_only=version is None, code=_code(code)))
    if version is not None:
        rows = [r for r in rows if r.version == version]
    if not rows:
        what = f"list {code!r}" + (f" version {version}" if version is not None else "")
        raise QueryError(f"no {what} in the store: see `precursorwatch lists`")
    return _listdef(rows[-1])


def get_substance(*, session: Session, key: str) -> Substance:
    """The substance stored under ``key``. Raises QueryError when unknown."""
    payload = session.execute(
        select(substance.c.payload).where(substance.c.key == key)
    ).scalar_one_or_none()
    if payload is None:
        raise QueryError(f"no substance with key {key!r}: search by name or CAS instead")
    return substance_from_dict(payload)


def find_substances(*, session: Session, query: str) -> list[Substance]:
    """Substances matching ``query``: by key, then CAS (incl. salts' CAS), then name
    (case-insensitive exact, then prefix, at most 50). An empty query finds nothing."""
    text = query.strip()
    if not text:
        return []
    folded = fold_name(text)
    keys: dict[str, None] = {}
    keys.update(
        dict.fromkeys(
            session.execute(select(substance.c.key).where(substance.c.key == text)).scalars()
        )
    )
    keys.update(
        dict.fromkeys(
            session.execute(
                select(substance_cas.c.substance_key)
                .where(substance_cas.c.cas == text)
                .order_by(substance_cas.c.substance_key)
            ).scalars()
        )
    )
    keys.update(
        dict.fromkeys(
            session.execute(
                select(substance_name.c.substance_key)
                .where(substance_name.c.name_folded == folded)
                .order_by(substance_name.c.substance_key)
            ).scalars()
        )
    )
    pattern = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    keys.update(
        dict.fromkeys(
            session.execute(
                select(substance_name.c.substance_key)
                .where(substance_name.c.name_folded.like(pattern, escape="\\"))
                .order_by(substance_name.c.name_folded, substance_name.c.substance_key)
                .limit(PREFIX_LIMIT * 4)
            ).scalars()
        )
    )
    wanted = list(keys)[:PREFIX_LIMIT]
    if not wanted:
        return []
    rows = session.execute(
        select(substance.c.key, substance.c.payload).where(substance.c.key.in_(wanted))
    )
    payloads = {r.key: r.payload for r in rows}
    return [substance_from_dict(payloads[k]) for k in wanted if k in payloads]
