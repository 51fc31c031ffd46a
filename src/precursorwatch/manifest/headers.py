"""Header recognition: which manifest column is which field, by name or by ``--map``.

Headers are compared after :func:`header_key` folding (case, accents, spacing, punctuation)
against :data:`HEADER_NAMES`; a unit written in a quantity header ("Net mass (kg)") becomes the
unit of every line. The header row is looked for among the first :data:`HEADER_SEARCH_ROWS`
rows (:func:`header_row`), so title rows above it are skipped.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence

from precursorwatch.errors import ColumnsNotRecognised, ManifestError
from precursorwatch.identify.normalise import CONTROL_CHARS

# fmt: off
CANONICAL_COLUMNS = ("row", "line_id", "description", "cas", "hs_code", "quantity", "unit",
                     "smiles", "inchi", "inchikey", "origin", "destination", "consignor",
                     "consignee", "warnings")
# fmt: on
#: Fields a header can be mapped to (``--map field=Header``).
FIELDS: tuple[str, ...] = CANONICAL_COLUMNS[1:-1]
#: Fields of which at least one must be present for a line to be screenable.
IDENTIFIER_FIELDS = ("description", "cas", "smiles", "inchi", "inchikey")
#: Rows searched for the header row, at the top of a file or sheet.
HEADER_SEARCH_ROWS = 30
#: The pseudo-field of a mapping whose headers are not read at all (``--map ignore=Notes``);
#: several are joined by :data:`IGNORE_SEP`, a character no cleaned header holds.
IGNORE = "ignore"
IGNORE_SEP = "\x1f"

#: Header spellings per field, best first; compared after :func:`header_key` folding.
# fmt: off
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "line_id": ("line_id", "line", "line no", "line number", "line nr", "item no", "item nr",
                "item number", "#", "no", "nr", "pos", "position", "id", "lfd nr", "n°"),
    "description": ("description", "goods description", "description of goods", "item description",
                    "product description", "chemical name", "product name", "substance name",
                    "product", "commodity", "commodity description", "goods", "name", "chemical",
                    "substance", "material", "material description", "article", "designation",
                    "warenbezeichnung", "bezeichnung", "beschreibung", "produkt", "désignation",
                    "description des marchandises", "descripción", "producto", "mercancía",
                    "omschrijving", "descrizione", "prodotto"),
    "cas": ("cas", "cas no", "cas no.", "cas number", "cas rn", "cas nr", "cas-nr", "cas-nummer",
            "cas registry number", "cas #", "casrn", "cas n°", "cas no#", "cas id", "numéro cas",
            "número cas"),
    "hs_code": ("hs code", "hs", "hs no", "hs number", "hs-code", "tariff code", "cn code",
                "commodity code", "customs code", "tariff number", "tariff", "taric", "taric code",
                "hts", "hts code", "harmonized code", "harmonised code", "cn", "zolltarifnummer",
                "warennummer", "code sh", "código arancelario"),
    "quantity": ("quantity", "qty", "net weight", "net mass", "net quantity", "net qty", "net wt",
                 "amount", "weight", "mass", "volume", "gross weight", "menge", "nettogewicht",
                 "nettomasse", "gewicht", "quantité", "poids net", "cantidad", "peso neto",
                 "hoeveelheid", "quantità"),
    "unit": ("unit", "uom", "unit of measure", "unit of measurement", "units", "measure unit",
             "qty unit", "quantity unit", "weight unit", "einheit", "mengeneinheit", "unité",
             "unidad", "eenheid", "unità"),
    "smiles": ("smiles", "canonical smiles", "isomeric smiles", "structure"),
    # an InChI or InChIKey column is read as one written in the description is; either may
    # hold either (identify/inchi.py tells them apart by their shape)
    "inchi": ("inchi", "std inchi", "stdinchi", "standard inchi", "inchi string", "inchi code",
              "iupac inchi", "international chemical identifier"),
    "inchikey": ("inchikey", "inchi key", "inchi_key", "std inchikey", "stdinchikey",
                 "std inchi key", "standard inchikey", "standard inchi key", "inchi-key",
                 "hashed inchi"),
    "origin": ("country of origin", "origin", "origin country", "coo", "country of export",
               "export country", "country of dispatch", "dispatch country", "from country",
               "ursprungsland", "ursprung", "pays d'origine", "país de origen"),
    "destination": ("destination", "country of destination", "destination country",
                    "country of import", "import country", "to country", "bestimmungsland",
                    "pays de destination", "país de destino"),
    "consignor": ("consignor", "shipper", "exporter", "sender", "supplier", "seller",
                  "consignor name", "shipper name", "exporter name", "versender", "ausführer",
                  "expéditeur", "exportateur", "remitente", "exportador"),
    "consignee": ("consignee", "importer", "buyer", "receiver", "recipient", "customer",
                  "consignee name", "importer name", "buyer name", "empfänger", "einführer",
                  "destinataire", "importateur", "consignatario", "importador"),
}
# fmt: on

_UNIT_HINT = re.compile(r"^(.*?)\s*(?:[(\[]\s*(?:in\s+)?([^)\]]+?)\s*[)\]]|\s+in\s+(\S+))\s*$")


def header_key(header: str) -> str:
    """Fold a header for comparison: accents, case, spacing and punctuation are ignored."""
    text = unicodedata.normalize("NFKD", CONTROL_CHARS.sub("", str(header)))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return re.sub(r"[\W_]+", "", text) or text.strip()


_KEY_TO_FIELD: dict[str, tuple[str, int]] = {}
for _field, _names in HEADER_NAMES.items():
    for _rank, _name in enumerate(_names):
        _KEY_TO_FIELD.setdefault(header_key(_name), (_field, _rank))


def _recognise_one(header: str) -> tuple[str, int, str] | None:
    """``(field, rank, unit hint)`` for a header, also read without a trailing "(kg)"."""
    if len(header) > 200:  # no header is that long; keeps the regex below linear
        return None
    hit = _KEY_TO_FIELD.get(header_key(header))
    if hit is not None:
        return hit[0], hit[1], ""
    m = _UNIT_HINT.match(header)
    if m is not None and (hit := _KEY_TO_FIELD.get(header_key(m.group(1)))) is not None:
        return hit[0], hit[1] + 1000, (m.group(2) or m.group(3) or "").strip()
    return None


def _normalise_field(name: str) -> str:
    """A field name as ``--map`` may write it ("Line ID", "hs-code") in canonical form."""
    return re.sub(r"[\s-]+", "_", name.strip().casefold())


def check_mapping(mapping: Mapping[str, str] | None) -> dict[str, str]:
    """A ``--map`` mapping with canonical field names and stripped headers.

    The pseudo-field :data:`IGNORE` names headers left unread (several joined by
    :data:`IGNORE_SEP`). Raises ManifestError on an unknown field or an empty header.
    """
    out: dict[str, str] = {}
    for field, header in (mapping or {}).items():
        key = _normalise_field(field)
        if key == IGNORE:  # headers left unread: one, or several joined by IGNORE_SEP
            kept = [h.strip() for h in str(header).split(IGNORE_SEP) if h.strip()]
            if not kept:
                raise ManifestError(f"--map {IGNORE}= needs a header name after '='")
            out[IGNORE] = IGNORE_SEP.join(dict.fromkeys(kept))
            continue
        if key not in FIELDS:
            raise ManifestError(
                f"--map names unknown field {field!r}; the fields are: {', '.join(FIELDS)}"
            )
        if not str(header).strip():
            raise ManifestError(f"--map {key}= needs a header name after '='")
        out[key] = str(header).strip()
    return out


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """Turn ``["description=Goods"]`` into ``{"description": "Goods"}``.

    Raises ManifestError on a pair without '=' or an unknown field name.
    """
    out: dict[str, str] = {}
    for pair in pairs:
        field, sep, header = pair.partition("=")
        if not sep or not field.strip():
            raise ManifestError(f"--map expects field=Header, got {pair!r}")
        checked = check_mapping({field: header})
        out = with_ignored(out, ignored_of(checked)) if IGNORE in checked else {**out, **checked}
    return out


def ignored_of(mapping: Mapping[str, str]) -> tuple[str, ...]:
    """The headers a mapping says to leave unread (its :data:`IGNORE` entry)."""
    return tuple(h for h in mapping.get(IGNORE, "").split(IGNORE_SEP) if h)


def with_ignored(mapping: Mapping[str, str], headers: Sequence[str]) -> dict[str, str]:
    """``mapping`` that also leaves ``headers`` unread (for a caller building one by hand)."""
    out = {f: h for f, h in mapping.items() if f != IGNORE}
    kept = [*ignored_of(mapping), *(h for h in headers if h)]
    if kept:
        out[IGNORE] = IGNORE_SEP.join(dict.fromkeys(kept))
    return out


def clean_header(value: object) -> str:
    """A header cell as compared: its text without control characters, spacing collapsed."""
    return " ".join(CONTROL_CHARS.sub("", cell_text(value)).split())


def _find_mapped(header: str, headers: Sequence[str]) -> int | None:
    """Index of the mapped ``header`` among ``headers`` (as written, else folded), or ``None``."""
    for i, h in enumerate(headers):
        if h == header:
            return i
    key = header_key(header)
    return next((i for i, h in enumerate(headers) if h and header_key(h) == key), None)


def header_row(rows: Sequence[Sequence[str]], mapping: Mapping[str, str]) -> int | None:
    """Index of the header among the first rows: the first naming a mapped header or an
    identifier field, else the first naming any field, else the first non-empty row."""

    mapped = {f: h for f, h in mapping.items() if f != IGNORE}

    def fields(row: Sequence[str]) -> set[str]:
        found = {f for f, h in mapped.items() if _find_mapped(h, row) is not None}
        return found | {hit[0] for h in row if h and (hit := _recognise_one(h))}

    named = [fields(row) for row in rows]
    wanted = {*mapped, *IDENTIFIER_FIELDS}
    for at in (
        next((i for i, got in enumerate(named) if got & wanted), None),
        next((i for i, got in enumerate(named) if got), None),
    ):
        if at is not None:
            return at
    return next((i for i, row in enumerate(rows) if any(row)), None)


def recognise(
    headers: Sequence[str], mapping: Mapping[str, str], where: str, line: int
) -> tuple[dict[str, int], dict[str, str], tuple[str, ...], str]:
    """Map fields to column indices: ``(indices, field -> header, ignored headers, unit hint)``.

    Mapped headers win; other columns are recognised by name, the best-ranked spelling first.
    Raises ManifestError (naming ``where`` and ``line``) when a mapped header is missing or no
    identifier column (description, CAS, SMILES) is found.
    """
    shown = ", ".join(repr(h) for h in headers if h) or "(none)"
    unread = {i for h in ignored_of(mapping) if (i := _find_mapped(h, headers)) is not None}
    indices: dict[str, int] = {}
    for field, header in mapping.items():
        if field == IGNORE:
            continue
        idx = _find_mapped(header, headers)
        if idx is None:
            raise ManifestError(
                f"--map {field}={header!r}: there is no such column; the headers are: {shown}",
                path=where,
                line=line,
                field=field,
            )
        indices[field] = idx
    candidates = sorted(
        (hit[1], i, hit[0], hit[2])
        for i, h in enumerate(headers)
        if h
        and i not in indices.values()
        and i not in unread
        and (hit := _recognise_one(h)) is not None
    )
    unit_hint = ""
    for _rank, i, field, hint in candidates:
        if field not in indices and i not in indices.values():
            indices[field] = i
            unit_hint = hint if field == "quantity" else unit_hint
    if not any(f in indices for f in IDENTIFIER_FIELDS):
        raise ColumnsNotRecognised(
            "no column for the goods description, CAS number, SMILES or InChI was recognised; the "
            f"headers found are: {shown}. Name the column with --map description=<header> "
            "(or cas=<header>)",
            path=where,
            line=line,
            headers=tuple(headers),
            columns={f: headers[i] for f, i in sorted(indices.items(), key=lambda kv: kv[1])},
        )
    columns = {f: headers[i] for f, i in sorted(indices.items(), key=lambda kv: kv[1])}
    used = set(indices.values())
    ignored = tuple(h for i, h in enumerate(headers) if h and i not in used)
    return indices, columns, ignored, unit_hint


def cell_text(value: object) -> str:
    """An XLSX cell (or a JSON value) as text: integral floats lose their '.0'."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)
