"""A generated year of trade: planted-kit recall and the alert rate on legitimate consignees.

Usage: ``.venv/bin/python bench/trade.py [--consignees 5000] [--kits 150] [--seed 7] [--no-engine]``

* Legitimate consignees (``--consignees``) get an industry profile (paint makers buying toluene,
  acetone and MEK; pharmaceutical firms buying ephedrine, pseudoephedrine and solvents; flavour
  houses buying piperonal and benzaldehyde; universities buying small bottles of many things;
  distributors buying broad portfolios …, each product with the probability that such a firm
  buys it in a year, its order frequency and pack sizes) and a year of shipments (2026), under
  the name spelled as manifests spell it (case, punctuation and legal-form variants).
* Planted kits (``--kits``): consignees that receive the roles of one alerting route of
  ``routes.yaml`` (cycled), in quantities of the route's proportions times a noise factor
  (0.6-2.5), each role split into 1-3 shipments over 10-150 days, with decoy goods, under two or
  three spellings of the name; the cocaine-processing kits go to Bolivia, Colombia or Peru.
* Every distinct description is screened by the real engine (``Screener.screen_frame``; with
  ``--no-engine`` the catalogue's keys stand in), then ``run_checks`` runs on the whole year
  (today = 2026-12-31, window 180 days, the lists' and the routes file's thresholds). Parties
  over an annual threshold are registered for it with probability 0.95 (legitimate) or 0
  (kits), as the competent authority's register would say.
* Recall: a kit counts when a route alert of the planted route's drug names its party. Alert
  rate: legitimate parties with at least one alert of any kind, over all legitimate parties.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from precursorwatch.intel.alerts import (  # noqa: E402
    densities_from_watchlist,
    limits_from_watchlist,
    merge_limits,
    run_checks,
)
from precursorwatch.intel.consignee import fold_name  # noqa: E402
from precursorwatch.intel.routes import RouteBook, load_routes  # noqa: E402
from precursorwatch.lists.load import load_bundled  # noqa: E402
from precursorwatch.models import Watchlist  # noqa: E402

YEAR = 2026
TODAY = date(YEAR, 12, 31)
DRUM, IBC, TANK, BAG = (25.0, 200.0), (1000.0,), (20000.0,), (25.0, 50.0)

#: Product -> (descriptions, unit, bulk pack sizes). A product is a substance key, a routes
#: agent id or a plain commodity; descriptions are what manifests write.
PRODUCTS: dict[str, tuple[tuple[str, ...], str, tuple[float, ...]]] = {
    "acetone": (
        ("Acetone", "ACETONE TECHNICAL", "Aceton", "Acetone 99.5%"),
        "L",
        (*DRUM, *IBC, *TANK),
    ),
    "methyl-ethyl-ketone": (
        ("Methyl ethyl ketone", "MEK", "2-Butanone", "Butanon"),
        "L",
        (*DRUM, *IBC),
    ),
    "toluene": (("Toluene", "TOLUOL", "Toluene nitration grade"), "L", (*DRUM, *IBC, *TANK)),
    "ethyl-ether": (("Diethyl ether", "Ethyl ether"), "L", DRUM),
    "hydrochloric-acid": (
        ("Hydrochloric acid 33%", "Muriatic acid", "Salzsäure 32%"),
        "L",
        (*DRUM, *IBC),
    ),
    "sulphuric-acid": (
        ("Sulphuric acid 98%", "Sulfuric acid", "Schwefelsäure"),
        "L",
        (*DRUM, *IBC, *TANK),
    ),
    "potassium-permanganate": (
        ("Potassium permanganate", "Kaliumpermanganat"),
        "kg",
        (*BAG, 1000.0),
    ),
    "acetic-anhydride": (("Acetic anhydride", "Essigsäureanhydrid"), "L", (*DRUM, *IBC, *TANK)),
    "ephedrine": (("Ephedrine hydrochloride", "Ephedrine HCl BP"), "kg", (5.0, 25.0)),
    "pseudoephedrine": (
        ("Pseudoephedrine hydrochloride", "Pseudoephedrine sulphate"),
        "kg",
        (25.0, 50.0),
    ),
    "iodine": (("Iodine resublimed", "Iodine crystals"), "kg", (25.0, 50.0)),
    "red-phosphorus": (("Red phosphorus", "Phosphorus, red amorphous"), "kg", (25.0, 500.0)),
    "benzaldehyde": (("Benzaldehyde", "Benzaldehyde FCC", "Benzaldehyd"), "kg", (25.0, 200.0)),
    "piperonal": (("Piperonal", "Heliotropin", "Heliotropine crystals"), "kg", (25.0,)),
    "safrole": (("Safrole",), "kg", (200.0,)),
    "isosafrole": (("Isosafrole",), "kg", (25.0,)),
    "phenylacetic-acid": (("Phenylacetic acid",), "kg", (25.0, 500.0)),
    "anthranilic-acid": (("Anthranilic acid", "2-Aminobenzoic acid"), "kg", (25.0, 500.0)),
    "piperidine": (("Piperidine",), "L", (25.0, 200.0)),
    "methylamine": (
        ("Methylamine 40% aqueous solution", "Monomethylamine 40%"),
        "kg",
        (200.0, 1000.0),
    ),
    "nitroethane": (("Nitroethane",), "kg", (25.0, 200.0)),
    "4-piperidone": (("4-Piperidone monohydrate hydrochloride",), "kg", (5.0, 25.0)),
    "gamma-butyrolactone": (("gamma-Butyrolactone", "GBL"), "kg", (200.0, 1000.0)),
    "ergotamine": (("Ergotamine tartrate",), "kg", (0.1, 0.5)),
    "4-methylpropiophenone": (("4'-Methylpropiophenone",), "kg", (25.0, 200.0)),
    "npp": (("N-Phenethyl-4-piperidone",), "kg", (5.0, 25.0)),
    "aniline": (("Aniline", "Aniline oil"), "kg", (200.0, 1000.0)),
    "o-toluidine": (("o-Toluidine",), "kg", (200.0,)),
    "formamide": (("Formamide",), "kg", (25.0, 200.0)),
    "diethylamine": (("Diethylamine",), "kg", (25.0, 150.0)),
    "sodium-borohydride": (("Sodium borohydride",), "kg", (5.0, 25.0)),
    "bromine": (("Bromine",), "kg", (25.0,)),
    "propionyl-chloride": (("Propionyl chloride",), "kg", (25.0, 200.0)),
    "phenethyl-bromide": (("2-Phenylethyl bromide",), "kg", (5.0, 25.0)),
    "phosphoric-acid": (("Phosphoric acid 85%",), "L", (*DRUM, *IBC)),
    "ethyl-acetate": (("Ethyl acetate", "Ethylacetat"), "L", (*DRUM, *IBC)),
    "mibk": (("Methyl isobutyl ketone",), "L", DRUM),
    "p-benzoquinone": (("p-Benzoquinone",), "kg", (25.0,)),
    "xylene": (("Xylene", "Xylol mixed isomers"), "L", (*DRUM, *IBC, *TANK)),
    "butyl-acetate": (("n-Butyl acetate",), "L", (*DRUM, *IBC)),
    "isopropanol": (("Isopropyl alcohol", "IPA 99%"), "L", (*DRUM, *IBC)),
    "ethanol": (("Ethanol 96%", "Ethyl alcohol denatured"), "L", (*DRUM, *IBC, *TANK)),
    "methanol": (("Methanol",), "L", (*DRUM, *IBC, *TANK)),
    "dmf": (("N,N-Dimethylformamide", "DMF"), "L", DRUM),
    "titanium-dioxide": (("Titanium dioxide rutile",), "kg", (25.0, 1000.0)),
    "calcium-carbonate": (("Calcium carbonate powder",), "kg", (25.0, 1000.0)),
    "sodium-hydroxide": (("Sodium hydroxide pearls", "Caustic soda 50%"), "kg", (25.0, 1000.0)),
    "sodium-carbonate": (("Sodium carbonate light",), "kg", (25.0, 1000.0)),
    "citric-acid": (("Citric acid monohydrate",), "kg", (25.0, 1000.0)),
    "hydrogen-peroxide": (("Hydrogen peroxide 35%",), "L", (*DRUM, *IBC)),
    "acetic-acid": (("Acetic acid glacial",), "L", (*DRUM, *IBC)),
    "formic-acid": (("Formic acid 85%",), "L", DRUM),
    "vanillin": (("Vanillin",), "kg", (25.0,)),
    "glycerol": (("Glycerine",), "kg", (250.0, 1000.0)),
    "sodium-nitrite": (("Sodium nitrite",), "kg", (25.0,)),
    "sulphur": (("Sulphur powder",), "kg", (25.0, 1000.0)),
    "zinc-oxide": (("Zinc oxide",), "kg", (25.0,)),
    "ferric-chloride": (("Ferric chloride solution",), "kg", (1000.0,)),
    "aluminium-sulphate": (("Aluminium sulphate",), "kg", (1000.0,)),
    "sodium-hypochlorite": (("Sodium hypochlorite 15%",), "L", IBC),
    "paraformaldehyde": (("Paraformaldehyde",), "kg", (25.0,)),
    "butanediol": (("1,4-Butanediol",), "kg", (200.0,)),
    "nmp": (("N-Methyl-2-pyrrolidone",), "L", DRUM),
    "surfactant": (("Sodium lauryl ether sulphate",), "kg", (200.0, 1000.0)),
    "resin": (("Alkyd resin",), "kg", (200.0, 1000.0)),
}

#: Industry -> (share of consignees, {product: (probability of buying in a year, orders a year)}).
PROFILES: dict[str, tuple[float, dict[str, tuple[float, tuple[int, int]]]]] = {
    "paint maker": (
        14,
        {
            "toluene": (0.8, (4, 12)),
            "xylene": (0.8, (4, 12)),
            "acetone": (0.6, (2, 8)),
            "methyl-ethyl-ketone": (0.5, (2, 8)),
            "butyl-acetate": (0.6, (2, 8)),
            "ethyl-acetate": (0.4, (2, 6)),
            "titanium-dioxide": (0.9, (4, 12)),
            "calcium-carbonate": (0.7, (2, 6)),
            "resin": (0.9, (4, 12)),
            "mibk": (0.1, (1, 4)),
        },
    ),
    "adhesives and inks": (
        6,
        {
            "toluene": (0.6, (2, 8)),
            "methyl-ethyl-ketone": (0.6, (2, 8)),
            "ethyl-acetate": (0.8, (4, 12)),
            "acetone": (0.5, (2, 6)),
            "resin": (0.9, (4, 12)),
            "isopropanol": (0.5, (2, 6)),
        },
    ),
    "pharmaceutical": (
        10,
        {
            "acetone": (0.8, (2, 8)),
            "toluene": (0.5, (2, 6)),
            "hydrochloric-acid": (0.7, (2, 8)),
            "sulphuric-acid": (0.4, (1, 4)),
            "ethanol": (0.8, (2, 8)),
            "methanol": (0.6, (2, 6)),
            "isopropanol": (0.6, (2, 6)),
            "sodium-hydroxide": (0.6, (2, 6)),
            "ephedrine": (0.15, (1, 4)),
            "pseudoephedrine": (0.25, (1, 6)),
            "acetic-anhydride": (0.2, (1, 6)),
            "iodine": (0.05, (1, 3)),
            "phenylacetic-acid": (0.05, (1, 4)),
            "anthranilic-acid": (0.03, (1, 3)),
            "piperidine": (0.05, (1, 3)),
            "methylamine": (0.08, (1, 4)),
            "sodium-borohydride": (0.1, (1, 4)),
            "diethylamine": (0.04, (1, 3)),
            "formamide": (0.03, (1, 3)),
            "potassium-permanganate": (0.05, (1, 3)),
            "benzaldehyde": (0.05, (1, 3)),
            "4-piperidone": (0.02, (1, 2)),
            "4-methylpropiophenone": (0.02, (1, 3)),
            "ergotamine": (0.01, (1, 2)),
            "propionyl-chloride": (0.03, (1, 3)),
            "phenethyl-bromide": (0.01, (1, 2)),
            "aniline": (0.05, (1, 3)),
            "ethyl-ether": (0.1, (1, 3)),
            "bromine": (0.03, (1, 2)),
            "dmf": (0.3, (1, 4)),
            "paraformaldehyde": (0.05, (1, 3)),
        },
    ),
    "flavour and fragrance house": (
        5,
        {
            "benzaldehyde": (0.6, (2, 8)),
            "piperonal": (0.4, (1, 6)),
            "vanillin": (0.8, (2, 8)),
            "ethanol": (0.8, (2, 8)),
            "anthranilic-acid": (0.1, (1, 3)),
            "phenylacetic-acid": (0.1, (1, 3)),
            "acetic-anhydride": (0.1, (1, 4)),
            "nitroethane": (0.005, (1, 2)),
            "methylamine": (0.01, (1, 2)),
            "isosafrole": (0.01, (1, 2)),
            "safrole": (0.005, (1, 2)),
            "glycerol": (0.4, (1, 4)),
        },
    ),
    "agrochemical formulator": (
        5,
        {
            "toluene": (0.6, (2, 8)),
            "xylene": (0.8, (2, 8)),
            "methylamine": (0.2, (1, 6)),
            "aniline": (0.1, (1, 4)),
            "o-toluidine": (0.05, (1, 3)),
            "formamide": (0.05, (1, 3)),
            "safrole": (0.02, (1, 3)),
            "sulphuric-acid": (0.4, (1, 6)),
            "sodium-hydroxide": (0.5, (2, 6)),
            "nitroethane": (0.02, (1, 2)),
            "surfactant": (0.7, (2, 8)),
        },
    ),
    "dye and pigment maker": (
        4,
        {
            "aniline": (0.6, (2, 8)),
            "o-toluidine": (0.3, (1, 6)),
            "anthranilic-acid": (0.15, (1, 4)),
            "sulphuric-acid": (0.8, (2, 8)),
            "hydrochloric-acid": (0.6, (2, 6)),
            "sodium-hydroxide": (0.6, (2, 6)),
            "sodium-nitrite": (0.7, (2, 6)),
            "acetic-anhydride": (0.1, (1, 3)),
            "toluene": (0.3, (1, 4)),
        },
    ),
    "rubber chemicals": (
        2,
        {
            "aniline": (0.5, (2, 6)),
            "o-toluidine": (0.2, (1, 4)),
            "sulphur": (0.8, (2, 8)),
            "zinc-oxide": (0.8, (2, 6)),
            "toluene": (0.3, (1, 4)),
        },
    ),
    "water treatment": (
        8,
        {
            "potassium-permanganate": (0.5, (2, 10)),
            "hydrochloric-acid": (0.6, (2, 8)),
            "sulphuric-acid": (0.5, (2, 8)),
            "ferric-chloride": (0.6, (2, 8)),
            "aluminium-sulphate": (0.6, (2, 8)),
            "sodium-hypochlorite": (0.8, (4, 12)),
            "sodium-hydroxide": (0.6, (2, 8)),
        },
    ),
    "cleaning products": (
        6,
        {
            "gamma-butyrolactone": (0.05, (1, 4)),
            "sodium-hydroxide": (0.8, (2, 8)),
            "surfactant": (0.9, (4, 12)),
            "isopropanol": (0.6, (2, 6)),
            "ethanol": (0.4, (2, 6)),
            "citric-acid": (0.6, (2, 6)),
            "acetone": (0.2, (1, 4)),
        },
    ),
    "food and beverage": (
        8,
        {
            "citric-acid": (0.8, (2, 8)),
            "sodium-hydroxide": (0.5, (2, 6)),
            "ethanol": (0.5, (2, 6)),
            "vanillin": (0.3, (1, 4)),
            "acetic-acid": (0.5, (2, 6)),
            "benzaldehyde": (0.05, (1, 3)),
            "glycerol": (0.4, (1, 4)),
            "sodium-carbonate": (0.5, (1, 4)),
        },
    ),
    "electronics": (
        4,
        {
            "isopropanol": (0.9, (4, 12)),
            "acetone": (0.7, (2, 8)),
            "sulphuric-acid": (0.6, (2, 8)),
            "hydrochloric-acid": (0.5, (2, 6)),
            "hydrogen-peroxide": (0.8, (2, 8)),
            "nmp": (0.4, (1, 4)),
            "gamma-butyrolactone": (0.1, (1, 4)),
            "phosphoric-acid": (0.3, (1, 4)),
        },
    ),
    "plastics": (
        6,
        {
            "toluene": (0.5, (2, 8)),
            "xylene": (0.4, (2, 6)),
            "methyl-ethyl-ketone": (0.4, (2, 6)),
            "acetic-anhydride": (0.1, (2, 12)),
            "red-phosphorus": (0.05, (1, 6)),
            "sulphuric-acid": (0.3, (1, 4)),
            "butanediol": (0.1, (1, 4)),
            "resin": (0.6, (2, 8)),
        },
    ),
    "matches and pyrotechnics": (
        1,
        {"red-phosphorus": (0.8, (2, 6)), "sulphur": (0.6, (2, 6)), "zinc-oxide": (0.3, (1, 3))},
    ),
    "metal finishing": (
        5,
        {
            "hydrochloric-acid": (0.8, (4, 12)),
            "sulphuric-acid": (0.8, (4, 12)),
            "potassium-permanganate": (0.1, (1, 4)),
            "phosphoric-acid": (0.6, (2, 8)),
            "sodium-hydroxide": (0.7, (2, 8)),
            "acetone": (0.3, (1, 4)),
        },
    ),
    "textiles": (
        4,
        {
            "acetic-acid": (0.8, (2, 8)),
            "hydrogen-peroxide": (0.8, (2, 8)),
            "sodium-hydroxide": (0.8, (2, 8)),
            "formic-acid": (0.5, (1, 4)),
            "aniline": (0.05, (1, 3)),
        },
    ),
    "cosmetics": (
        3,
        {
            "ethanol": (0.8, (2, 8)),
            "glycerol": (0.8, (2, 8)),
            "piperonal": (0.05, (1, 3)),
            "benzaldehyde": (0.05, (1, 3)),
            "citric-acid": (0.5, (1, 4)),
            "isopropanol": (0.4, (1, 4)),
        },
    ),
    # Distributors carry the commodities; few carry the specialty amines and nitroalkanes.
    "chemical distributor": (
        5,
        {
            "acetone": (0.7, (2, 10)),
            "methyl-ethyl-ketone": (0.5, (2, 8)),
            "toluene": (0.7, (2, 10)),
            "xylene": (0.6, (2, 10)),
            "hydrochloric-acid": (0.6, (2, 10)),
            "sulphuric-acid": (0.6, (2, 10)),
            "sodium-hydroxide": (0.7, (2, 10)),
            "methanol": (0.6, (2, 10)),
            "ethanol": (0.6, (2, 10)),
            "isopropanol": (0.6, (2, 10)),
            "ethyl-acetate": (0.5, (2, 8)),
            "butyl-acetate": (0.4, (2, 8)),
            "acetic-acid": (0.5, (2, 8)),
            "citric-acid": (0.5, (2, 8)),
            "hydrogen-peroxide": (0.4, (2, 8)),
            "phosphoric-acid": (0.4, (2, 8)),
            "formic-acid": (0.3, (1, 6)),
            "glycerol": (0.4, (1, 6)),
            "sodium-carbonate": (0.5, (1, 6)),
            "potassium-permanganate": (0.3, (1, 6)),
            "ethyl-ether": (0.2, (1, 4)),
            "dmf": (0.3, (1, 6)),
            "acetic-anhydride": (0.15, (1, 6)),
            "mibk": (0.2, (1, 4)),
            "aniline": (0.1, (1, 4)),
            "benzaldehyde": (0.1, (1, 4)),
            "piperonal": (0.05, (1, 3)),
            "methylamine": (0.1, (1, 4)),
            "anthranilic-acid": (0.05, (1, 3)),
            "formamide": (0.05, (1, 3)),
            "diethylamine": (0.05, (1, 3)),
            "o-toluidine": (0.03, (1, 3)),
            "nitroethane": (0.02, (1, 3)),
        },
    ),
    "licensed opioid manufacturer": (
        0.1,
        {
            "npp": (0.8, (1, 4)),
            "aniline": (0.8, (1, 4)),
            "propionyl-chloride": (0.8, (1, 4)),
            "sodium-borohydride": (0.5, (1, 3)),
            "acetone": (0.8, (2, 6)),
        },
    ),
}
#: Universities and research institutes (4 % of consignees) buy each laboratory product with
#: probability 0.25, 1-3 times a year, in catalogue packs: specialty chemicals in 25-500 g,
#: solvents, acids and other commodities in 1-2.5 L (or kg) units, up to 4 at a time.
LAB_STOCK = tuple(p for p in PRODUCTS if p not in {"resin", "surfactant", "npp", "safrole"})
UNIVERSITY_SHARE = 4.0
SPECIALTY_PACKS = (0.025, 0.1, 0.25, 0.5)
COMMODITY_PACKS = (1.0, 2.5)

WORDS_A = (
    "Nord",
    "Alpha",
    "Delta",
    "Orion",
    "Vega",
    "Atlas",
    "Lotus",
    "Sunrise",
    "Blue",
    "Golden",
    "Star",
    "Prime",
    "Euro",
    "Asia",
    "Pacific",
    "Nova",
    "Cedar",
    "Harbor",
    "Summit",
    "Crystal",
)
WORDS_B = (
    "Chem",
    "Chemicals",
    "Pharma",
    "Trading",
    "Industries",
    "Solutions",
    "Laboratories",
    "Materials",
    "Coatings",
    "Aromatics",
    "Polymers",
    "Agro",
    "Group",
    "Supply",
    "Works",
)
FORMS = (
    "Ltd.",
    "Limited",
    "GmbH",
    "S.A.",
    "LLC",
    "Inc.",
    "Co., Ltd.",
    "B.V.",
    "S.r.l.",
    "Sp. z o.o.",
    "Pvt. Ltd.",
    "FZE",
    "AG",
    "",
)
COUNTRIES = ("DE", "NL", "BE", "FR", "PL", "IT", "ES", "IN", "CN", "US", "MX", "BR", "TR", "GB")
ANDEAN = ("CO", "PE", "BO")


@dataclass
class Party:
    core: str
    form: str
    profile: str
    legit: bool
    country: str
    route: str = ""

    @property
    def name(self) -> str:
        return f"{self.core} {self.form}".strip()


def _spelling(rng: random.Random, party: Party) -> str:
    """How a manifest writes the name: as registered mostly, else a case or legal-form variant."""
    roll = rng.random()
    if roll < 0.7:
        return party.name
    if roll < 0.8:
        return party.name.upper()
    if roll < 0.9:
        return party.name.lower().replace(".", "").replace(",", "")
    return f"{party.core} {rng.choice(FORMS)}".strip()


def _name(rng: random.Random, used: set[str]) -> tuple[str, str]:
    """A new party's name (core, legal form), its folded core unused so far."""
    while True:
        core = f"{rng.choice(WORDS_A)} {rng.choice(WORDS_A)} {rng.choice(WORDS_B)}"
        key = fold_name(core).key
        if key not in used:
            used.add(key)
            return core, rng.choice(FORMS)


def _day(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange(max(1, (end - start).days + 1)))


def _row(
    rng: random.Random, party: Party, product: str, qty: float, unit: str, when: date
) -> dict[str, object]:
    descs = PRODUCTS[product][0]
    return {
        "consignee": _spelling(rng, party),
        "description": rng.choice(descs),
        "quantity": f"{qty:g}",
        "unit": unit,
        "date": when.isoformat(),
        "destination": party.country,
        "product": product,
    }


def legit_rows(
    rng: random.Random, n: int, used: set[str]
) -> tuple[list[Party], list[dict[str, object]]]:
    """``n`` legitimate consignees and their year of shipments."""
    shares = {**{k: v[0] for k, v in PROFILES.items()}, "university": UNIVERSITY_SHARE}
    names, weights = list(shares), list(shares.values())
    parties, rows = [], []
    for _ in range(n):
        profile = rng.choices(names, weights)[0]
        andean = (
            profile in {"chemical distributor", "pharmaceutical", "water treatment"}
            and rng.random() < 0.03
        )
        country = rng.choice(ANDEAN) if andean else rng.choice(COUNTRIES)
        party = Party(*_name(rng, used), profile, True, country)
        parties.append(party)
        lab = profile == "university"
        buys = {p: (0.25, (1, 3)) for p in LAB_STOCK} if lab else PROFILES[profile][1]
        for product, (p, (lo, hi)) in buys.items():
            if rng.random() >= p:
                continue
            _descs, unit, packs = PRODUCTS[product]
            specialty = max(packs) <= 200 and unit == "kg"
            for _o in range(rng.randint(lo, hi)):
                if lab and specialty:
                    qty = rng.choice(SPECIALTY_PACKS)
                elif lab:
                    qty = rng.choice(COMMODITY_PACKS) * rng.randint(1, 4)
                else:
                    qty = rng.choice(packs) * rng.choice((1, 1, 2, 4, 10))
                rows.append(
                    _row(rng, party, product, qty, unit, _day(rng, date(YEAR, 1, 1), TODAY))
                )
    return parties, rows


def _agent_product(
    book: RouteBook, agent: str, watchlist: Watchlist
) -> tuple[tuple[str, ...], str]:
    """Descriptions for an agent: the catalogue's, else the list's names, else the routes' names."""
    a = book.agents[agent]
    for key in (agent, *a.keys):
        if key in PRODUCTS:
            return PRODUCTS[key][0], key
    for key in a.keys:
        if key in watchlist.substances:
            s = watchlist.substances[key]
            return (s.name, *s.names.get("en", ())[:3]), key
    return (a.names[:3] or (a.name,)), agent


def kit_rows(
    rng: random.Random, book: RouteBook, watchlist: Watchlist, n: int, used: set[str]
) -> tuple[list[Party], list[dict[str, object]]]:
    """``n`` planted kits, cycling over the alerting routes."""
    routes = [r for r in book.routes if r.alert]
    parties, rows = [], []
    for i in range(n):
        route = routes[i % len(routes)]
        country = rng.choice(ANDEAN) if route.countries else rng.choice(COUNTRIES)
        party = Party(*_name(rng, used), "planted kit", False, country, route.key)
        parties.append(party)
        end = TODAY - timedelta(days=rng.randrange(0, 20))
        start = end - timedelta(days=rng.randrange(10, 150))
        scale = (
            0.002
            if "LSD" in route.drug
            else 0.05
            if route.drug == "fentanyl"
            else rng.uniform(0.5, 3.0)
        )
        # kg of a role without stoichiometry: grams for LSD, kilograms for fentanyl, tonnes of
        # solvents for cocaine processing, hundreds of kg otherwise
        lo, hi = {"LSD": (0.02, 0.5), "fentanyl": (1, 20), "cocaine": (300, 5000)}.get(
            route.drug, (20, 400)
        )
        optional = [r for r in route.roles if not r.required]
        chosen = list(route.required) + [r for r in optional if rng.random() < 0.4]
        while len(chosen) < route.min_roles:
            chosen.append(next(r for r in optional if r not in chosen))
        for role in chosen:
            agent = rng.choice(role.agents)
            descs, product = _agent_product(book, agent, watchlist)
            mass = book.agents[agent].molar_mass
            if role.moles is None or mass is None:
                kg = rng.uniform(lo, hi)
            else:
                kg = scale * 1000 * role.moles * mass / 1000 * rng.uniform(0.6, 2.5)
            parts = rng.randint(1, 3)
            for _p in range(parts):
                row = _row(rng, party, "acetone", round(kg / parts, 2), "kg", _day(rng, start, end))
                row.update(description=rng.choice(descs), product=product)
                rows.append(row)
        for _d in range(rng.randint(0, 4)):
            decoy = rng.choice(("acetone", "sodium-hydroxide", "toluene", "citric-acid", "ethanol"))
            rows.append(_row(rng, party, decoy, 200.0, PRODUCTS[decoy][1], _day(rng, start, end)))
    return parties, rows


def screen(frame: pd.DataFrame, watchlist: Watchlist, engine: bool) -> pd.DataFrame:
    """Add matched_key, risk and lists: by the engine on each distinct description, or by key."""
    descs = sorted(set(frame["description"]))
    if engine:
        from precursorwatch.run.screener import Screener

        out = Screener(watchlist).screen_frame(pd.DataFrame({"description": descs}))
        table = {
            d: (k, r, ls)
            for d, k, r, ls in zip(
                descs, out["matched_key"], out["risk"], out["lists"], strict=True
            )
        }
    else:
        table = {}
        for d, product in zip(frame["description"], frame["product"], strict=True):
            listed = product in watchlist.substances
            codes = ";".join(watchlist.list_codes_for(product)) if listed else ""
            table[d] = (product if listed else "", "high" if listed else "none", codes)
    cols = list(zip(*(table[d] for d in frame["description"]), strict=True))
    return frame.assign(matched_key=cols[0], risk=cols[1], lists=cols[2])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--consignees", type=int, default=5000)
    ap.add_argument("--kits", type=int, default=150)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--no-engine", action="store_true", help="use the catalogue's keys, not the engine"
    )
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    watchlist = load_bundled()
    book = load_routes(known_keys=watchlist.substances)
    used: set[str] = set()
    legit, rows = legit_rows(rng, args.consignees, used)
    kits, kit_lines = kit_rows(rng, book, watchlist, args.kits, used)
    frame = pd.DataFrame(rows + kit_lines)
    frame.insert(0, "line_id", [str(i + 1) for i in range(len(frame))])
    t0 = time.perf_counter()
    frame = screen(frame, watchlist, not args.no_engine)
    t1 = time.perf_counter()
    limits = merge_limits(book.limits, limits_from_watchlist(watchlist))
    densities = densities_from_watchlist(watchlist)
    registered: dict[str, set[str]] = defaultdict(set)
    annual = {lim.substance for lim in limits if lim.per == "year"}
    for party in legit:
        if rng.random() < 0.95:
            registered[party.name] |= annual
    result = run_checks(
        frame, book, today=TODAY, limits=limits, densities=densities, registered=registered
    )
    t2 = time.perf_counter()
    by_party: dict[str, list] = defaultdict(list)
    for alert in result.alerts:
        by_party[fold_name(alert.consignee).key].append(alert)
    found = Counter()
    missed = []
    for kit in kits:
        drug = book.route(kit.route).drug
        hit = any(
            a.kind == "route" and a.drug == drug for a in by_party.get(fold_name(kit.name).key, [])
        )
        found[kit.route] += hit
        if not hit:
            missed.append(kit)
    alerted = [p for p in legit if by_party.get(fold_name(p.name).key)]
    kinds = Counter(a.kind for p in legit for a in by_party.get(fold_name(p.name).key, []))
    recall = sum(found.values()) / len(kits)
    rate = len(alerted) / len(legit)
    print(
        f"trade: {len(legit):,} legitimate consignees, {len(kits)} planted kits, "
        f"{len(frame):,} lines, {frame['description'].nunique()} distinct descriptions "
        f"(seed {args.seed})"
    )
    print(
        f"screening {'by catalogue keys' if args.no_engine else 'by the engine'}: "
        f"{t1 - t0:.1f} s; run_checks: {t2 - t1:.1f} s; notices: {list(result.notices)}"
    )
    print(f"planted-kit recall: {recall:.3f} ({sum(found.values())}/{len(kits)})")
    for route in (r for r in book.routes if r.alert):
        total = sum(1 for k in kits if k.route == route.key)
        print(f"  {route.key:38s} {found[route.key]}/{total}")
    print(
        f"alert rate on legitimate consignees: {rate:.4f} ({len(alerted)}/{len(legit)}); "
        f"by kind: {dict(kinds)}"
    )
    per_profile = Counter(p.profile for p in alerted)
    sizes = Counter(p.profile for p in legit)
    for profile, count in per_profile.most_common():
        print(f"  {profile:30s} {count}/{sizes[profile]}")
    for party in alerted[:8]:
        alert = by_party[fold_name(party.name).key][0]
        print(f"  e.g. [{party.profile}] {alert.kind} {alert.risk}: {alert.reason[:220]}")
    for kit in missed[:5]:
        print(f"  missed kit: {kit.route} ({kit.name})")
    return 0 if recall >= 0.9 and rate <= 0.01 else 1


if __name__ == "__main__":
    raise SystemExit(main())
