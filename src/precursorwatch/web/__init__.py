"""The web layer: the HTTP API (``/v1``) for border systems and the pages for officers.

``create_app(settings, store)`` builds the FastAPI app; ``precursorwatch serve`` runs it.
"""

from __future__ import annotations

from precursorwatch.web.app import create_app

__all__ = ["create_app"]
