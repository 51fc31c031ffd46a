"""The one exception tree of precursorwatch.

Library code raises these; only the edges translate them (the CLI to exit code 2 and one line
on stderr, the API to a 4xx JSON error). Every message names what was wrong, where (file, line,
field) and what to do.

    PrecursorWatchError
    ├── InputError                  a user's input cannot be used (exit 2 / HTTP 422)
    │   ├── ManifestError           a manifest file: unreadable, no usable columns, bad row
    │   ├── ListFileError           a list file: schema, CAS check digit, SMILES, InChIKey, keys
    │   └── QueryError              a look-up that names nothing known (HTTP 404)
    ├── TooLargeError               input over a configured limit (HTTP 413)
    ├── StoreError                  the database cannot be opened, migrated or written
    └── ResolverError               an external resolver (OPSIN/Java) failed as a whole
"""

from __future__ import annotations


class PrecursorWatchError(Exception):
    """Base of every error precursorwatch raises on purpose."""


class InputError(PrecursorWatchError):
    """A user's input cannot be used; the message says where and what to do."""


class ManifestError(InputError):
    """A manifest cannot be read: its file, line and field are in the message."""

    def __init__(
        self, message: str, *, path: str = "", line: int | None = None, field: str = ""
    ) -> None:
        where = ", ".join(
            part
            for part in (
                path,
                f"line {line}" if line is not None else "",
                f"field {field!r}" if field else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.path, self.line, self.field = path, line, field


class ColumnsNotRecognised(ManifestError):
    """No identifier column (description, CAS, SMILES, InChI) was recognised in a manifest's
    header row. ``headers``: the header row as read; ``columns``: field -> header of what was
    recognised. A caller may ask which column holds what and read the file again with that
    mapping (the upload page does). Rebuilt from its message alone, both are empty."""

    headers: tuple[str, ...] = ()
    columns: dict[str, str] = {}  # noqa: RUF012 - a read-only default, replaced per instance

    def __init__(
        self,
        message: str,
        *,
        path: str = "",
        line: int | None = None,
        headers: tuple[str, ...] = (),
        columns: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, path=path, line=line)
        self.headers, self.columns = headers, dict(columns or {})


class ListFileError(InputError):
    """A list file is refused whole: file, entry and field are named in the message."""

    def __init__(self, message: str, *, path: str = "", entry: str = "", field: str = "") -> None:
        where = ", ".join(
            part
            for part in (
                path,
                f"entry {entry!r}" if entry else "",
                f"field {field!r}" if field else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.path, self.entry, self.field = path, entry, field


class QueryError(InputError):
    """A look-up (substance, list code, screening id) names nothing the store knows."""


class TooLargeError(PrecursorWatchError):
    """An input is over a configured limit (lines per request, upload size)."""


class StoreError(PrecursorWatchError):
    """The store cannot be opened, migrated or written."""


class ResolverError(PrecursorWatchError):
    """An external resolver (OPSIN through Java) failed for a whole batch."""
