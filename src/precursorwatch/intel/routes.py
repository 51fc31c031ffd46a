"""Illicit synthesis routes as data, and the recogniser of the chemicals that fill their roles.

``routes.yaml`` (beside this module) holds, for each known route, the drug it leads to, the
chemical *roles* it needs and the sources naming them: roles, drug and sources only, never a
procedure. Its schema is stated at the top of the file. :func:`load_routes` reads and checks it
(every agent, role and source referenced must exist; CAS numbers must pass their check digit);
substance keys that the loaded lists do not know are not an error, because keys are added to
``lists/`` by their own review: they are reported in :attr:`RouteBook.unknown_keys`, and such an
agent is recognised by its names and CAS numbers meanwhile.

A role is filled by a screened line whose ``matched_key`` is one of the agent's keys (the engine
already recognises salts, stereoisomers and designer forms), or, for reagents that are not
listed, by :class:`precursorwatch.intel.recognise.Recogniser` (names and CAS numbers).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from precursorwatch.errors import ListFileError

ROUTES_FILE = "routes.yaml"
_CAS_RE = re.compile(r"^(\d{2,7})-(\d{2})-(\d)$")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")
_SOURCE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]*$")


@dataclass(frozen=True, slots=True)
class Agent:
    """A chemical that can fill a role: substance keys, or names and CAS numbers to recognise."""

    id: str
    name: str
    keys: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    cas: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    molar_mass: float | None = None
    density_kg_per_l: float | None = None


@dataclass(frozen=True, slots=True)
class Role:
    """One part a route needs, filled by any of its agents; ``moles`` per mole of product."""

    name: str
    agents: tuple[str, ...]
    required: bool = True
    moles: float | None = None


@dataclass(frozen=True, slots=True)
class Route:
    """An illicit synthesis route: the drug, the roles it needs and its sources."""

    key: str
    drug: str
    name: str
    roles: tuple[Role, ...]
    sources: tuple[str, ...]
    min_roles: int = 2
    score: float = 0.55
    alert: bool = True
    note: str = ""
    #: A role counts only when its lines in the window total at least this many kg (None: the
    #: file's ``min_role_kg``); lines without a readable quantity always count.
    min_kg: float | None = None
    #: When not empty, the route alerts only on lines whose destination is one of these.
    countries: tuple[str, ...] = ()

    @property
    def required(self) -> tuple[Role, ...]:
        return tuple(r for r in self.roles if r.required)


@dataclass(frozen=True, slots=True)
class Limit:
    """A quantity threshold: ``per`` is "year" (calendar year) or "transaction"."""

    substance: str
    quantity: float
    unit: str
    per: str
    list_code: str
    source: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class SourceNote:
    """A source of ``routes.yaml``: ``label`` is what an alert's sentence cites."""

    id: str
    label: str
    title: str
    url: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class RouteBook:
    """Everything ``routes.yaml`` holds, checked."""

    routes: tuple[Route, ...]
    agents: Mapping[str, Agent]
    sources: Mapping[str, SourceNote]
    limits: tuple[Limit, ...] = ()
    settings: Mapping[str, float] = field(default_factory=dict)
    #: (agent id, key) pairs naming substance keys the loaded lists do not know (yet).
    unknown_keys: tuple[tuple[str, str], ...] = ()

    def route(self, key: str) -> Route:
        """The route of ``key``; KeyError when there is none."""
        return {r.key: r for r in self.routes}[key]

    def source_labels(self, ids: Collection[str]) -> list[str]:
        """The labels of source ``ids`` (the ID itself when it has no entry)."""
        return [self.sources[i].label if i in self.sources else i for i in ids]


def _cas_ok(cas: str) -> bool:
    m = _CAS_RE.match(cas)
    if m is None:
        return False
    digits = (m[1] + m[2])[::-1]
    return sum((i + 1) * int(d) for i, d in enumerate(digits)) % 10 == int(m[3])


def _texts(raw: Mapping[str, Any], name: str, where: str, path: str) -> tuple[str, ...]:
    value = raw.get(name, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise ListFileError("must be a list of texts", path=path, entry=where, field=name)
    return tuple(str(v) for v in value)


def _number(raw: Mapping[str, Any], name: str, where: str, path: str) -> float | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ListFileError("must be a positive number", path=path, entry=where, field=name)
    return float(value)


def _agents(data: Mapping[str, Any], path: str) -> dict[str, Agent]:
    raw = data.get("agents")
    if not isinstance(raw, dict):
        raise ListFileError("must be a mapping of agent ids", path=path, field="agents")
    out: dict[str, Agent] = {}
    for aid, body in raw.items():
        if not isinstance(aid, str) or not _ID_RE.match(aid) or not isinstance(body, dict):
            raise ListFileError("an agent is an id with a mapping", path=path, entry=str(aid))
        cas = _texts(body, "cas", aid, path)
        for c in cas:
            if not _cas_ok(c):
                raise ListFileError(f"CAS {c} fails its check digit", path=path, entry=aid)
        agent = Agent(
            aid,
            str(body.get("name") or aid),
            _texts(body, "keys", aid, path),
            _texts(body, "names", aid, path),
            cas,
            _texts(body, "exclude", aid, path),
            _number(body, "molar_mass", aid, path),
            _number(body, "density_kg_per_l", aid, path),
        )
        if not (agent.keys or agent.names or agent.cas):
            raise ListFileError("needs keys, names or cas", path=path, entry=aid)
        out[aid] = agent
    return out


def _route(raw: Any, agents: Mapping[str, Agent], sources: Collection[str], path: str) -> Route:
    if not isinstance(raw, dict) or not isinstance(raw.get("key"), str):
        raise ListFileError("a route is a mapping with a key", path=path, field="routes")
    key = str(raw["key"])
    roles: list[Role] = []
    for role in raw.get("roles") or []:
        if not isinstance(role, dict):
            raise ListFileError("a role is a mapping", path=path, entry=key, field="roles")
        ids = _texts(role, "agents", key, path)
        missing = [a for a in ids if a not in agents]
        if not ids or missing or not isinstance(role.get("role"), str):
            raise ListFileError(
                f"role needs a name and known agents {missing}", path=path, entry=key
            )
        roles.append(
            Role(
                role["role"],
                ids,
                bool(role.get("required", True)),
                _number(role, "moles", key, path),
            )
        )
    cited = _texts(raw, "sources", key, path)
    if not roles or not cited or any(s not in sources for s in cited):
        raise ListFileError("needs roles and known sources", path=path, entry=key, field="sources")
    required = sum(r.required for r in roles)
    alert = bool(raw.get("alert", True))
    min_roles = int(raw.get("min_roles", max(required, 2) if alert else required))
    if required == 0 or (alert and min_roles < 2) or min_roles > len(roles):
        raise ListFileError(
            "needs a required role and 2..len(roles) min_roles", path=path, entry=key
        )
    return Route(
        key,
        str(raw.get("drug", "")),
        str(raw.get("name", key)),
        tuple(roles),
        cited,
        min_roles,
        float(raw.get("score", 0.55)),
        alert,
        str(raw.get("note", "")),
        _number(raw, "min_kg", key, path),
        tuple(c.casefold() for c in _texts(raw, "countries", key, path)),
    )


def _limits(data: Mapping[str, Any], sources: Collection[str], path: str) -> tuple[Limit, ...]:
    out = []
    for raw in data.get("limits") or []:
        where = str(raw.get("substance", "?"))
        quantity = _number(raw, "quantity", where, path)
        if quantity is None or raw.get("per") not in ("year", "transaction"):
            raise ListFileError(
                "needs a quantity and per: year|transaction", path=path, entry=where
            )
        if raw.get("source", "") and raw["source"] not in sources:
            raise ListFileError("unknown source", path=path, entry=where, field="source")
        out.append(
            Limit(
                where,
                quantity,
                str(raw.get("unit", "kg")),
                raw["per"],
                str(raw.get("list", "")),
                str(raw.get("source", "")),
                str(raw.get("note", "")),
            )
        )
    return tuple(out)


def default_routes_path() -> Path:
    """The bundled ``routes.yaml`` (package data beside this module)."""
    return Path(str(resources.files("precursorwatch.intel").joinpath(ROUTES_FILE)))


def load_routes(
    path: Path | None = None, *, known_keys: Collection[str] | None = None
) -> RouteBook:
    """Read and check ``routes.yaml`` (default: the bundled one).

    ``known_keys`` are the substance keys of the loaded lists: agent keys outside them are
    reported in :attr:`RouteBook.unknown_keys` (not an error). Raises ListFileError naming file,
    entry and field when the file is unreadable or inconsistent.
    """
    file = path or default_routes_path()
    where = str(file)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ListFileError(f"cannot read the routes file: {exc}", path=where) from exc
    if not isinstance(data, dict):
        raise ListFileError("must be a mapping", path=where)
    sources: dict[str, SourceNote] = {}
    for sid, body in (data.get("sources") or {}).items():
        if not _SOURCE_RE.match(str(sid)) or not isinstance(body, dict) or not body.get("title"):
            raise ListFileError("a source is an ID with a title", path=where, entry=str(sid))
        sources[sid] = SourceNote(
            sid,
            str(body.get("label") or sid),
            str(body["title"]),
            str(body.get("url") or ""),
            str(body.get("note") or ""),
        )
    agents = _agents(data, where)
    routes = tuple(_route(r, agents, sources, where) for r in data.get("routes") or [])
    keys = [r.key for r in routes]
    if len(set(keys)) != len(keys) or not routes:
        raise ListFileError("route keys must be present and unique", path=where, field="routes")
    settings = {str(k): float(v) for k, v in (data.get("checks") or {}).items()}
    unknown: tuple[tuple[str, str], ...] = ()
    if known_keys is not None:
        known = set(known_keys)
        unknown = tuple((a.id, k) for a in agents.values() for k in a.keys if k not in known)
    return RouteBook(routes, agents, sources, _limits(data, sources, where), settings, unknown)
