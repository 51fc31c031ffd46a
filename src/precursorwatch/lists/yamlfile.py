"""Reading list files: YAML that keeps the line of every mapping and key, text with clear errors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from precursorwatch.errors import ListFileError

LINE_KEY = "__line__"  # the line where a YAML mapping starts
LINES_KEY = "__lines__"  # the line of each of its keys

#: libyaml's parser where PyYAML was built with it (about 5x faster on the bundled lists, which
#: every new store loads); the pure-Python one otherwise. Both are safe loaders.
SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineLoader(SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader that keeps dates as text, reads only true/false as booleans (not yes/no/on,
    which would turn Norwegian ``no`` into False), refuses duplicate keys and records the line
    of every mapping under ``__line__``."""


LineLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if not tag.endswith((":timestamp", ":bool"))]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def construct_mapping(loader: LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    lines: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in lines:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        lines[key] = key_node.start_mark.line + 1
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=True)
    mapping[LINE_KEY] = node.start_mark.line + 1
    mapping[LINES_KEY] = lines
    return mapping


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ListFileError("no such file; check the path", path=str(path)) from None
    except UnicodeDecodeError:
        raise ListFileError("not UTF-8 text; save the file as UTF-8", path=str(path)) from None
    except OSError as exc:
        raise ListFileError(f"cannot read the file ({exc.strerror})", path=str(path)) from None


def read_yaml(path: Path) -> dict[str, Any]:
    """The file's top-level mapping; raises ListFileError with the line of a syntax error."""
    text = read_text(path)
    try:
        data = yaml.load(text, Loader=LineLoader)  # LineLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ListFileError(
            f"YAML syntax error{line}: {exc.problem or exc.context}; fix the indentation, "
            "quoting or punctuation there",
            path=str(path),
        ) from None
    except yaml.YAMLError as exc:
        raise ListFileError(f"YAML syntax error: {exc}", path=str(path)) from None
    if not isinstance(data, dict):
        raise ListFileError(
            "the file must be a YAML mapping (field: value lines) at the top", path=str(path)
        )
    return data


# --- small checks ---------------------------------------------------------------------------


def line_of(raw: Mapping[str, Any], field: str = "") -> int:
    """The line of ``field`` in a YAML mapping, else of the mapping itself (0 when unknown)."""
    lines = raw.get(LINES_KEY)
    if field and isinstance(lines, dict) and isinstance(lines.get(field), int):
        return int(lines[field])
    value = raw.get(LINE_KEY, 0)
    return value if isinstance(value, int) else 0
