"""The bundled watch lists (lists/*.yaml) and their loader/validator, on the real files."""

from __future__ import annotations

import csv
import dataclasses
import json
import re
import shutil
from pathlib import Path

import pytest

from precursorwatch.chem.molecule import inchikey_from_smiles, smiles_matches_smarts
from precursorwatch.errors import ListFileError
from precursorwatch.lists.load import (
    bundled_lists_dir,
    content_hash,
    diff_lists,
    listdef_from_dict,
    listdef_to_dict,
    load_bundled,
    load_list_file,
    load_sources,
    load_substances,
    substance_from_dict,
    substance_to_dict,
)
from precursorwatch.models import LANGUAGES, ListEntry, Watchlist

REFERENCE = Path("/work/shared/reference")
DATA = Path(__file__).parent / "data" / "lists"
SCHEDULED = {"UN-T1", "UN-T2", "EU-CAT1", "EU-CAT2A", "EU-CAT2B", "EU-CAT3"}
BUNDLED_CODES = {
    "UN-T1",
    "UN-T2",
    "EU-CAT1",
    "EU-CAT2A",
    "EU-CAT2B",
    "EU-CAT3",
    "EU-CAT4",
    "US-DEA-L1",
    "US-DEA-L2",
}
INORGANICS = {
    "hydrochloric-acid",
    "sulphuric-acid",
    "potassium-permanganate",
    "red-phosphorus",
    "white-phosphorus",
    "iodine",
    "hydriodic-acid",
    "hypophosphorous-acid",
    "sodium-permanganate",
}
#: What the December 2026 audit (../shared/reference/law_updates_2026.md) added to the facts of
#: substances.csv: new substances with their lists, and lists added to reference substances.
NEW_EU_CAT1_2026 = (
    "3-chloropropiophenone",
    "2-bromo-3-chloropropiophenone",
    "3-methylpropiophenone",
    "2-bromo-3-methylpropiophenone",
    "4-methylpropiophenone",
    "2-bromo-4-methylpropiophenone",
    "4-chloropropiophenone",
    "2-bromo-4-chloropropiophenone",
    "phenyl-2-nitropropene",
    "1s-2r-chloroephedrine",
)
LAW_UPDATES_2026_SUBSTANCES: dict[str, frozenset[str]] = {
    **{key: frozenset({"EU-CAT1"}) for key in NEW_EU_CAT1_2026},
    "methyl-isobutyl-ketone": frozenset({"US-DEA-L2"}),
    "sodium-permanganate": frozenset({"US-DEA-L2"}),
}
LAW_UPDATES_2026_LISTINGS: dict[str, frozenset[str]] = {
    **{
        key: frozenset({"US-DEA-L2"})
        for key in ("potassium-permanganate", "methyl-ethyl-ketone", "toluene")
    },
    **{key: frozenset({"US-DEA-L2"}) for key in ("hydrochloric-acid", "sulphuric-acid")},
    **{key: frozenset({"US-DEA-L1"}) for key in ("bmk-glycidic-acid", "bmk-methyl-glycidate")},
}


@pytest.fixture(scope="module")
def wl() -> Watchlist:
    return load_bundled()


def _reference_rows() -> list[dict[str, str]]:
    if not (REFERENCE / "substances.csv").is_file():
        pytest.skip("shared reference facts not present on this machine")
    with (REFERENCE / "substances.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _entry(wl: Watchlist, code: str, key: str) -> ListEntry:
    (entry,) = [e for e in wl.lists[code].entries if e.substance_key == key]
    return entry


# --- facts in the bundled data ----------------------------------------------------------------


def test_bundled_dir_holds_every_list(wl: Watchlist) -> None:
    assert (bundled_lists_dir() / "substances.yaml").is_file()
    assert set(wl.lists) == BUNDLED_CODES
    for listdef in wl.lists.values():
        assert re.fullmatch(r"[0-9a-f]{64}", listdef.content_hash)
        assert listdef.confidential is False and listdef.effective_date and listdef.source


def test_acetic_anhydride_is_un_table_i_and_eu_2a(wl: Watchlist) -> None:
    sub = wl.substances["acetic-anhydride"]
    assert sub.cas == "108-24-7"
    assert {"UN-T1", "EU-CAT2A"} <= set(wl.list_codes_for("acetic-anhydride"))
    assert "Essigsäureanhydrid" in sub.names["de"]
    (threshold,) = _entry(wl, "EU-CAT2A", "acetic-anhydride").thresholds
    assert (threshold.quantity, threshold.unit, threshold.per) == (100.0, "L", "year")


def test_acetone_is_un_table_ii_and_eu_3(wl: Watchlist) -> None:
    assert wl.substances["acetone"].cas == "67-64-1"
    assert {"UN-T2", "EU-CAT3"} <= set(wl.list_codes_for("acetone"))


def test_ephedrine_entry_covers_salts_and_stereoisomers_with_salt_cas(wl: Watchlist) -> None:
    entry = _entry(wl, "EU-CAT1", "ephedrine")
    assert {"salts", "stereoisomers"} <= set(entry.covers)
    forms = {o.cas: o.form for o in wl.substances["ephedrine"].other_cas}
    assert "hydrochloride" in forms["50-98-6"]
    assert "sulfate" in forms["134-72-5"]
    assert "racephedrine hydrochloride" in forms["134-71-4"]
    pseudo = {o.cas: o.form for o in wl.substances["pseudoephedrine"].other_cas}
    assert pseudo["345-78-8"] == "hydrochloride" and pseudo["7460-12-0"] == "sulfate"
    assert _entry(wl, "EU-CAT4", "ephedrine").covers == ("mixtures", "salts")


def test_salt_footnote_excludes_hydrochloric_and_sulphuric_acid(wl: Watchlist) -> None:
    for key in ("hydrochloric-acid", "sulphuric-acid"):
        assert "salts" not in _entry(wl, "UN-T2", key).covers
        assert "salts" not in _entry(wl, "EU-CAT3", key).covers
    assert "salts" in _entry(wl, "UN-T2", "acetone").covers
    assert _entry(wl, "EU-CAT1", "norephedrine").note.count("cathine") >= 1


def test_every_reference_substance_is_bundled_with_its_facts(wl: Watchlist) -> None:
    rows = _reference_rows()
    assert {r["key"] for r in rows} | set(LAW_UPDATES_2026_SUBSTANCES) == set(wl.substances)
    for key, expected in LAW_UPDATES_2026_SUBSTANCES.items():
        assert set(wl.list_codes_for(key)) == expected, key
    for row in rows:
        sub = wl.substances[row["key"]]
        assert sub.cas == row["cas"], row["key"]
        codes = set(row["lists"].split(";")) | LAW_UPDATES_2026_LISTINGS.get(
            row["key"], frozenset()
        )
        assert set(wl.list_codes_for(row["key"])) == codes, row["key"]
        if row["key"] in INORGANICS:
            assert sub.smiles == "" and sub.inchikey == "", row["key"]
        else:
            assert (sub.smiles, sub.inchikey) == (row["smiles"], row["inchikey"]), row["key"]


def test_every_recorded_inchikey_matches_its_smiles(wl: Watchlist) -> None:
    with_structure = [s for s in wl.substances.values() if s.smiles]
    assert len(with_structure) == len(wl.substances) - len(INORGANICS)
    for sub in with_structure:
        assert inchikey_from_smiles(sub.smiles) == sub.inchikey, sub.key


def test_scheduled_substances_have_names_in_eight_languages(wl: Watchlist) -> None:
    scheduled = [k for k in wl.substances if SCHEDULED & set(wl.list_codes_for(k))]
    assert len(scheduled) >= 45
    for key in scheduled:
        names = wl.substances[key].names
        missing = [lang for lang in LANGUAGES if not names.get(lang)]
        assert not missing, f"{key} lacks names in {missing}"


def test_trade_names_and_abbreviations(wl: Watchlist) -> None:
    def names(key: str) -> set[str]:
        return {n.casefold() for n in wl.substances[key].all_names()}

    assert {"bmk", "p2p", "p-2-p", "phenylacetone", "benzyl methyl ketone"} <= names(
        "1-phenyl-2-propanone"
    )
    assert {"pmk", "mdp2p", "piperonyl methyl ketone"} <= names("3-4-mdp-2-p")
    assert {"heliotropin", "heliotropine"} <= names("piperonal")
    assert {"muriatic acid", "spirits of salt", "hcl"} <= names("hydrochloric-acid")
    assert {"ether", "diethyl ether"} <= names("ethyl-ether")
    assert "ergonovine" in names("ergometrine") and "kmno4" in names("potassium-permanganate")
    assert "GBL" in wl.substances["gamma-butyrolactone"].abbreviations
    assert "sassafras oil" in wl.substances["safrole"].natural_sources


def test_thresholds_of_the_reference_are_recorded(wl: Watchlist) -> None:
    if not (REFERENCE / "thresholds.csv").is_file():
        pytest.skip("shared reference facts not present on this machine")
    with (REFERENCE / "thresholds.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        quantity = float(row["threshold"].split()[0])
        entry = _entry(wl, row["list_code"], row["key"])
        assert quantity in {t.quantity for t in entry.thresholds}, row


def test_liquids_have_densities(wl: Watchlist) -> None:
    for key in ("acetone", "toluene", "methyl-ethyl-ketone", "ethyl-ether", "acetic-anhydride"):
        assert 0.6 < (wl.substances[key].density_kg_per_l or 0) < 1.2, key
    assert wl.substances["hydrochloric-acid"].density_kg_per_l == pytest.approx(1.18, abs=0.01)
    assert "37 %" in wl.substances["hydrochloric-acid"].notes


# --- family entries ---------------------------------------------------------------------------

BMK_ESTERS = {
    "methyl": "COC(=O)C1(C)OC1c1ccccc1",
    "ethyl": "CCOC(=O)C1(C)OC1c1ccccc1",
    "isopropyl": "CC(C)OC(=O)C1(C)OC1c1ccccc1",
    "tert-butyl (2R,3S)": "CC(C)(C)OC(=O)[C@]1(C)O[C@@H]1c1ccccc1",
}
NOT_BMK_ESTERS = {
    "BMK glycidic acid (the acid, not an ester)": "CC1(OC1c1ccccc1)C(=O)O",
    "PMK ethyl glycidate": "CCOC(=O)C1(C)OC1c1ccc2OCOc2c1",
    "ethyl 3-phenylglycidate (no methyl)": "CCOC(=O)C1OC1c1ccccc1",
}


@pytest.mark.parametrize("code", ["EU-CAT1", "UN-T1"])
def test_bmk_glycidic_esters_match_their_family(wl: Watchlist, code: str) -> None:
    entry = _entry(wl, code, "bmk-methyl-glycidate")
    assert "BMK glycidic acid" in entry.family_name
    for label, smiles in BMK_ESTERS.items():
        assert smiles_matches_smarts(smiles, entry.family_smarts) is True, label
    for label, smiles in NOT_BMK_ESTERS.items():
        assert smiles_matches_smarts(smiles, entry.family_smarts) is False, label


def test_strawberry_aldehyde_is_not_a_bmk_glycidate(wl: Watchlist) -> None:
    # CAS 77-83-8, ethyl 3-methyl-3-phenylglycidate ("strawberry aldehyde"): the methyl sits on
    # the phenyl-bearing carbon. SMILES as the chemicals package's PubChem table gives it (its
    # lookup costs seconds, so it is not repeated here).
    strawberry = "CCOC(=O)C1C(O1)(C)C2=CC=CC=C2"
    for code in ("EU-CAT1", "UN-T1"):
        for key in ("bmk-methyl-glycidate", "pmk-methyl-glycidate"):
            pattern = _entry(wl, code, key).family_smarts
            assert smiles_matches_smarts(strawberry, pattern) is False


def test_pmk_glycidic_esters_match_their_family(wl: Watchlist) -> None:
    pattern = _entry(wl, "EU-CAT1", "pmk-methyl-glycidate").family_smarts
    assert smiles_matches_smarts(wl.substances["pmk-ethyl-glycidate"].smiles, pattern) is True
    assert smiles_matches_smarts("CC(C)OC(=O)C1(C)OC1c1ccc2OCOc2c1", pattern) is True
    assert smiles_matches_smarts(wl.substances["pmk-glycidic-acid"].smiles, pattern) is False
    assert smiles_matches_smarts(BMK_ESTERS["ethyl"], pattern) is False


def test_4_anilinopiperidine_family(wl: Watchlist) -> None:
    pattern = _entry(wl, "US-DEA-L1", "4-ap").family_smarts
    members = {
        "1-boc-4-AP": wl.substances["1-boc-4-ap"].smiles,
        "N-phenyl-N-(piperidin-4-yl)propanamide": "CCC(=O)N(C1CCNCC1)c1ccccc1",
        "1-benzyl-4-AP": "c1ccc(cc1)CN1CCC(CC1)Nc1ccccc1",
        "1-acetyl-4-AP (amide)": "CC(=O)N1CCC(CC1)Nc1ccccc1",
        "4-fluoro-4-AP (halide)": "Fc1ccc(NC2CCNCC2)cc1",
        "4-AP hydrochloride": "C1CNCCC1Nc1ccccc1.Cl",
    }
    for label, smiles in members.items():
        assert smiles_matches_smarts(smiles, pattern) is True, label
    for smiles in ("NC1CCNCC1", "c1ccccc1N1CCNCC1", "c1ccncc1Nc1ccccc1", "C1CCNCC1"):
        assert smiles_matches_smarts(smiles, pattern) is False, smiles


def test_4_piperidone_family(wl: Watchlist) -> None:
    entry = _entry(wl, "US-DEA-L1", "4-piperidone")
    assert {"acetals", "amides", "carbamates", "salts"} <= set(entry.covers)
    members = [
        wl.substances["1-boc-4-piperidone"].smiles,
        "C1CNCCC12OCCO2",  # 1,4-dioxa-8-azaspiro[4.5]decane, the ethylene acetal (177-11-7)
        "CC(=O)N1CCC(=O)CC1",  # 1-acetyl-4-piperidone, an amide
        "OC1(O)CCNCC1",  # the hydrate sold as "4-piperidone hydrochloride monohydrate"
    ]
    for smiles in members:
        assert smiles_matches_smarts(smiles, entry.family_smarts) is True, smiles
    not_members = [
        wl.substances["npp"].smiles,  # N-alkyl: listed on its own
        "CN1CCC(=O)CC1",  # 1-methyl-4-piperidone
        "CC1(C)CC(=O)CC(C)(C)N1",  # triacetonamine
        "O=C1CCCCN1",  # 2-piperidone
    ]
    for smiles in not_members:
        assert smiles_matches_smarts(smiles, entry.family_smarts) is False, smiles


# --- refusing malformed files -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "entry", "field", "words"),
    [
        ("bad-cas.yaml", "acetone", "cas", "check digit"),
        ("bad-other-cas.yaml", "ephedrine", "other_cas", "check digit"),
        ("bad-smiles.yaml", "acetone", "smiles", "cannot parse"),
        ("bad-inchikey.yaml", "acetone", "inchikey", "CSCPPACGZOOCGX-UHFFFAOYSA-N"),
        ("shared-synonym.yaml", "ethyl-ether", "names", "ambiguous"),
        ("bad-key.yaml", "Acetone_1", "key", "slug"),
        ("unknown-field.yaml", "acetone", "synonym", "unknown field"),
    ],
)
def test_malformed_substances_file_is_refused(
    name: str, entry: str, field: str, words: str
) -> None:
    with pytest.raises(ListFileError) as info:
        load_substances(DATA / "bad" / name)
    message = str(info.value)
    assert name in message and f"entry {entry!r}" in message and f"field {field!r}" in message
    assert words in message and re.search(r"line \d+", message)
    assert (info.value.entry, info.value.field) == (entry, field)


def test_yaml_syntax_error_names_file_and_line() -> None:
    with pytest.raises(ListFileError) as info:
        load_substances(DATA / "bad" / "syntax-error.yaml")
    assert "syntax-error.yaml" in str(info.value) and "line 4" in str(info.value)


@pytest.mark.parametrize(
    ("name", "entry", "field", "words"),
    [
        ("unknown-key.yaml", "methyl-isobutyl-ketone", "substance", "unknown substance key"),
        ("bad-coverage.yaml", "acetone", "covers", "'isomers'"),
        ("bad-smarts.yaml", "toluene", "family_smarts", "SMARTS"),
        ("duplicate-entry.yaml", "acetone", "substance", "duplicate"),
        ("unknown-source.yaml", "acetone", "source", "'T9'"),
    ],
)
def test_malformed_list_file_is_refused(name: str, entry: str, field: str, words: str) -> None:
    substances = load_substances(DATA / "good" / "substances.yaml")
    sources = load_sources(DATA / "good" / "sources.yaml")
    with pytest.raises(ListFileError) as info:
        load_list_file(DATA / "bad" / name, substances, sources=sources)
    message = str(info.value)
    assert name in message and f"entry {entry!r}" in message and f"field {field!r}" in message
    assert words in message


def test_bad_list_code_and_duplicate_yaml_key_are_refused() -> None:
    substances = load_substances(DATA / "good" / "substances.yaml")
    with pytest.raises(ListFileError, match="field 'code'"):
        load_list_file(DATA / "bad" / "bad-code.yaml", substances)
    with pytest.raises(ListFileError, match=r"duplicate key 'title'.*line 3|line 3.*duplicate"):
        load_list_file(DATA / "bad" / "duplicate-yaml-key.yaml", substances)


def test_unknown_source_in_substances_is_refused(tmp_path: Path) -> None:
    shutil.copy(DATA / "good" / "substances.yaml", tmp_path / "substances.yaml")
    (tmp_path / "sources.yaml").write_text("sources:\n  T1: {title: only one}\n", "utf-8")
    with pytest.raises(ListFileError, match=r"entry 'hydrochloric-acid', field 'sources'.*'T2'"):
        load_substances(tmp_path / "substances.yaml")


def test_a_bad_bundled_file_sinks_the_whole_load(tmp_path: Path) -> None:
    lists = tmp_path / "lists"
    shutil.copytree(bundled_lists_dir(), lists)
    text = (lists / "substances.yaml").read_text("utf-8")
    (lists / "substances.yaml").write_text(text.replace("cas: 108-24-7", "cas: 108-24-8"), "utf-8")
    with pytest.raises(ListFileError, match=r"entry 'acetic-anhydride', field 'cas'"):
        load_bundled(lists)


# --- user lists: YAML and CSV, inline substances ----------------------------------------------


def test_good_yaml_list_loads() -> None:
    substances = load_substances(DATA / "good" / "substances.yaml")
    listdef, inline = load_list_file(DATA / "good" / "mini.yaml", substances)
    assert inline == {} and listdef.code == "MINI" and listdef.version == 0
    assert listdef.effective_date == "2025-01-31"  # kept as text, not a date object
    (threshold,) = listdef.entries[0].thresholds
    assert (threshold.quantity, threshold.unit, threshold.source) == (50.0, "L", "T2")
    assert listdef.content_hash == content_hash(listdef, substances)


def test_csv_list_references_known_and_defines_new_substances() -> None:
    substances = load_substances(DATA / "good" / "substances.yaml")
    listdef, inline = load_list_file(DATA / "good" / "firm.csv", substances, confidential=True)
    assert listdef.code == "FIRM" and listdef.confidential is True
    assert [e.substance_key for e in listdef.entries] == [
        "acetone",
        "hydrochloric-acid",
        "sodium-cyanide",
    ]
    assert set(inline) == {"sodium-cyanide"}
    cyanide = inline["sodium-cyanide"]
    assert cyanide.inchikey == inchikey_from_smiles("[C-]#N.[Na+]")
    assert "NaCN salt" in cyanide.all_names()
    relabelled, _ = load_list_file(DATA / "good" / "firm.csv", substances, code="FIRM-2025")
    assert relabelled.code == "FIRM-2025"


def test_csv_synonym_clashing_with_a_known_name_is_refused(tmp_path: Path) -> None:
    substances = load_substances(DATA / "good" / "substances.yaml")
    bad = tmp_path / "clash.csv"
    bad.write_text("key,name,cas,synonyms\nsolvent-x,Solvent X,,propanone\n", "utf-8")
    with pytest.raises(ListFileError, match=r"entry 'solvent-x', field 'names'.*'acetone'"):
        load_list_file(bad, substances)


def test_good_directory_loads_as_a_watchlist() -> None:
    watchlist = load_bundled(DATA / "good")
    assert set(watchlist.lists) == {"MINI", "FIRM"}
    assert "sodium-cyanide" in watchlist.substances


# --- hashing, diff, serialisation -------------------------------------------------------------


def test_content_hash_follows_the_named_substances(wl: Watchlist) -> None:
    listdef = wl.lists["UN-T2"]
    assert content_hash(listdef, wl.substances) == listdef.content_hash
    assert load_bundled().lists["UN-T2"].content_hash == listdef.content_hash  # stable
    unrelated = dict(wl.substances)
    unrelated["ephedrine"] = dataclasses.replace(unrelated["ephedrine"], notes="changed")
    assert content_hash(listdef, unrelated) == listdef.content_hash
    acetone = wl.substances["acetone"]
    renamed = dict(wl.substances)
    renamed["acetone"] = dataclasses.replace(
        acetone, names={**acetone.names, "en": (*acetone.names["en"], "nail polish remover")}
    )
    assert content_hash(listdef, renamed) != listdef.content_hash


def test_diff_reports_an_added_entry(wl: Watchlist) -> None:
    old = wl.lists["EU-CAT2A"]
    new = dataclasses.replace(
        old, entries=(*old.entries, ListEntry("EU-CAT2A", "toluene", category="2A"))
    )
    diff = diff_lists(old, new)
    assert [e.substance_key for e in diff.added] == ["toluene"]
    assert diff.removed == () and diff.changed == () and diff.metadata == ()
    assert any(line.startswith("+ toluene") for line in diff.lines())
    assert diff_lists(old, old).is_empty


def test_diff_reports_changed_entries_and_substances(wl: Watchlist, tmp_path: Path) -> None:
    src = (bundled_lists_dir() / "un-t2.yaml").read_text("utf-8")
    edited = tmp_path / "un-t2.yaml"
    edited.write_text(src.replace("- substance: toluene\n", "- substance: benzaldehyde\n"), "utf-8")
    new, _ = load_list_file(edited, wl.substances, sources=None)
    diff = diff_lists(wl.lists["UN-T2"], new)
    assert [e.substance_key for e in diff.added] == ["benzaldehyde"]
    assert [e.substance_key for e in diff.removed] == ["toluene"]
    changed = dict(wl.substances)
    changed["acetone"] = dataclasses.replace(
        changed["acetone"], cas="67-64-1", abbreviations=("A",)
    )
    diff = diff_lists(
        wl.lists["UN-T2"], wl.lists["UN-T2"], old_substances=wl.substances, new_substances=changed
    )
    assert [(c.substance_key, c.field) for c in diff.changed] == [
        ("acetone", "substance.abbreviations")
    ]


def test_serialisation_round_trips_exactly(wl: Watchlist) -> None:
    for sub in wl.substances.values():
        assert substance_from_dict(json.loads(json.dumps(substance_to_dict(sub)))) == sub
    for listdef in wl.lists.values():
        assert listdef_from_dict(json.loads(json.dumps(listdef_to_dict(listdef)))) == listdef
