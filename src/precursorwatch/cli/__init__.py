"""The command line: thin commands over the library."""

from precursorwatch.cli.app import main

__all__ = ["main"]
