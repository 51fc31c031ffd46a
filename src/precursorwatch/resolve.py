"""Name and CAS -> what a chemical *is*, from offline resolvers.

Two resolvers, each behind one small function:

- the PubChem identifiers table shipped by the ``chemicals`` package (~70,000 compounds with
  synonyms): exact name and CAS look-ups only — never its formula parser, which reads 'P2P'
  as P3;
- OPSIN (the jar bundled by ``py2opsin``) for systematic names, called once per batch with a
  time limit. ``py2opsin`` itself is not called: it writes a fixed temporary file in the
  working directory (unsafe with concurrent workers), has no time limit and emits warnings.
"""

from __future__ import annotations

import gc
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from precursorwatch.errors import ResolverError
from precursorwatch.normalise import cas_check_ok, clean_text

#: Bump when resolution logic changes: cached resolutions keyed with another version are ignored.
RESOLVER_VERSION = "4"


@dataclass(frozen=True, slots=True)
class KnownChemical:
    """A chemical the PubChem table knows: its preferred name, CAS and SMILES."""

    name: str
    cas: str
    smiles: str
    inchikey: str


@cache
def _pubchem_db() -> Any:
    """The chemicals package's in-memory table, fully loaded once (~1 s, ~70,000 rows).

    Its millions of objects live as long as the process: they are moved out of the garbage
    collector's reach (``gc.freeze``, after collecting what is garbage now), or every full
    collection of a screening walks them again (0.2 s each, 2.3 s per 200,000 new lines).
    """
    from chemicals.identifiers import pubchem_db

    pubchem_db.finish_loading()
    gc.collect()
    gc.freeze()
    return pubchem_db


def load_pubchem() -> None:
    """Load the PubChem table now (before forking workers, which then share it)."""
    _pubchem_db()


def _known(meta: Any) -> KnownChemical | None:
    if not meta:
        return None
    return KnownChemical(
        str(meta.common_name or meta.iupac_name or ""),
        str(meta.CASs),
        str(meta.smiles or ""),
        str(meta.InChI_key or ""),
    )


#: Functional-class words the PubChem synonyms map to one arbitrary member ("lactone" ->
#: trioxsalen, "anhydride" -> chromic anhydride, "aldehyde" -> acetaldehyde). A declaration
#: saying only "aldehyde" names a class, not a chemical (IUPAC functional class names).
GENERIC_CLASS_WORDS: frozenset[str] = frozenset(
    {
        "acid",
        "acids",
        "alcohol",
        "alcohols",
        "aldehyde",
        "aldehydes",
        "amide",
        "amides",
        "amine",
        "amines",
        "anhydride",
        "anhydrides",
        "ester",
        "esters",
        "ether",
        "ethers",
        "ketone",
        "ketones",
        "lactone",
        "lactones",
        "nitrile",
        "nitriles",
        "salt",
        "salts",
        "base",
        "bases",
        "oxide",
        "oxides",
        "solvent",
        "solvents",
        "hydrocarbon",
        "hydrocarbons",
        "phenol",
        "phenols",
    }
)


def pubchem_by_name(name: str) -> KnownChemical | None:
    """Exact (case-insensitive) synonym look-up in the PubChem table; None when unknown.

    Names of one or two characters are not looked up: the table holds element symbols and
    abbreviations that would turn noise into chemicals. Bare class words
    (:data:`GENERIC_CLASS_WORDS`) are not looked up either.
    """
    key = clean_text(name).lower()
    if len(key) < 3 or key in GENERIC_CLASS_WORDS:
        return None
    return _known(_pubchem_db().search_name(key, autoload=False))


def pubchem_by_cas(cas: str) -> KnownChemical | None:
    """The PubChem-table chemical with this CAS number; None when unknown or malformed."""
    if not cas_check_ok(cas):
        return None
    return _known(_pubchem_db().search_CAS(cas, autoload=False))


def pubchem_by_inchikey(inchikey: str) -> KnownChemical | None:
    """The PubChem-table chemical with this full InChIKey; None when unknown."""
    if len(inchikey) != 27:
        return None
    return _known(_pubchem_db().search_InChI_key(inchikey, autoload=False))


# --- OPSIN ------------------------------------------------------------------------------------

#: Morphemes of systematic nomenclature; a name without any is not sent to OPSIN.
_SYSTEMATIC = re.compile(
    r"\d|yl\b|yl[\s(-]|ane\b|ene\b|yne\b|one\b|ol\b|al\b|oic|oate|amide|amine|nitrile|"
    r"oxirane|oxolane|dioxol|benzo|phenyl|pyr|piperid|carbox|anhydride|ketone|ether|acid",
    re.IGNORECASE,
)


def looks_systematic(name: str) -> bool:
    """True when ``name`` could be a systematic (IUPAC/CAS index) name worth sending to OPSIN."""
    return 4 <= len(name) <= 300 and bool(_SYSTEMATIC.search(name))


@cache
def _opsin_jar() -> Path:
    return Path(str(resources.files("py2opsin") / "opsin-cli-2.9.0-jar-with-dependencies.jar"))


def java_available() -> bool:
    """True when a ``java`` executable is on PATH (OPSIN needs it)."""
    return shutil.which("java") is not None


#: A deep stack for long names; the client compiler only and the serial collector, which
#: start the JVM and parse a batch of about 2,000 names in half the CPU time of the defaults
#: (0.8 s wall, 1.2 CPU-s instead of 1.4 s, 2.5 CPU-s on the development machine).
_JVM_OPTIONS = ("-Xss8m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")


def opsin_batch(names: list[str], *, timeout_s: float = 60.0) -> dict[str, str]:
    """Parse systematic names with OPSIN in ONE JVM; name -> SMILES for those that parse.

    Names OPSIN cannot interpret are absent from the result. Raises :class:`ResolverError`
    when Java is missing or the batch exceeds ``timeout_s`` (the caller screens on without
    OPSIN and says so).
    """
    unique = list(dict.fromkeys(n for n in (clean_text(x) for x in names) if n))
    if not unique:
        return {}
    if not java_available():
        raise ResolverError(
            "OPSIN needs Java: install a JRE (e.g. apt-get install "
            "default-jre-headless); systematic names were not parsed"
        )
    try:
        proc = subprocess.run(
            ["java", *_JVM_OPTIONS, "-jar", str(_opsin_jar()), "-osmi"],
            input="\n".join(unique) + "\n",
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ResolverError(
            f"OPSIN took longer than {timeout_s:g} s for {len(unique)} names; "
            "systematic names were not parsed"
        ) from exc
    except OSError as exc:
        raise ResolverError(f"OPSIN could not start: {exc}") from exc
    lines = proc.stdout.split("\n")
    return {name: smi.strip() for name, smi in zip(unique, lines, strict=False) if smi.strip()}
