"""The cold path's shortcuts give the results of the long way round.

Identity layers computed lazily (no InChIKey for a composition no listed substance has), a
salt's parent without the fragment chooser, descriptions finished before OPSIN answers, and
forked workers that identify their own descriptions with OPSIN running in a thread.
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pandas as pd
import pytest
from rdkit import Chem
from rdkit.Chem.MolStandardize import rdMolStandardize

from precursorwatch.chem import molecule
from precursorwatch.engine.index import build_index
from precursorwatch.engine.matchers.base import Declared, StructureId
from precursorwatch.engine.matchers.derivative import match_derivative
from precursorwatch.engine.matchers.similar import match_similar
from precursorwatch.engine.matchers.structure import match_structures
from precursorwatch.identify.describe import finish, first_pass, identify_descriptions, run_opsin
from precursorwatch.identify.opsin import java_available
from precursorwatch.lists.load import bundled_lists_dir, load_bundled
from precursorwatch.models import DeclarationLine
from precursorwatch.run.screener import Screener
from precursorwatch.run.streaming import CsvSink, stream_screen

SALTS = [
    "Cl.CNC(C)C(O)c1ccccc1",  # ephedrine hydrochloride
    "[Na+].CC1(OC1c1ccccc1)C(=O)[O-]",  # BMK glycidic acid sodium salt
    "O.O.Cl.CC(N)Cc1ccccc1",  # a hydrated amine salt
    "CCO.CC(=O)O",  # two organic fragments: the one with most atoms (ethanol, 9 with Hs)
    "OCC.COC",  # a tie (9 atoms each): the chooser's own tie-break decides
    "CC(=O)O.CC(=O)O",  # the same fragment twice
    "CCCCN.OC(=O)C(O)C(O)C(=O)O",  # butylamine tartrate: the acid has more atoms
    "[K+].[O-][Mn](=O)(=O)=O",  # no organic fragment at all
]
SYSTEMATIC = "2-benzyl-2-methyl-1,3-dioxolane"  # P2P ethylene ketal, only OPSIN knows it

needs_java = pytest.mark.skipif(not java_available(), reason="OPSIN needs Java")


@pytest.fixture(scope="module")
def watchlist():  # type: ignore[no-untyped-def]
    return load_bundled(bundled_lists_dir())


@pytest.fixture(scope="module")
def index(watchlist):  # type: ignore[no-untyped-def]
    return build_index(watchlist)


@pytest.mark.parametrize("smiles", SALTS)
def test_parent_is_what_the_fragment_chooser_and_uncharger_give(smiles: str) -> None:
    chooser = rdMolStandardize.LargestFragmentChooser(preferOrganic=True)
    uncharged = rdMolStandardize.Uncharger().uncharge(chooser.choose(Chem.MolFromSmiles(smiles)))
    ident, problem = molecule.identity(smiles)
    assert ident is not None, problem
    assert ident.parent_smiles == Chem.MolToSmiles(uncharged)
    assert ident.inchikey == Chem.MolToInchiKey(uncharged)
    assert ident.declared_inchikey == Chem.MolToInchiKey(Chem.MolFromSmiles(smiles))


def test_parent_of_pubchem_mixtures_and_salts_is_the_choosers() -> None:
    from chemicals.identifiers import pubchem_db

    pubchem_db.finish_loading()
    several = sorted({m.smiles for m in pubchem_db.CAS_index.values() if "." in m.smiles})
    chooser = rdMolStandardize.LargestFragmentChooser(preferOrganic=True)
    uncharger = rdMolStandardize.Uncharger()
    compared = 0
    for smiles in random.Random(20261202).sample(several, 400):
        mol = Chem.MolFromSmiles(smiles)
        ident, _ = molecule.identity(smiles)
        if mol is None or ident is None:
            continue
        compared += 1
        assert ident.parent_smiles == Chem.MolToSmiles(uncharger.uncharge(chooser.choose(mol)))
    assert compared > 350


def test_no_inchikey_is_computed_for_a_composition_nothing_listed_has(index) -> None:  # type: ignore[no-untyped-def]
    ident, _ = molecule.identity("CCCCCCCCCCCCCCCC(=O)OC")  # methyl palmitate, C17O2
    assert ident is not None and ident.composition == "C17O2"
    assert ident.composition not in index.compositions
    found = match_structures(
        Declared(None, structures=(StructureId("x", "pubchem", ident),)), index
    )
    assert found == []
    assert "inchikey" not in ident._memo  # the expensive layer was never needed


def test_a_listed_salt_still_matches_its_parent(index) -> None:  # type: ignore[no-untyped-def]
    ident, _ = molecule.identity("Cl.CNC(C)C(O)c1ccccc1")
    assert ident is not None
    declared = Declared(None, structures=(StructureId("x", "pubchem", ident, "ephedrine HCl"),))
    kinds = {(e.kind, e.substance_key) for e in match_structures(declared, index)}
    assert ("structure-parent", "ephedrine") in kinds


def test_parents_pushed_out_of_the_live_few_are_made_again_alike() -> None:
    own, _ = molecule.identity("CC(=O)Cc1ccc2c(c1)OCO2")
    salt, _ = molecule.identity("Cl.CNC(C)C(O)c1ccccc1")
    assert own is not None and salt is not None
    salt_parent = Chem.MolToSmiles(salt.parent)
    for i in range(300):  # push both out of the few live molecules kept
        molecule.identity("C" * (i + 2))
    assert Chem.MolToSmiles(own.parent) == own.parent_smiles == "CC(=O)Cc1ccc2c(c1)OCO2"
    assert Chem.MolToSmiles(salt.parent) == salt_parent == "CNC(C)C(O)c1ccccc1"
    assert salt.declared_inchikey == Chem.MolToInchiKey(Chem.MolFromSmiles("Cl.CNC(C)C(O)c1ccccc1"))
    assert salt.declared_inchikey != salt.inchikey


def test_a_pickled_identity_travels_as_its_keys_and_is_parsed_only_when_needed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What a forked worker sends back: the SMILES, counts and computed InChIKeys, not the
    molecule; the copy answers the same without parsing, and has the same parent."""
    import pickle

    salt, _ = molecule.identity("Cl.CNC(C)C(O)c1ccccc1")
    assert salt is not None
    keys = (salt.inchikey, salt.declared_inchikey, salt.parent_smiles)
    parsed: list[str] = []
    real_parse = molecule.parse_smiles
    monkeypatch.setattr(molecule, "parse_smiles", lambda s: parsed.append(s) or real_parse(s))
    copy = pickle.loads(pickle.dumps(salt))
    assert (copy.inchikey, copy.declared_inchikey, copy.parent_smiles) == keys
    assert (copy.composition, copy.heavy_atoms, copy.n_fragments) == ("C10N1O1", 13, 2)
    assert molecule.same_parent(copy, salt) and parsed == []
    assert Chem.MolToSmiles(copy.parent) == "CNC(C)C(O)c1ccccc1"  # made again when asked


def test_the_structures_forked_workers_identified_come_back_to_the_parent(
    watchlist,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    """A later chunk's workers are forked from the parent: with the first chunk's structures
    in its memo they do not parse them again. Results are the serial ones."""
    from precursorwatch.run import workers

    plain = [f"Polymer resin grade {i}" for i in range(260)]  # enough to fork workers
    path = tmp_path / "m.csv"
    pd.DataFrame({"description": ["benzyl alcohol", "cyclohexanone", *plain]}).to_csv(path)
    one, two = io.StringIO(), io.StringIO()
    stream_screen(path, Screener(watchlist, use_opsin=False), sinks=[CsvSink(one)])
    forked = Screener(watchlist, use_opsin=False, workers=2)
    stream_screen(path, forked, sinks=[CsvSink(two)])
    assert one.getvalue() == two.getvalue()
    found = [s.identity for s in forked.structures.values() if s.identity is not None]
    for smiles in ("OCc1ccccc1", "O=C1CCCCC1"):
        ident, _ = molecule.identity(smiles)
        assert ident is not None and any(molecule.same_parent(ident, f) for f in found)
    # they came from the workers, pickled: only their keys, none of what matching kept
    assert workers.can_fork() and found
    assert all(set(f._memo) <= molecule._PORTABLE_MEMOS for f in found)


def test_a_structure_declared_twice_is_matched_once_per_index(watchlist) -> None:  # type: ignore[no-untyped-def]
    """By name and by CAS number: the second declaration takes the structure matchers'
    findings from the first (kept on the identity), worded for itself; another index of the
    same lists finds them again on its own."""
    ketal = "CC1(Cc2ccccc2)OCCO1"  # P2P ethylene ketal: a designer precursor of P2P
    ident, _ = molecule.identity(ketal)
    assert ident is not None
    by_name = StructureId(ketal, "name", ident, "P2P ketal")
    by_cas = StructureId(ketal, "pubchem", ident, "CAS 4362-18-3")
    runs: list[str] = []
    real = molecule.Identity._standardised

    def counted(self: molecule.Identity) -> Chem.Mol:
        if self._smiles == ketal:  # not the listed substances the index derives tables from
            runs.append(self._smiles)
        return real(self)

    found = []
    index = build_index(watchlist)  # its own: no other test has matched anything with it
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(molecule.Identity, "_standardised", counted)
        for s, link in ((by_name, "O"), (by_cas, "N")):
            for i in range(300):  # push the parent out of the few live molecules kept, with
                # SMILES no other test made (an identity already cached keeps nothing live)
                molecule.identity("C" * (i // 20 + 1) + link + "C" * (i % 20 + 1))
            declared = Declared(None, structures=(s,))
            found.append(
                [
                    (e.kind, e.substance_key, e.score)
                    for matcher in (match_structures, match_derivative, match_similar)
                    for e in matcher(declared, index)
                ]
            )
        assert runs == [ketal]  # only the first declaration needed the parent again
        assert found[0] == found[1] and found[0][0][:2] == ("derivative", "1-phenyl-2-propanone")
        other = build_index(watchlist)
        again = [(e.kind, e.substance_key, e.score) for e in match_derivative(declared, other)]
        assert runs == [ketal, ketal] and again == [f for f in found[0] if f[0] == "derivative"]


@needs_java
def test_descriptions_finished_before_opsin_answers_are_the_same(index) -> None:  # type: ignore[no-untyped-def]
    texts = [SYSTEMATIC, "Toluene 99 %", "Acetone, technical grade", "Sodium chloride"]
    whole = identify_descriptions(texts, index)
    first = first_pass(texts, index)
    waiting = [t for t in texts if first.waits_for_opsin(t)]
    assert waiting == [SYSTEMATIC]
    early = finish(first, [t for t in texts if t not in waiting], index, {})
    late = finish(first, waiting, index, *run_opsin(first, use_opsin=True, timeout_s=60))
    assert {**early, **late} == whole
    assert whole[SYSTEMATIC].components[0].smiles_via == "opsin"


@needs_java
def test_forked_workers_with_opsin_give_the_serial_results(watchlist, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    names = [f"Ethyl {n}-oxo{'pent' if n % 2 else 'hex'}anoate" for n in range(2, 6)]
    plain = [f"Polymer resin grade {i}" for i in range(260)]  # enough to fork workers
    df = pd.DataFrame({"description": [SYSTEMATIC, *names, *plain, SYSTEMATIC]})
    path = tmp_path / "m.csv"
    df.to_csv(path, index=False)
    one, two = io.StringIO(), io.StringIO()
    stream_screen(path, Screener(watchlist), sinks=[CsvSink(one)])
    forked = Screener(watchlist, workers=2)
    stream_screen(path, forked, sinks=[CsvSink(two)])
    assert one.getvalue() == two.getvalue()
    out = pd.read_csv(io.StringIO(two.getvalue()), dtype=str, keep_default_na=False)
    assert out.loc[0, "flagged"] == "true" and out.loc[0, "match_type"] == "derivative"
    assert out.loc[0, "matched_key"] == "1-phenyl-2-propanone"
    described = forked._description(SYSTEMATIC)
    assert described is not None and described.components[0].smiles_via == "opsin"


def test_forked_parts_shrink_so_workers_end_together() -> None:
    from precursorwatch.run.workers import part_sizes

    for buckets, workers in ((128, 2), (256, 4), (7, 3), (1, 2)):
        sizes = part_sizes(buckets, workers)
        assert sum(sizes) == buckets and sizes == sorted(sizes, reverse=True)
        assert sizes[-1] == 1 and sizes[0] <= -(-buckets // (2 * workers))


def test_packaging_variants_of_a_name_go_to_one_part() -> None:
    from precursorwatch.run.workers import group_key

    variants = ["Acetone", "acetone 99 %", "ACETONE, in 200 L drums", "Acetone 25 kg bags",
                "acetone (reagent grade)", "Acetone; technical"]  # fmt: skip
    assert {group_key(v) for v in variants} == {"acetone"}
    # other chemicals, and names whose commas or brackets are part of the name, stay apart
    others = ["toluene", "2,4-D", "(R)-ephedrine", "(S)-ephedrine", "BRN 1234567", "BRN 7654321"]
    assert len({group_key(v) for v in others}) == len(others)


def test_judging_leaves_no_reference_cycles(watchlist) -> None:  # type: ignore[no-untyped-def]
    # forked workers judge with the cyclic collector off (workers._take_slot): what judging
    # drops must all be freed by reference counting
    import gc

    screener = Screener(watchlist, use_opsin=False)
    texts = ["Acetone, technical grade", "Ephedrine hydrochloride", "Toluene / xylene 50 %",
             "P2P ethylene ketal", "sodium chloride", "no such chemical qq", *SALTS]  # fmt: skip
    keys = [(t, cas, "2914.31", "") for t in texts for cas in ("", "67-64-1", "50-00-0")]
    gc.collect()
    gc.disable()
    try:
        judged = screener.identify_and_judge(keys, texts, recall=False)
        assert len(judged.templates) == len(keys)
        del judged
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_a_template_keeps_every_field_of_the_result_but_its_evidence(watchlist) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import fields, replace

    from precursorwatch.run.judged import template_of

    (result,) = Screener(watchlist, use_opsin=False).screen_lines(
        [DeclarationLine(1, "L1", "Ephedrine hydrochloride 99 %", "50-98-6", "2939.41")]
    )
    result = replace(result, warnings=("a repaired field",))
    assert all(getattr(result, f.name) != f.default for f in fields(result))  # all set
    bare, evidence = template_of(result)
    assert bare == replace(result, evidence=())
    assert json.loads(evidence)[0]["substance_key"] == result.matched_key
