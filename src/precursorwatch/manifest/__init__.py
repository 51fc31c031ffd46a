"""Manifest reading: a CSV, TSV or XLSX file to frames of canonical columns.

Reading flows one way: ``layout`` (format, encoding, delimiter, header row, columns; the
pre-scan of ``scan``) -> a reader of raw chunks (``csv``: Arrow for strictly quoted files, the
csv module for the rest; ``xlsx``) -> ``clean`` (canonical columns, per-line warnings).
``model`` holds the values passed between them, ``read`` the public functions. ``headers``
names the columns, ``quantities`` reads declared amounts, ``line_ids`` finds repeated ids.
"""
