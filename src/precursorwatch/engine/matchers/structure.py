"""Structure evidence: identical parent, salt/hydrate/stereo parent, family membership."""

from __future__ import annotations

from functools import partial

from precursorwatch.chem import molecule
from precursorwatch.engine.index import ListIndex
from precursorwatch.engine.matchers.base import Declared, StructureId, describe_structure
from precursorwatch.models import Evidence

#: Origins of structures declared by InChI or InChIKey: their evidence says which layer agreed.
_INCHI_ORIGINS = frozenset({"inchi", "inchikey"})


def _layer(s: StructureId, agreed: str) -> str:
    """Which identity layer of a structure declared by InChI or InChIKey agreed with the listed
    one (``agreed``: full, parent or connectivity); '' for a structure declared otherwise."""
    if s.origin not in _INCHI_ORIGINS or s.identity is None:
        return ""
    if agreed == "full":
        return ", all layers of its InChIKey agreeing"
    if agreed == "parent":
        return ", the InChIKey of its main organic part agreeing"
    return (
        ", only its connectivity layer agreeing (the InChI main layer, InChIKey first block "
        f"{s.identity.skeleton})"
    )


def match_structures(declared: Declared, index: ListIndex) -> list[Evidence]:
    """``structure-identical``/``structure-parent`` evidence for every structure declared.

    Identical: the same full InChIKey as declared (one fragment). Parent: the standardised
    parent (largest organic fragment, neutralised) has the listed InChIKey (a salt or hydrate),
    or only the connectivity block agrees (a stereoisomer), or the parent contains a family
    entry's pattern (e.g. any ester of BMK glycidic acid).
    """
    found: list[Evidence] = []
    for s in declared.structures:
        ident = s.identity
        if ident is None:
            continue
        share = s.share
        same_key = index.keys_by_inchikey(ident)
        for key in sorted(same_key):
            name = index.substance(key).name
            if ident.n_fragments == 1 and ident.declared_inchikey == ident.inchikey:
                found.append(
                    Evidence(
                        "structure-identical",
                        key,
                        1.0,
                        f"{describe_structure(s)} is {name}{_layer(s, 'full')}",
                        index.list_codes(key),
                        s.component,
                        share,
                        s.smiles,
                    )
                )
            else:
                found.append(
                    Evidence(
                        "structure-parent",
                        key,
                        0.93,
                        f"{describe_structure(s)} is a salt or hydrate of {name}"
                        f"{_layer(s, 'parent')}",
                        index.list_codes(key),
                        s.component,
                        share,
                        s.smiles,
                    )
                )
        if not any(e.substance_key in same_key for e in found):
            for key in sorted(index.keys_by_skeleton(ident)):
                name = index.substance(key).name
                found.append(
                    Evidence(
                        "structure-parent",
                        key,
                        0.9,
                        f"{describe_structure(s)} is another spatial form (a stereoisomer) of "
                        f"{name}{_layer(s, 'connectivity')}",
                        index.list_codes(key),
                        s.component,
                        share,
                        s.smiles,
                    )
                )
        if s.known is not None and not found:
            # Inorganics (permanganate, acids, iodine) have no structure in the lists: the
            # declared structure's own InChIKey, through the PubChem table, gives their CAS.
            for hit in index.by_cas.get(s.known.cas, []):
                name = index.substance(hit.key).name
                found.append(
                    Evidence(
                        "structure-identical",
                        hit.key,
                        0.97,
                        f"{describe_structure(s)} is {s.known.name} (CAS {s.known.cas}), "
                        f"listed as {name}",
                        index.list_codes(hit.key),
                        s.component,
                        share,
                        s.smiles,
                    )
                )
        members = index.of_structure("families", ident, partial(_family_flags, ident, index))
        for family, member in zip(index.families, members, strict=True):
            key = family.entry.substance_key
            if any(e.substance_key == key for e in found):
                continue
            if member:
                what = family.entry.family_name or f"the family of {index.substance(key).name}"
                found.append(
                    Evidence(
                        "structure-parent",
                        key,
                        0.9,
                        f"{describe_structure(s)} is one of the {what}",
                        index.list_codes(key),
                        s.component,
                        share,
                        s.smiles,
                    )
                )
    return found


def _family_flags(ident: molecule.Identity, index: ListIndex) -> tuple[bool, ...]:
    """For each family of ``index``, whether ``ident``'s parent contains its pattern."""
    return molecule.substructure_flags(ident.parent, tuple(f.smarts for f in index.families))
