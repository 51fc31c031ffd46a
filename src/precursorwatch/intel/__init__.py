"""Across lines and screenings: consignee folding, synthesis routes, cumulative quantities."""
