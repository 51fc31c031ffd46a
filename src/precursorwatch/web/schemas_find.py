"""Schemas of the finding routes (:mod:`precursorwatch.web.routes_find`): the screenings
list."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ScreeningListItem(BaseModel):
    """One screening in the list: who screened which file when, and what is still open."""

    screening_id: str
    created_at: datetime
    actor: str
    input_name: str
    as_of: str = Field(description="The day whose law was applied, YYYY-MM-DD ('' if unknown).")
    lines: int
    flagged: int
    by_risk: dict[str, int]
    decided: int = Field(description="Lines with a decision.")
    open: int = Field(description="Flagged lines without a decision.")
    pruned: bool = Field(description="Its lines were pruned (the record is kept).")


class ScreeningList(BaseModel):
    """A page of screenings, newest first, and how many the filters keep."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "screenings": [
                        {
                            "screening_id": "5f0c3e7d9a1b4c2e8f6a7b3c1d2e4f50",
                            "created_at": "2026-12-07T05:00:00+00:00",
                            "actor": "border-system",
                            "input_name": "manifest.csv",
                            "as_of": "2026-12-07",
                            "lines": 120,
                            "flagged": 4,
                            "by_risk": {"high": 1, "medium": 3, "none": 116},
                            "decided": 1,
                            "open": 3,
                            "pruned": False,
                        }
                    ],
                    "total": 1,
                    "offset": 0,
                    "limit": 50,
                    "next_offset": None,
                }
            ]
        }
    )

    screenings: list[ScreeningListItem]
    total: int
    offset: int
    limit: int
    next_offset: int | None
