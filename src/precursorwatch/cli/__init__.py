"""The command line: thin commands over the library (parse arguments, call, print).

Each module registers its commands on the Typer apps of :mod:`precursorwatch.cli.common`.
"""

# isort: off
# Commands are listed in --help in the order their modules register them.
from precursorwatch.cli import screening
from precursorwatch.cli import lists
from precursorwatch.cli import law
from precursorwatch.cli import admin
from precursorwatch.cli import parties

# isort: on
from precursorwatch.cli.common import app

__all__ = ["app", "main"]
_COMMANDS = (screening, lists, law, admin, parties)


def main() -> None:
    """Console-script entry point."""
    app()
