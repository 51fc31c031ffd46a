"""What judging a distinct declaration makes, and the JSON form the store's cache keeps.

A :data:`Template` is a judged declaration: its :class:`~precursorwatch.models.LineResult`
without the evidence, and the evidence as the JSON text every line of it carries (built once;
a warm run never parses it). :class:`Judged` gathers what one round of judging made, also in
the JSON form that the persistent cache stores and that forked workers send back (plain
lists and dicts pickle several times faster than dataclasses). Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from precursorwatch.engine.matchers import StructureId
from precursorwatch.identify.describe import DescriptionId
from precursorwatch.models import Evidence, LineResult
from precursorwatch.serial import evidence_to_dict, to_json

#: A judged distinct declaration: the result without its evidence, and the evidence JSON.
Template = tuple[LineResult, str]

#: What a cached template keeps of its result, in this order: a line's id is its own, the
#: evidence is the JSON text beside them, and the warnings are the declaration's (what was
#: written wrong in it, such as an unreadable InChI), added to each line's own. A flat array
#: decodes fastest: a warm run reads one per distinct declaration.
_TEMPLATE_FIELDS = tuple(
    f.name for f in fields(LineResult) if f.name not in ("line_id", "evidence")
)


def template_of(result: LineResult) -> Template:
    """The template of a judged result (its evidence turned into JSON text once)."""
    evidence = json.dumps([evidence_to_dict(e) for e in result.evidence])
    return replace(result, evidence=()), evidence


def template_to_json(template: Template) -> dict[str, Any]:
    """The cache's form of a template: the result as a flat array, and the evidence JSON."""
    result, evidence = template
    return {"result": [getattr(result, f) for f in _TEMPLATE_FIELDS], "evidence_json": evidence}


def template_from_json(data: Mapping[str, Any]) -> Template:
    """The template :func:`template_to_json` made; raises TypeError, ValueError or KeyError
    on a value of another shape (the caller judges the declaration again)."""
    values = dict(zip(_TEMPLATE_FIELDS, data["result"], strict=True))
    result = LineResult(
        "",
        bool(values["flagged"]),
        str(values["risk"]),
        str(values["matched_key"]),
        str(values["matched_name"]),
        str(values["matched_cas"]),
        tuple(values["lists"]),
        str(values["match_type"]),
        float(values["score"]),
        str(values["reason"]),
        warnings=tuple(str(w) for w in values["warnings"]),
    )
    return result, str(data["evidence_json"])


@dataclass
class Judged:
    """What one round of judging made: the templates in the order of the declarations, the
    same in JSON form, and the new structure evidence (by structure signature, per matcher)
    and new descriptions in JSON form. A forked worker leaves ``templates`` empty."""

    templates: list[Template]
    json: list[dict[str, Any]]
    structures: dict[str, dict[str, list[dict[str, Any]]]]
    descriptions: dict[str, dict[str, Any]]
    #: The structures a forked worker identified (``Screener.structures``' new entries): the
    #: parent keeps them, so that a later chunk's workers do not parse them again.
    identified: dict[str, StructureId] = field(default_factory=dict)


@dataclass
class JudgedParts:
    """A round of judging, part by part as the parts come: the positions of a part's
    declarations among those judged, and what judging them made. The taker calls ``stop``
    once it is done with them, after the last part or early: forked workers are shut down
    (parts not started are dropped, running ones waited for)."""

    parts: Iterator[tuple[list[int], Judged]]
    stop: Callable[[], None] = lambda: None
    #: Whether other processes (forked workers) judge the parts while the taker goes on; a
    #: round judged in the taker's own process runs as its parts are asked for.
    elsewhere: bool = False


def judged_json(
    templates: list[Template],
    described: Mapping[str, DescriptionId],
    structures: Mapping[str, Mapping[str, Sequence[Evidence]]],
) -> Judged:
    """:class:`Judged` of ``templates``, the new ``described`` descriptions and the new
    structure evidence ``structures``."""
    return Judged(
        templates,
        [template_to_json(t) for t in templates],
        {
            sig: {n: [evidence_to_dict(e) for e in evs] for n, evs in found.items()}
            for sig, found in structures.items()
        },
        {t: to_json(d) for t, d in described.items()},
    )
