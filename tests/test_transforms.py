"""Each designer-precursor transform parses and does its job on its textbook example."""

from __future__ import annotations

import pytest
from rdkit import Chem

from precursorwatch.chem import molecule
from precursorwatch.chem.reactions import (
    MAX_HEAVY_ATOMS,
    apply_transform,
    compile_reaction,
    derivatives,
    kept_core,
    may_lose_protecting_group,
    transform_smiles,
)
from precursorwatch.chem.transforms import MASKED_TARGETS, TRANSFORMS


def canon(smiles: str) -> str:
    return Chem.MolToSmiles(Chem.MolFromSmiles(smiles))


def test_names_are_unique_and_documented() -> None:
    names = [t.name for t in TRANSFORMS]
    assert len(names) == len(set(names))
    for t in TRANSFORMS:
        assert t.note.strip() and t.citation.strip(), t.name
        assert t.example and t.product, t.name


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda t: t.name)
def test_transform_gives_its_textbook_product(transform) -> None:  # type: ignore[no-untyped-def]
    assert compile_reaction(transform.smarts) is not None
    assert canon(transform.product) in apply_transform(transform, transform.example)


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda t: t.name)
def test_transform_makes_no_bond_and_adds_only_oxygens_on_carbon(transform) -> None:  # type: ignore[no-untyped-def]
    # what kept_core (and the gate before the transforms) relies on
    rxn = compile_reaction(transform.smarts)
    assert rxn is not None
    reactant = rxn.GetReactantTemplate(0)
    mapped = {a.GetAtomMapNum(): a for a in reactant.GetAtoms() if a.GetAtomMapNum()}
    for product in rxn.GetProducts():
        for atom in product.GetAtoms():
            if atom.GetAtomMapNum():
                old = mapped[atom.GetAtomMapNum()]
                assert atom.GetAtomicNum() in (0, old.GetAtomicNum()), transform.name
            else:  # a new oxygen on a carbon: it stays terminal through any later step
                assert atom.GetAtomicNum() == 8 and atom.GetDegree() == 1, transform.name
                (on,) = atom.GetNeighbors()
                assert on.GetAtomMapNum(), transform.name
                assert mapped[on.GetAtomMapNum()].GetAtomicNum() == 6, transform.name
        for bond in product.GetBonds():
            a, b = bond.GetBeginAtom(), bond.GetEndAtom()
            if a.GetAtomMapNum() and b.GetAtomMapNum():
                ia, ib = mapped[a.GetAtomMapNum()].GetIdx(), mapped[b.GetAtomMapNum()].GetIdx()
                assert reactant.GetBondBetweenAtoms(ia, ib) is not None, transform.name


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda t: t.name)
def test_products_keep_the_core_of_their_reactant(transform) -> None:  # type: ignore[no-untyped-def]
    reactant = Chem.MolFromSmiles(transform.example)
    for smiles in apply_transform(transform, transform.example):
        core = Chem.MolFromSmarts(kept_core(Chem.MolFromSmiles(smiles)))
        assert reactant.HasSubstructMatch(core), (transform.name, smiles)
    if transform.protecting_group:
        assert may_lose_protecting_group(reactant), transform.name


def test_kept_core_is_the_largest_part_without_terminal_oxygens() -> None:
    # acetic anhydride: the oxygen between the two acyl groups stays, the two =O go
    core = kept_core(Chem.MolFromSmiles("CC(=O)OC(C)=O"))
    assert core == "[#6]~[#6]~[#8]~[#6]~[#6]"
    anhydride = Chem.MolFromSmarts(core)
    assert Chem.MolFromSmiles("CC(=O)OC(=O)CC").HasSubstructMatch(anhydride)
    assert not Chem.MolFromSmiles("CC(=O)CC(=O)C").HasSubstructMatch(anhydride)  # no C-O-C
    assert kept_core(Chem.MolFromSmiles("O=O")) == ""
    core = kept_core(Chem.MolFromSmiles("CC(=O)Cc1ccccc1"))  # P2P: bonds of any order
    assert Chem.MolFromSmiles("CC(O)=Cc1ccccc1").HasSubstructMatch(Chem.MolFromSmarts(core))
    assert not may_lose_protecting_group(Chem.MolFromSmiles("CC(=O)Cc1ccccc1"))
    # safrole's ring oxygens are between two heavy atoms: part of its core
    assert kept_core(Chem.MolFromSmiles("C=CCc1ccc2OCOc2c1")).count("[#8]") == 2


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda t: t.name)
def test_transform_leaves_its_product_alone(transform) -> None:  # type: ignore[no-untyped-def]
    # the product of a step is not a reactant of the same step (no endless loops)
    again = apply_transform(transform, transform.product)
    assert canon(transform.product) not in again


def test_masked_targets_parse() -> None:
    for smiles in MASKED_TARGETS:
        assert molecule.identity(smiles)[0] is not None, smiles


def test_two_step_paths_are_named_in_order() -> None:
    by_key = {p.smiles: p.steps for p in transform_smiles("CCOC(=O)C1(C)OC1c1ccccc1")}
    assert by_key[canon("CC(=O)Cc1ccccc1")] == ("ester hydrolysis", "glycidic acid decarboxylation")
    assert by_key[canon("CC1(C(=O)O)OC1c1ccccc1")] == ("ester hydrolysis",)


def test_strawberry_aldehyde_decarboxylates_to_2_phenylpropanal_not_p2p() -> None:
    products = {p.smiles for p in transform_smiles("CCOC(=O)C1OC1(C)c1ccccc1")}
    assert canon("CC(C=O)c1ccccc1") in products
    assert canon("CC(=O)Cc1ccccc1") not in products


def test_protecting_groups_are_counted() -> None:
    result = derivatives("O=C1CCN(CC1)C(=O)OCc1ccccc1")  # 1-Cbz-4-piperidone
    piperidone = next(p for p in result.products if p.smiles == canon("O=C1CCNCC1"))
    assert result.heavy_atoms == 17 and piperidone.protecting_atoms == 10


def test_bounded_work_and_bad_input() -> None:
    assert transform_smiles("not a smiles") == []
    big = "CCOC(=O)" + "C" * (MAX_HEAVY_ATOMS + 5)
    assert transform_smiles(big) == []
    assert derivatives("???").products == ()
    assert compile_reaction("this is not a reaction") is None
