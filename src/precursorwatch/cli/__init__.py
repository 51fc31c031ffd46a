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
from precursorwatch.cli.exit import exit_now

__all__ = ["app", "main"]
_COMMANDS = (screening, lists, law, admin, parties)


def main() -> None:
    """Console-script entry point: the command, then the end of the process without the
    interpreter's teardown (:mod:`precursorwatch.cli.exit`). An unexpected error ends it as
    usual, with its traceback."""
    try:
        app()
    except SystemExit as exc:
        exit_now(exc.code)
    exit_now(0)
