"""Settings: declared once with defaults and help, read from PRECURSORWATCH_* variables.

Built by :func:`get_settings` (never at import), so the CLI's ``--db`` and tests can override.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """The user's data directory for the embedded store (platformdirs)."""
    return Path(platformdirs.user_data_dir("precursorwatch", appauthor=False))


def default_cache_dir() -> Path:
    """The user's cache directory (platformdirs): files derived from installed packages."""
    return Path(platformdirs.user_cache_dir("precursorwatch", appauthor=False))


class Settings(BaseSettings):
    """Every setting of precursorwatch; each is documented in the README (a test checks)."""

    model_config = SettingsConfigDict(env_prefix="PRECURSORWATCH_", extra="ignore")

    database_url: str = Field(
        default="",
        description="SQLAlchemy URL of the store; empty means a SQLite file in data_dir.",
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Directory of the embedded SQLite store and caches.",
    )
    cache_dir: Path = Field(
        default_factory=default_cache_dir,
        description="Directory of the PubChem look-up index, built once per installation.",
    )
    lists_dir: Path | None = Field(
        default=None,
        description="Directory of the bundled list files; empty means the ones shipped.",
    )
    max_lines_per_request: int = Field(
        default=10_000, description="Most lines one POST /v1/screen may carry (413 beyond)."
    )
    max_upload_bytes: int = Field(
        default=50_000_000, description="Largest manifest upload accepted, in bytes (413 beyond)."
    )
    opsin_timeout_s: float = Field(
        default=60.0, description="Time limit of one OPSIN batch call, in seconds."
    )
    screen_workers: int = Field(
        default=1,
        description="Worker processes of the server that screen uploads and re-screens "
        "(0: in the server's own process).",
    )
    job_upload_bytes: int = Field(
        default=2_000_000,
        ge=0,
        description="Uploads larger than this many bytes are screened as a job: POST "
        "/v1/screenings answers 202 at once and GET /v1/screenings/{id} shows the progress "
        "(0: every upload is answered when it is screened).",
    )
    alert_window_days: int = Field(
        default=180,
        ge=1,
        description="Days of a consignee's shipments the cross-line alerts look back over.",
    )
    auth_failures_limit: int = Field(
        default=30,
        ge=0,
        description="Unknown or revoked keys one client address may send within "
        "auth_failures_window_s before its key checks are answered 429 (0: no limit).",
    )
    auth_failures_window_s: int = Field(
        default=300,
        ge=1,
        description="Seconds over which failed authentications of one address are counted.",
    )
    rate_limit_per_minute: int = Field(
        default=3000,
        ge=0,
        description="Requests one API key may make per minute (bursts up to as many); "
        "beyond, 429 with Retry-After (0: no limit).",
    )
    idempotency_window_s: int = Field(
        default=86_400,
        ge=1,
        description="Seconds an Idempotency-Key's first answer is kept and replayed.",
    )

    def resolved_database_url(self) -> str:
        """The URL to connect to: the setting, or the SQLite file in ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'precursorwatch.sqlite'}"


def get_settings(**overrides: object) -> Settings:
    """Build the settings from the environment, with explicit overrides winning."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean)  # type: ignore[arg-type]
