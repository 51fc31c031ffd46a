"""Designer-precursor transforms as data: named reaction SMARTS, each with a note and a citation.

A *designer precursor* is an unscheduled chemical that becomes a scheduled one in one or two
simple steps (hydrolysis, decarboxylation, deprotection). Each :class:`Transform` below is one
such step written as an RDKit reaction SMARTS with a single reactant template; the product
template keeps only the part of the molecule that matters (the by-products — water, CO2,
alcohols, toluene, isobutene — are dropped). :mod:`precursorwatch.chem.reactions` applies them.

Each transform carries a textbook example (``example`` -> ``product``, SMILES) that the tests
run, so a SMARTS that stops doing its job fails a test rather than silently missing seizures.

Citations: UNODC/INCB precursor reports (INCB *Precursors* annual report 2019-2024, chapters on
designer precursors), the EU Delegated Regulations adding designer precursors (2020/1737:
BMK/PMK glycidates, APAA, MAPA; 2022/1518: EAPA, MAMDPA; 2024/1331: glycidic esters, IMDPAM),
DEA List I rules (86 FR 24703 PMK glycidates and APAA; 88 FR 21902 4-piperidone and its
acetals, amides and carbamates; 85 FR 20822 benzylfentanyl and 4-AP) and named reactions from
standard textbooks (March's Advanced Organic Chemistry; Greene's Protective Groups).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Transform:
    """One conversion step: a reaction SMARTS with one reactant template.

    ``name`` is what an officer reads ("ester hydrolysis"); ``note`` says the chemistry in one
    line; ``citation`` where the step is documented as a masking route or a textbook reaction.
    ``example`` and ``product`` are a textbook reactant and the product the step must give.
    ``protecting_group``: the atoms the step removes are a standard protecting group (Boc,
    Cbz, benzyl), so they do not count against the listed product's share of the molecule.
    """

    name: str
    smarts: str
    note: str
    citation: str
    example: str = ""
    product: str = ""
    protecting_group: bool = False


_INCB = "INCB, Precursors report 2021-2023, chapter on designer precursors"

#: Every transform, in the order they are tried (order only matters for naming the path).
TRANSFORMS: tuple[Transform, ...] = (
    Transform(
        "ester hydrolysis",
        "[#6:1][CX3:2](=[O:3])[OX2:4][#6:5]>>[#6:1][C:2](=[O:3])[OH1].[OH1][#6:5]",
        "saponification of a carboxylic ester to the acid (and the alcohol)",
        "EU Delegated Reg. 2022/1518 (EAPA) and 2024/1331 (glycidic esters); March, ester "
        "hydrolysis",
        "CCOC(=O)C(C)(O1)C1c1ccccc1",
        "OC(=O)C(C)(O1)C1c1ccccc1",
    ),
    Transform(
        "acyl halide hydrolysis",
        "[#6:1][CX3:2](=[O:3])[Cl,Br,I]>>[#6:1][C:2](=[O:3])[OH1]",
        "an acid chloride or bromide reacts with water to the carboxylic acid",
        "March, hydrolysis of acyl halides; INCB Precursors report (phenylacetyl chloride)",
        "ClC(=O)Cc1ccccc1",
        "OC(=O)Cc1ccccc1",
    ),
    Transform(
        "glycidic acid decarboxylation",
        "[OX2H1,OX1-][CX3](=O)[C:1]1[O:2][C:3]1>>[C:1](=[O:2])[C:3]",
        "a Darzens glycidic acid loses CO2 and opens to the carbonyl compound (BMK/PMK route)",
        "EU Delegated Reg. 2020/1737 and 2024/1331 (BMK/PMK glycidic acids and esters); "
        "UNODC World Drug Report 2022; Darzens condensation",
        "CC1(OC1c1ccccc1)C(=O)O",
        "CC(=O)Cc1ccccc1",
    ),
    Transform(
        "beta-keto acid decarboxylation",
        "[CX3:1](=[O:2])[CX4:3][CX3](=O)[OX2H1,OX1-]>>[C:1](=[O:2])[C:3]",
        "a 3-oxo acid (from APAA, MAPA, EAPA, DEPAPD) loses CO2 on warming to the ketone",
        "EU Delegated Reg. 2020/1737 (APAA, MAPA) and 2022/1518 (EAPA); acetoacetic ester "
        "synthesis",
        "CC(=O)C(C(=O)O)c1ccccc1",
        "CC(=O)Cc1ccccc1",
    ),
    Transform(
        "nitrile hydrolysis",
        "[C:1]#[N]>>[C:1](=O)[OH1]",
        "acid hydrolysis of a nitrile to the carboxylic acid",
        f"{_INCB} (APAAN to P2P); March, nitrile hydrolysis",
        "N#CCc1ccccc1",
        "OC(=O)Cc1ccccc1",
    ),
    Transform(
        "nitrile hydration",
        "[C:1]#[N:2]>>[C:1](=O)[N:2]",
        "partial hydrolysis of a nitrile to the primary amide (APAAN to APAA)",
        "EU Delegated Reg. 2020/1737 (APAA); March, nitrile hydration",
        "CC(=O)C(C#N)c1ccccc1",
        "CC(=O)C(C(N)=O)c1ccccc1",
    ),
    Transform(
        "amide hydrolysis",
        "[#6:1][CX3:2](=[O:3])!@[NX3;!$(N[CX3](=O)[OX2]):4]>>[#6:1][C:2](=[O:3])[OH1].[N:4]",
        "hydrolysis of an open-chain amide to the acid and the amine",
        "DEA 88 FR 21902 (amides of 4-piperidone), 85 FR 20822 (amides of 4-AP); March, "
        "amide hydrolysis",
        "CC(=O)N1CCC(=O)CC1",
        "O=C1CCNCC1",
    ),
    Transform(
        "Boc removal",
        "[NX3:1][CX3](=O)[OX2][CX4]([CH3])([CH3])[CH3]>>[N:1]",
        "acid cleavage of a tert-butyl carbamate (Boc) to the free amine",
        "UN Table I (1-boc-4-AP, 1-boc-4-piperidone, CND 65/5, 67/7); Greene, Protective Groups",
        "CC(C)(C)OC(=O)N1CCC(=O)CC1",
        "O=C1CCNCC1",
        protecting_group=True,
    ),
    Transform(
        "carbamate cleavage",
        "[NX3:1][CX3](=O)[OX2][#6]>>[N:1]",
        "hydrolysis or hydrogenolysis (Cbz) of an N-alkoxycarbonyl group to the free amine",
        "DEA 88 FR 21902 (carbamates of 4-piperidone), 88 FR 74352 (4-AP carbamates); Greene",
        "O=C1CCN(CC1)C(=O)OCc1ccccc1",
        "O=C1CCNCC1",
        protecting_group=True,
    ),
    Transform(
        "N-debenzylation",
        "[NX3;!$(N[CX3]=O):1]-!@[CH2]-c1ccccc1>>[N:1]",
        "catalytic hydrogenolysis (Pd/C, H2) of an N-benzyl group to the secondary amine",
        f"{_INCB} (1-benzyl-4-piperidone, benzylfentanyl); Greene, Protective Groups",
        "O=C1CCN(Cc2ccccc2)CC1",
        "O=C1CCNCC1",
        protecting_group=True,
    ),
    Transform(
        "ketal hydrolysis",
        "[CX4:1](-!@[#6:2])(-!@[#6:3])(-[OX2][#6])-[OX2][#6]>>[#6:2][C:1](=O)[#6:3]",
        "acid hydrolysis of a ketal (dimethyl ketal, 1,3-dioxolane) back to the ketone",
        f"{_INCB} (P2P and PMK ketals); DEA 88 FR 21902 (acetals of 4-piperidone)",
        "CC1(Cc2ccccc2)OCCO1",
        "CC(=O)Cc1ccccc1",
    ),
    Transform(
        "spiroketal hydrolysis",
        "[CX4;R2:1](-[OX2;R][#6])(-[OX2;R][#6])>>[C:1]=O",
        "acid hydrolysis of a cyclic ketal whose carbon is also in a ring (4-piperidone ketal)",
        "DEA 88 FR 21902 (acetals of 4-piperidone); Greene, 1,3-dioxolanes",
        "C1CC2(CCN1)OCCO2",
        "O=C1CCNCC1",
    ),
    Transform(
        "acetal hydrolysis",
        "[CX4;H1:1](-!@[#6:2])(-[OX2][#6])-[OX2][#6]>>[#6:2][CH1:1]=O",
        "acid hydrolysis of an aldehyde acetal back to the aldehyde",
        "EU Reg. 273/2004 Annex I notes on acetals; Greene, Protective Groups",
        "COC(OC)c1ccc2OCOc2c1",
        "O=Cc1ccc2OCOc2c1",
    ),
    Transform(
        "enol ether hydrolysis",
        "[CX3:1]=[CX3:2]-[OX2][CX4]>>[C:1][C:2]=O",
        "acid hydrolysis of an enol ether to the ketone",
        "March, enol ether hydrolysis",
        "COC(C)=Cc1ccccc1",
        "CC(=O)Cc1ccccc1",
    ),
    Transform(
        "enamine hydrolysis",
        "[CX3:1]=[CX3:2]-[NX3;!$(N[CX3]=O);!$(N=*);!$([N+])]>>[C:1][C:2]=O",
        "aqueous hydrolysis of an enamine to the ketone",
        "March, enamine hydrolysis",
        "CC(=Cc1ccccc1)N1CCCC1",
        "CC(=O)Cc1ccccc1",
    ),
    Transform(
        "oxime hydrolysis",
        "[CX3:1]=[NX2][OX2]>>[C:1]=O",
        "acid hydrolysis of an oxime (or O-alkyl oxime) back to the carbonyl compound",
        f"{_INCB} (P2P oxime); March, oxime hydrolysis",
        "CC(=NO)Cc1ccccc1",
        "CC(=O)Cc1ccccc1",
    ),
    Transform(
        "hydrazone hydrolysis",
        "[CX3:1]=[NX2][NX3]>>[C:1]=O",
        "acid hydrolysis of a hydrazone or semicarbazone back to the carbonyl compound",
        "March, hydrazone hydrolysis",
        "CC(=NNC(N)=O)Cc1ccccc1",
        "CC(=O)Cc1ccccc1",
    ),
    Transform(
        "imine hydrolysis",
        "[CX3:1]=[NX2;!$(N[O,N])][#6]>>[C:1]=O",
        "aqueous hydrolysis of an imine (Schiff base) to the carbonyl compound",
        f"{_INCB} (imines of P2P and of 4-piperidone); March, imine hydrolysis",
        "CC(=NC)Cc1ccccc1",
        "CC(=O)Cc1ccccc1",
    ),
    Transform(
        "bisulfite adduct hydrolysis",
        "[CX4:1]([OX2H1])[SX4](=O)(=O)[OX2H1,OX1-]>>[C:1]=O",
        "a carbonyl-bisulfite adduct releases the ketone or aldehyde with base or acid",
        f"{_INCB} (P2P bisulfite adduct, seized in the EU 2019-2021)",
        "CC(O)(Cc1ccccc1)S(=O)(=O)[O-]",
        "CC(=O)Cc1ccccc1",
    ),
    Transform(
        "gem-diol dehydration",
        "[CX4:1]([OX2H1])[OX2H1]>>[C:1]=O",
        "a carbonyl hydrate (4-piperidone monohydrate) loses water to the ketone",
        "DEA 88 FR 21902 (4-piperidone hydrochloride monohydrate)",
        "OC1(O)CCNCC1",
        "O=C1CCNCC1",
    ),
    Transform(
        "nitroalkene reduction-hydrolysis",
        "[CX3:1]=[CX3:2][N+](=O)[O-]>>[C:1][C:2]=O",
        "Fe/HCl reduction of a 2-nitropropene to the oxime and hydrolysis to the ketone",
        f"{_INCB} (1-phenyl-2-nitropropene to P2P, MDP2NP to PMK)",
        "CC(=Cc1ccccc1)[N+](=O)[O-]",
        "CC(=O)Cc1ccccc1",
    ),
    Transform(
        "Nef reaction",
        "[CX4;H1,H2:1][N+](=O)[O-]>>[C:1]=O",
        "a secondary nitroalkane gives the ketone (Nef reaction)",
        "Nef reaction (March); INCB precursors report (phenyl-2-nitropropane)",
        "CC(Cc1ccccc1)[N+](=O)[O-]",
        "CC(=O)Cc1ccccc1",
    ),
    Transform(
        "N,O-acetal hydrolysis",
        "[CX4;R:1]1(-[#1,#6:6])[OX2:2][#6:3][#6:4][NX3:5]1>>[C:1](-[*:6])=O.[OH1:2][#6:3][#6:4][N:5]",
        "an oxazolidine (ephedrine + aldehyde) hydrolyses back to the amino alcohol",
        f"{_INCB} (ephedrine oxazolidines)",
        "CC1C(c2ccccc2)OC(C)N1C",
        "CNC(C)C(O)c1ccccc1",
    ),
)

#: Structures of the listed precursors that are masked in practice (seized as designer
#: precursors, or the target of a documented masking route): P2P, PMK, APAAN/APAA/MAPA/EAPA
#: and the glycidic acids, the fentanyl precursors, the ephedrines and the safrole family.
#: Derivative evidence reaching one of these, from a molecule the listed parent carries most
#: of, is high risk; reaching another top-category chemical is medium (phenylacetic acid is
#: left out on purpose: its esters are everyday flavour chemicals, so they are medium, not
#: high); reaching a lower-category one (acetone, piperidine, anthranilic acid) is nothing.
#: Source: INCB Precursors reports 2019-2024 (tables of seized non-scheduled substances).
MASKED_TARGETS: tuple[str, ...] = (
    "CC(=O)Cc1ccccc1",  # P2P / BMK
    "CC(=O)Cc1ccc2c(c1)OCO2",  # PMK / 3,4-MDP-2-P
    "N#CCc1ccccc1",  # benzyl cyanide
    "CC(=O)C(C#N)c1ccccc1",  # APAAN
    "CC(=O)C(C(N)=O)c1ccccc1",  # APAA
    "COC(=O)C(C(C)=O)c1ccccc1",  # MAPA
    "CCOC(=O)C(C(C)=O)c1ccccc1",  # EAPA
    "COC(=O)C(C(C)=O)c1ccc2c(c1)OCO2",  # MAMDPA
    "CC1(C(=O)O)OC1c1ccccc1",  # BMK glycidic acid
    "COC(=O)C1(C)OC1c1ccccc1",  # BMK methyl glycidate
    "CC1(C(=O)O)OC1c1ccc2c(c1)OCO2",  # PMK glycidic acid
    "COC(=O)C1(C)OC1c1ccc2c(c1)OCO2",  # PMK methyl glycidate
    "O=C1CCNCC1",  # 4-piperidone
    "CC(C)(C)OC(=O)N1CCC(=O)CC1",  # 1-boc-4-piperidone
    "c1ccc(NC2CCNCC2)cc1",  # 4-AP
    "CC(C)(C)OC(=O)N1CCC(Nc2ccccc2)CC1",  # 1-boc-4-AP
    "O=C1CCN(CCc2ccccc2)CC1",  # NPP
    "c1ccc(CCN2CCC(Nc3ccccc3)CC2)cc1",  # ANPP
    "CCC(=O)N(c1ccccc1)C1CCNCC1",  # norfentanyl
    "CNC(C)C(O)c1ccccc1",  # ephedrine / pseudoephedrine (skeleton)
    "CC(N)C(O)c1ccccc1",  # norephedrine / norpseudoephedrine
    "C=CCc1ccc2c(c1)OCO2",  # safrole
    "CC=Cc1ccc2c(c1)OCO2",  # isosafrole
    "O=Cc1ccc2c(c1)OCO2",  # piperonal
    "CC(=O)Nc1ccccc1C(=O)O",  # N-acetylanthranilic acid
)
