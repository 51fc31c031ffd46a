"""The screening engine: dedupe, identify, run the matchers, score, broadcast back to lines.

Pure: no files, no database, no printing. ``screen_frame(df, watchlist) -> df`` is the one
library call the CLI, the API and Dask share. A :class:`Screener` keeps what it resolved, so a
file screened in chunks resolves each distinct description once; an optional
:class:`ResolutionCache` (the store's resolver_cache table) carries resolutions across runs.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Protocol

import numpy as np
import pandas as pd

from precursorwatch.chem import molecule
from precursorwatch.engine.budget import STRUCTURE_SECONDS_PER_LINE, StructureBudget, was_stopped
from precursorwatch.engine.dates import law_of_the_day
from precursorwatch.engine.index import ListIndex, build_index
from precursorwatch.engine.judge import (
    STRUCTURE_MATCHERS,
    collect_evidence,
    structure_signature,
    verdict,
)
from precursorwatch.engine.matchers import Declared, StructureId
from precursorwatch.errors import ResolverError
from precursorwatch.frames import distinct_rows
from precursorwatch.identify.describe import (
    ComponentId,
    DescriptionId,
    finish,
    first_pass,
    run_opsin,
)
from precursorwatch.identify.normalise import CasReading, normalise_hs, read_cas
from precursorwatch.identify.opsin import OpsinSession, in_background
from precursorwatch.identify.pubchem import KnownChemical
from precursorwatch.identify.resolve import RESOLVER_VERSION, pubchem_by_cas, pubchem_by_inchikey
from precursorwatch.models import DeclarationLine, Evidence, LineResult, Watchlist
from precursorwatch.run.digest import engine_digest
from precursorwatch.run.judged import (
    Judged,
    JudgedParts,
    Template,
    judged_json,
    template_from_json,
    template_of,
)
from precursorwatch.run.pending import Judging, PendingFrame
from precursorwatch.run.results import canonical_frame, identified_texts, results_from_frame
from precursorwatch.run.workers import (
    FORK_MIN,
    LATER_FORK_MIN,
    can_fork,
    judge_forked,
    jvms_for,
)
from precursorwatch.serial import evidence_from_dicts, from_json

_KEY_COLUMNS = ["description", "cas", "hs_code", "smiles"]


class ResolutionCache(Protocol):
    """Where resolutions persist between runs (the store implements it)."""

    def get_many(self, namespace: str, keys: Sequence[str]) -> dict[str, dict[str, Any]]: ...

    def has_any(self, namespace: str) -> bool: ...

    def put_all(self, batches: Mapping[str, Mapping[str, dict[str, Any]]]) -> None:
        """Keep the values of several namespaces (namespace -> key -> value), at once."""


@dataclass
class Screener:
    """Screens declarations against one watchlist, remembering what it has resolved.

    ``workers`` > 1 identifies the new descriptions and judges the distinct declarations of
    a large frame in that many forked processes (:mod:`precursorwatch.run.workers`; POSIX only;
    elsewhere, and for fewer new declarations than :data:`~precursorwatch.run.workers.FORK_MIN`,
    or :attr:`later_fork_min` once it holds judged ones, in this process). Results are the
    same either way.
    """

    watchlist: Watchlist
    #: The day whose law is applied (None: today, when the screener is made).
    as_of: date | None = None
    use_opsin: bool = True
    opsin_timeout_s: float = 60.0
    cache: ResolutionCache | None = None
    workers: int = 1
    #: Seconds of structure comparison per distinct declaration (engine/budget.py).
    structure_seconds: float = STRUCTURE_SECONDS_PER_LINE
    #: Fewest new declarations of a later frame worth forking for (:data:`LATER_FORK_MIN`).
    later_fork_min: int = LATER_FORK_MIN
    #: Called just before workers are forked (a sink's thread is waited for then, so none
    #: runs while a process is forked).
    before_fork: Callable[[], None] | None = field(default=None, repr=False, compare=False)
    index: ListIndex = field(init=False)
    _descriptions: dict[str, DescriptionId] = field(default_factory=dict, init=False)
    #: Descriptions forked workers identified, in their JSON form until one is needed: most
    #: are never looked at again, and decoding them all would take the parent's CPU while
    #: the workers need both cores.
    _described_json: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)
    _cas: dict[str, tuple[tuple[CasReading, ...], dict[str, KnownChemical]]] = field(
        default_factory=dict, init=False
    )
    #: Structures identified, by origin and SMILES (forked workers send theirs back).
    structures: dict[str, StructureId] = field(default_factory=dict, init=False, repr=False)
    _templates: dict[str, Template] = field(default_factory=dict, init=False)
    _structure_evidence: dict[str, dict[str, list[Evidence]]] = field(
        default_factory=dict, init=False
    )
    #: Signatures whose structure evidence came from the persistent cache (not written back).
    _recalled: set[str] = field(default_factory=set, init=False)
    #: Seconds spent per stage so far: identify, match, score, broadcast.
    timings: dict[str, float] = field(default_factory=dict, init=False)
    #: OPSIN JVMs kept for this screener's batches (:func:`jvms_for`; started ahead of use).
    _opsin: list[OpsinSession] = field(default_factory=list, init=False)
    #: This process's number (a forked worker is given its own): it picks one of :attr:`_opsin`.
    opsin_slot: int = field(default=0, init=False)
    #: The keys being judged (forked workers may be running): waited for before the next.
    _judging: Judging | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.as_of = self.as_of or date.today()
        self.index = build_index(self.watchlist, as_of=self.as_of)
        # the cache keys hold the lists' versions and the law of the day (entries in force,
        # listings coming), not the day itself: most days share the law of the day before
        law = [self.watchlist.versions(), law_of_the_day(self.index)]
        digest = hashlib.sha256(json.dumps(law, sort_keys=True).encode())
        self.namespace = f"r{RESOLVER_VERSION}:{digest.hexdigest()[:16]}"
        digest.update(engine_digest().encode())
        #: Namespaces of judged declarations and of structure evidence (engine code included).
        self.result_namespace = f"t{RESOLVER_VERSION}:{digest.hexdigest()[:16]}"
        self.structure_namespace = f"s{RESOLVER_VERSION}:{digest.hexdigest()[:16]}"

    # --- identification, once per distinct value -------------------------------------------

    def start_opsin(self, n: int) -> None:
        """Have ``n`` OPSIN JVMs running (started now, without waiting: they load while the
        caller works). Nothing happens without OPSIN; a failure to start is reported by the
        batch that needs the JVM."""
        if not self.use_opsin:
            return
        while len(self._opsin) < n:
            self._opsin.append(OpsinSession())
        for session in self._opsin[:n]:
            with suppress(ResolverError):
                session.start()

    def warm_up(self) -> None:
        """Start the JVMs that judging many new declarations uses (:func:`jvms_for`), to load
        on the core a file's reading leaves idle; they end with the screener's process."""
        self.start_opsin(jvms_for(self.workers))

    def judged_nothing_yet(self) -> bool:
        """Whether the persistent cache holds no declaration judged under these lists, law
        and engine (a fresh store, new lists or engine); False without a cache."""
        return self.cache is not None and not self.cache.has_any(self.result_namespace)

    def _forks(self) -> bool:
        """Whether many new declarations are judged in forked workers here."""
        return self.workers > 1 and can_fork()

    def _opsin_session(self) -> OpsinSession:
        self.start_opsin(1)
        return self._opsin[self.opsin_slot % len(self._opsin)]

    def _recall_descriptions(self, texts: Sequence[str]) -> list[str]:
        """Take what is known of ``texts`` from memory or the persistent cache; returns the
        distinct texts still to identify."""
        todo = [
            t
            for t in dict.fromkeys(texts)
            if t and t not in self._descriptions and t not in self._described_json
        ]
        if todo and self.cache is not None:
            for text, data in self.cache.get_many(self.namespace, todo).items():
                self._descriptions[text] = from_json(DescriptionId, data)
            todo = [t for t in todo if t not in self._descriptions]
        return todo

    def _description(self, text: str) -> DescriptionId | None:
        """What is known of the description ``text`` (decoded when first needed)."""
        d = self._descriptions.get(text)
        if d is None:
            data = self._described_json.pop(text, None)
            if data is not None:
                d = self._descriptions[text] = from_json(DescriptionId, data)
        return d

    def _has_notes(self, text: str) -> bool:
        """Whether the known description ``text`` carries a note (OPSIN was down)."""
        data = self._described_json.get(text)
        if data is not None:
            return bool(data["notes"])
        d = self._descriptions.get(text)
        return d is not None and bool(d.notes)

    def identify_and_judge(
        self, keys: Sequence[tuple[str, str, str, str]], todo: Sequence[str], *, recall: bool
    ) -> Judged:
        """Identify the new descriptions ``todo`` and judge ``keys`` (kept in memory too);
        returns their templates in ``keys`` order, the new descriptions and the new structure
        evidence. Forked workers call it on their share (:mod:`precursorwatch.run.workers`).

        OPSIN's batch (in this process's JVM, kept running) runs in a thread while the declarations
        that do not wait for it are judged; the rest are judged when it answers. With
        ``recall``, structure evidence of earlier runs is read from the persistent cache
        (not in a forked worker: it must not use the parent's database connections).
        """
        known = set(self._structure_evidence)
        t0 = time.perf_counter()
        first = first_pass(todo, self.index)
        waiting = {t for t in todo if first.waits_for_opsin(t)}
        opsin = None
        if waiting:
            opsin = in_background(
                run_opsin,
                first,
                use_opsin=self.use_opsin,
                timeout_s=self.opsin_timeout_s,
                session=self._opsin_session() if self.use_opsin else None,
            )
        described = finish(first, [t for t in todo if t not in waiting], self.index, {})
        self._descriptions.update(described)
        self._tick("identify", t0)
        results: list[LineResult | None] = [None] * len(keys)
        ready = [i for i, k in enumerate(keys) if k[0] not in waiting]
        self._judge_into(results, keys, ready, recall=recall)
        if opsin is not None:
            t0 = time.perf_counter()
            later = finish(first, waiting, self.index, *opsin.result())
            self._descriptions.update(later)
            described.update(later)
            self._tick("identify", t0)
            rest = [i for i, k in enumerate(keys) if k[0] in waiting]
            self._judge_into(results, keys, rest, recall=recall)
        known |= self._recalled  # read from the cache: not new
        new = {
            sig: found
            for sig, found in self._structure_evidence.items()
            if sig not in known and len(found) == len(STRUCTURE_MATCHERS)
        }
        return judged_json([template_of(r) for r in results if r is not None], described, new)

    def _judge_into(
        self,
        results: list[LineResult | None],
        keys: Sequence[tuple[str, str, str, str]],
        positions: Sequence[int],
        recall: bool = False,
    ) -> None:
        """Judge ``keys[i]`` for each position ``i`` into ``results[i]``.

        In blocks of :data:`_JUDGE_BLOCK`, so that the molecules parsed for a block are still
        alive when its matchers run (:class:`~precursorwatch.chem.molecule.Identity` keeps few).
        """
        for start in range(0, len(positions), _JUDGE_BLOCK):
            block = positions[start : start + _JUDGE_BLOCK]
            t0 = time.perf_counter()
            declared = [self._declared(*keys[i]) for i in block]
            if recall:
                self._load_structure_evidence(declared)
            self._tick("identify", t0)
            for i, d in zip(block, declared, strict=True):
                results[i] = self._judge(d)

    def _read_cas(self, text: str) -> tuple[tuple[CasReading, ...], dict[str, KnownChemical]]:
        if text not in self._cas:
            readings = tuple(read_cas(text))
            known = {}
            for r in readings:
                if r.valid and r.cas not in self.index.by_cas:
                    k = pubchem_by_cas(r.cas)
                    if k is not None:
                        known[r.cas] = k
            self._cas[text] = (readings, known)
        return self._cas[text]

    def _structure(self, smiles: str, origin: str, comp: ComponentId | None = None) -> StructureId:
        memo_key = f"{origin}\x1f{smiles}"
        s = self.structures.get(memo_key)
        if s is None:
            ident, problem = molecule.identity(smiles)
            known = None
            if ident is not None and origin == "smiles":
                known = pubchem_by_inchikey(ident.declared_inchikey)
            s = StructureId(smiles, origin, ident, problem=problem, known=known)
            self.structures[memo_key] = s
        if comp is not None:
            s = StructureId(
                s.smiles, s.origin, s.identity, comp.name, comp.share, s.problem, s.known
            )
        return s

    def _declared(self, description: str, cas: str, hs: str, smiles: str) -> Declared:
        d = self._description(description) if description else None
        readings, known = self._read_cas(cas) if cas else ((), {})
        structures = []
        if smiles:
            structures.append(self._structure(smiles, "smiles"))
        if d is not None:
            structures += [
                self._structure(c.smiles, c.smiles_via, c) for c in d.components if c.smiles
            ]
        return Declared(d, readings, known, normalise_hs(hs), tuple(structures))

    def _tick(self, stage: str, since: float) -> float:
        now = time.perf_counter()
        self.timings[stage] = self.timings.get(stage, 0.0) + now - since
        return now

    def _judge(self, declared: Declared) -> LineResult:
        """:func:`~precursorwatch.engine.judge.judge`, with this screener's structure memo and
        the time of its matching and scoring counted."""
        t0 = time.perf_counter()
        # on this thread's CPU clock: a busy machine slows the comparisons without spending
        # the line's budget, so the results do not depend on what else the machine runs
        budget = StructureBudget(self.structure_seconds, time.thread_time)
        evidence = collect_evidence(
            declared, self.index, structure_evidence=self._structure_evidence, budget=budget
        )
        t0 = self._tick("match", t0)
        result = verdict(declared, evidence, self.index, budget=budget)
        self._tick("score", t0)
        return result

    def _load_structure_evidence(self, declared: Sequence[Declared]) -> None:
        """Structure evidence of earlier runs, from the persistent cache, for ``declared``."""
        if self.cache is None:
            return
        wanted = [
            sig
            for sig in dict.fromkeys(structure_signature(d) for d in declared)
            if sig not in self._structure_evidence
        ]
        if not wanted:
            return
        names = list(STRUCTURE_MATCHERS.values())
        for sig, data in self.cache.get_many(self.structure_namespace, wanted).items():
            if all(n in data for n in names):
                self._structure_evidence[sig] = {n: evidence_from_dicts(data[n]) for n in names}
                self._recalled.add(sig)

    def _judge_many(self, keys: Sequence[tuple[str, str, str, str]]) -> JudgedParts:
        """Judge distinct declarations (in ``workers`` processes when worth it), part after
        part (one part in this process). New descriptions and structure evidence are kept
        in memory and go to the persistent cache as each part comes in.

        Forked workers start before this returns and run while the caller does other work;
        judging in this process waits until the parts are asked for."""
        todo = self._recall_descriptions([k[0] for k in keys])
        least = self.later_fork_min if self._templates else FORK_MIN
        forked = self._forks() and len(keys) >= least
        if todo:
            self.start_opsin(jvms_for(self.workers) if forked else 1)
        if not forked:
            return JudgedParts(self._judge_here(keys, todo))
        # descriptions are identified and structures parsed in the workers: the parent would
        # do that work serially
        if self.before_fork is not None:
            self.before_fork()
        judging = judge_forked(self, keys, set(todo))
        return JudgedParts(self._take_in(judging.parts), judging.stop, elsewhere=True)

    def _judge_here(
        self, keys: Sequence[tuple[str, str, str, str]], todo: Sequence[str]
    ) -> Iterator[tuple[list[int], Judged]]:
        yield list(range(len(keys))), self.identify_and_judge(keys, todo, recall=True)

    def _take_in(
        self, parts: Iterator[tuple[list[int], Judged]]
    ) -> Iterator[tuple[list[int], Judged]]:
        """Forked parts as they come, their new descriptions and evidence kept here."""
        for positions, part in parts:
            self._described_json.update(part.descriptions)
            for sig, data in part.structures.items():
                self._structure_evidence.setdefault(
                    sig, {n: evidence_from_dicts(evs) for n, evs in data.items()}
                )
            yield positions, part

    def templates(self, keys: Sequence[tuple[str, str, str, str]]) -> list[Template]:
        """The judged result (its ``evidence`` left empty) and its evidence JSON for each
        distinct (description, CAS, HS code, SMILES), from memory, the persistent cache or
        judged now."""
        return self._start_judging(keys).wait()

    def _start_judging(self, keys: Sequence[tuple[str, str, str, str]]) -> Judging:
        """Start judging what is not known of ``keys`` (forked workers start now); the
        returned :class:`Judging` waits for it. Judging one set of keys at a time: the
        screener's memos are the workers' starting point."""
        if self._judging is not None:
            self._judging.wait()
        tkeys = ["\x1f".join(k) for k in keys]
        missing = [i for i, t in enumerate(tkeys) if t not in self._templates]
        if missing and self.cache is not None:
            got = self.cache.get_many(self.result_namespace, [tkeys[i] for i in missing])
            for t, data in got.items():
                with suppress(TypeError, ValueError, KeyError):
                    self._templates[t] = template_from_json(data)
            missing = [i for i in missing if tkeys[i] not in self._templates]
        if not missing:
            return Judging(self, tkeys, [], None)
        if len(self._templates) > _MAX_TEMPLATES:
            self._templates.clear()
            self._structure_evidence.clear()
            self.structures.clear()
            self._recalled.clear()
        todo = [keys[i] for i in missing]
        self._judging = Judging(self, tkeys, todo, self._judge_many(todo))
        return self._judging

    def _keep_templates(
        self, todo: Sequence[tuple[str, str, str, str]], positions: list[int], judged: Judged
    ) -> None:
        """Keep the templates of one judged part (``positions`` in ``todo``) in memory, and
        write them with the part's new descriptions and structure evidence to the persistent
        cache in one transaction (except where OPSIN was down: those are judged again)."""
        fresh: dict[str, dict[str, Any]] = {}
        for pos, template, data in zip(positions, judged.templates, judged.json, strict=True):
            key = todo[pos]
            t = "\x1f".join(key)
            self._templates[t] = template
            # OPSIN was down, or the structure comparison ran out of time: judged again later
            if not self._has_notes(key[0]) and not was_stopped(template[0].reason):
                fresh[t] = data
        if self.cache is not None:
            described = {t: d for t, d in judged.descriptions.items() if not d["notes"]}
            self.cache.put_all(
                {
                    self.namespace: described,
                    self.structure_namespace: judged.structures,
                    self.result_namespace: fresh,
                }
            )

    # --- public entry points ---------------------------------------------------------------

    def screen_frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """Screen a frame of canonical columns; one result row per input row, same order.

        Missing input columns count as empty. Returns the contract's columns plus
        ``evidence`` (JSON text) and ``warnings``.
        """
        return self.begin_frame(df).result()

    def begin_frame(self, df: pd.DataFrame) -> PendingFrame:
        """Start screening ``df`` (as :meth:`screen_frame`); :meth:`PendingFrame.result` gives
        the result frame. When its new declarations are judged in forked workers, they run
        while the caller does other work, such as writing the previous frame's results or
        reading the next frame. Beginning a frame first waits for the judging (not the
        result) of the frame begun before."""
        frame = canonical_frame(df)
        if frame.empty:
            return PendingFrame(self, frame, np.zeros(0, dtype=np.intp), None)
        columns = [identified_texts(frame), *(frame[c] for c in _KEY_COLUMNS[1:])]
        groups, first = distinct_rows(columns)
        desc, cas, hs, smiles = (c.iloc[first].to_numpy(dtype=object) for c in columns)
        keys = list(zip(desc, cas, hs, smiles, strict=True))
        return PendingFrame(self, frame, groups, self._start_judging(keys))

    def screen_lines(self, lines: Sequence[DeclarationLine]) -> list[LineResult]:
        """Screen declaration objects (the API's path); results in the same order."""
        df = pd.DataFrame(
            [{**asdict(line), "warnings": "; ".join(line.warnings)} for line in lines]
        )
        out = self.screen_frame(df)
        return results_from_frame(out)


#: Declarations whose structures are parsed together before their matchers run.
_JUDGE_BLOCK = 128
#: Judged declarations kept in memory before the memo is emptied (bounds a long stream).
_MAX_TEMPLATES = 400_000


def screen_frame(
    df: pd.DataFrame,
    watchlist: Watchlist,
    *,
    use_opsin: bool = True,
    cache: ResolutionCache | None = None,
) -> pd.DataFrame:
    """Screen ``df`` (canonical manifest columns) against ``watchlist``; see :class:`Screener`."""
    return Screener(watchlist, use_opsin=use_opsin, cache=cache).screen_frame(df)
