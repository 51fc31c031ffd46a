"""Manifest reading: layout detection, one reader per format, headers, cleaning, quantities,
line ids."""
