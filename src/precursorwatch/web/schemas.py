"""Request and response models of the HTTP API (apart from the store's records), with examples.

These are the contract of DESIGN.md §5 as pydantic models; ``api/openapi.json`` is generated
from them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.config import JsonDict

_LINE_EXAMPLE: JsonDict = {
    "line_id": "A-17",
    "description": "Acetic anhydride 99 %, 200 L drums",
    "cas": "108-24-7",
    "hs_code": "2915.24",
    "quantity": 400,
    "unit": "L",
    "origin": "DE",
    "destination": "AF",
    "consignee": "Example Trading Ltd",
}


class LineIn(BaseModel):
    """One declaration line; every field is optional but one of description, cas, smiles,
    inchi, inchikey or hs_code must be given. An invalid InChI or a key of the wrong shape is a
    warning on its line, not an error."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [_LINE_EXAMPLE]})

    line_id: str | int | None = Field(default=None, description="The sender's line id.")
    description: str | None = Field(default=None, description="Goods description as declared.")
    cas: str | None = Field(default=None, description="CAS number as declared.")
    hs_code: str | None = Field(default=None, description="HS / CN tariff code.")
    quantity: float | str | None = Field(default=None, description="Quantity (number or text).")
    unit: str | None = Field(default=None, description="Unit of the quantity (kg, L, ...).")
    smiles: str | None = Field(default=None, description="Structure as SMILES, when known.")
    inchi: str | None = Field(
        default=None, description="Structure as a standard InChI (InChI=1S/...), when known."
    )
    inchikey: str | None = Field(
        default=None, description="Standard InChIKey (XXXXXXXXXXXXXX-XXXXXXXXXX-X), when known."
    )
    origin: str | None = Field(default=None, description="Country of origin.")
    destination: str | None = Field(default=None, description="Country of destination.")
    consignor: str | None = Field(default=None, description="Consignor.")
    consignee: str | None = Field(default=None, description="Consignee.")

    @field_validator("*", mode="after")
    @classmethod
    def _no_lone_surrogates(cls, value: object) -> object:
        """JSON may escape half a UTF-16 pair (``"\\ud800"``), which no text encoding can store:
        such characters become U+FFFD."""
        if isinstance(value, str):
            return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        return value


class ScreenRequest(BaseModel):
    """A batch of declaration lines (at most ``max_lines_per_request``, 10,000 by default)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"lines": [_LINE_EXAMPLE]}]})

    lines: list[LineIn] = Field(
        min_length=1, description="The lines to screen, in order (at least one)."
    )
    as_of: str | None = Field(
        default=None,
        description="Apply the lists as they stood on this day, YYYY-MM-DD (default: today). "
        "Another form is a 422 naming as_of.",
        examples=["2026-01-10"],
    )


class EvidenceOut(BaseModel):
    """One reason to think a line is a listed substance."""

    kind: str = Field(description="cas, name, fuzzy-name, structure-identical, ...")
    substance_key: str
    score: float
    detail: str = Field(description="What matched and how, in words.")
    list_codes: list[str] = Field(default_factory=list)
    component: str = Field(default="", description="The mixture component it is about.")
    share: float | None = Field(default=None, description="That component's share, 0..1.")


class DecisionIn(BaseModel):
    """An officer's decision on a flagged line."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["cleared", "inspect", "detained", "referred"] = Field(
        description="cleared (the goods may go), inspect (held for a physical inspection), "
        "detained, or referred (to the competent authority)."
    )
    comment: str = Field(
        default="", max_length=2000, description="Why, in a few words (kept in the audit)."
    )


class DecisionOut(BaseModel):
    """The decision recorded on a line: what, why, who and when (UTC)."""

    decision: str
    comment: str
    actor: str
    at: datetime


class LineDecisionOut(DecisionOut):
    """A decision as recorded, with the line it is on."""

    screening_id: str
    line_id: str


class LineOut(BaseModel):
    """The verdict on one line (the output contract's columns; ``lists`` an array)."""

    line_id: str
    flagged: bool = Field(description="True when the risk is high or medium.")
    risk: str = Field(description="high, medium, low or none.")
    matched_key: str
    matched_name: str
    matched_cas: str
    lists: list[str]
    match_type: str
    score: float
    reason: str
    evidence: list[EvidenceOut] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list, description="Repairs made to the line.")
    decision: DecisionOut | None = Field(
        default=None, description="A stored screening's newest decision on the line, if any."
    )


_RESULT_EXAMPLE: JsonDict = {
    "line_id": "A-17",
    "flagged": True,
    "risk": "high",
    "matched_key": "acetic-anhydride",
    "matched_name": "Acetic anhydride",
    "matched_cas": "108-24-7",
    "lists": ["UN-T2", "EU-CAT2A"],
    "match_type": "cas",
    "score": 1.0,
    "reason": "CAS 108-24-7 is Acetic anhydride (UN Table II, EU category 2A).",
    "evidence": [
        {
            "kind": "cas",
            "substance_key": "acetic-anhydride",
            "score": 1.0,
            "detail": "CAS 108-24-7 is Acetic anhydride",
            "list_codes": ["UN-T2", "EU-CAT2A"],
            "component": "",
            "share": None,
        }
    ],
    "warnings": [],
}


class ScreenResponse(BaseModel):
    """A stored screening's id and every line's verdict, in input order."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "screening_id": "5f0c3e7d9a1b4c2e8f6a7b3c1d2e4f50",
                    "as_of": "2026-12-07",
                    "notices": [],
                    "lines": [_RESULT_EXAMPLE],
                }
            ]
        }
    )

    screening_id: str
    as_of: str = Field(description="The day whose law was applied, YYYY-MM-DD.")
    notices: list[str] = Field(
        default_factory=list,
        description="What to know about that day's law, e.g. lists whose data starts later.",
    )
    lines: list[LineOut]


class Summary(BaseModel):
    """Counts of a screening."""

    lines: int
    flagged: int
    by_risk: dict[str, int]


class UploadResponse(BaseModel):
    """A screened and stored manifest upload."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "screening_id": "5f0c3e7d9a1b4c2e8f6a7b3c1d2e4f50",
                    "summary": {
                        "lines": 3,
                        "flagged": 1,
                        "by_risk": {"high": 1, "medium": 0, "low": 0, "none": 2},
                    },
                    "as_of": "2026-12-07",
                    "notices": [],
                }
            ]
        }
    )

    screening_id: str
    summary: Summary
    as_of: str = Field(default="", description="The day whose law was applied, YYYY-MM-DD.")
    notices: list[str] = Field(
        default_factory=list,
        description="What to know about that day's law, e.g. lists whose data starts later.",
    )


class ScreeningInfo(BaseModel):
    """Who screened what, when, against which list versions, as the law of which day."""

    created_at: datetime
    actor: str
    input_name: str
    input_hash: str
    list_versions: dict[str, str]
    lines: int
    flagged: int
    by_risk: dict[str, int]
    as_of: str = Field(default="", description="The day whose law was applied, YYYY-MM-DD.")


class JobProgress(BaseModel):
    """How far a screening has got; ``total`` is null while it is not known (XLSX files)."""

    lines_read: int
    lines_judged: int
    total: int | None


class JobStatus(BaseModel):
    """A big upload being screened (202 of ``POST /v1/screenings``; ``GET
    /v1/screenings/{id}`` until it is complete). ``message`` says why a job failed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "screening_id": "5f0c3e7d9a1b4c2e8f6a7b3c1d2e4f50",
                    "status": "running",
                    "input_name": "manifest.csv",
                    "created_at": "2026-12-07T05:00:00+00:00",
                    "progress": {"lines_read": 40000, "lines_judged": 30000, "total": 100000},
                    "message": "",
                }
            ]
        }
    )

    screening_id: str
    status: Literal["running", "complete", "cancelled", "failed"]
    input_name: str
    created_at: datetime
    progress: JobProgress
    message: str


class LinePageOut(BaseModel):
    """Where a page of a screening's lines lies: ``total`` lines in the screening, ``matched``
    by the filters, ``next_offset`` null on the last page."""

    offset: int
    limit: int
    total: int
    matched: int
    next_offset: int | None


class ScreeningDetail(ScreenResponse):
    """A stored screening: as ``POST /v1/screen`` answers, with its record; ``status`` is
    complete and ``progress`` counts every line."""

    status: Literal["complete"] = "complete"
    progress: JobProgress | None = None
    summary: ScreeningInfo
    page: LinePageOut | None = Field(
        default=None,
        description="Present when the answer is one page of the lines (paging asked, or "
        "over 10,000 lines).",
    )


class ListOut(BaseModel):
    """The current version of one list."""

    code: str
    title: str
    confidential: bool
    version: int
    entries: int
    substances: int
    effective_date: str
    imported_at: datetime
    content_hash: str


class ThresholdOut(BaseModel):
    """A quantity above which a list's rules apply (0 = every transaction)."""

    quantity: float
    unit: str
    per: str = ""
    note: str = ""


class EntryOut(BaseModel):
    """One entry of a list."""

    substance_key: str
    name: str
    cas: str
    category: str
    covers: list[str]
    family_name: str = ""
    family_smarts: str = ""
    thresholds: list[ThresholdOut] = Field(default_factory=list)


class ListDetail(BaseModel):
    """A list at its current version, with its entries."""

    code: str
    title: str
    legal_basis: str
    effective_date: str
    source: str
    confidential: bool
    version: int
    content_hash: str
    entries: list[EntryOut]


class ListingOut(BaseModel):
    """A substance's entry on one list."""

    list_code: str
    category: str
    covers: list[str]
    family_name: str = ""
    thresholds: list[ThresholdOut] = Field(default_factory=list)


class OtherCasOut(BaseModel):
    """The CAS number of a salt, hydrate or stereo form."""

    cas: str
    form: str


class SubstanceOut(BaseModel):
    """One chemical with its identifiers, names and list entries."""

    key: str
    name: str
    cas: str
    other_cas: list[OtherCasOut]
    smiles: str
    inchikey: str
    names: dict[str, list[str]]
    abbreviations: list[str]
    hs_codes: list[str]
    notes: str
    sources: list[str]
    listings: list[ListingOut]


class ImportResponse(BaseModel):
    """What a list import did: new, updated or unchanged, and the version it made."""

    code: str
    status: str
    version: int
    content_hash: str


class RescreenRequest(BaseModel):
    """Re-screen the declarations stored since this date (UTC) against the current lists."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"since": "2026-01-01"}]})

    since: date


class RescreenLineOut(BaseModel):
    """An earlier declaration line whose risk went up under the current lists."""

    screening_id: str
    screened_at: datetime
    actor: str
    line_id: str
    description: str
    cas: str
    consignee: str
    destination: str
    risk_before: str
    risk_after: str
    matched_key: str
    matched_name: str
    lists: list[str]
    match_type: str
    reason: str


class RescreenResponse(BaseModel):
    """The lines whose risk went up, oldest screening first."""

    since: date
    lines_checked: int
    list_versions: dict[str, str]
    lines: list[RescreenLineOut]
