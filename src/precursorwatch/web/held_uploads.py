"""Uploads kept for a moment while an officer says which column holds what.

When the upload page cannot tell which column of a manifest holds the goods description (or
CAS number), the file is not sent again: it waits here, server-side, under a random token,
until the officer has chosen a field per column. Each waits in a directory of its own under
:data:`ROOT` (the system's temporary directory, like every upload), with a small JSON record
of who uploaded it, so any worker process of the server finds it. A held upload is bound to
the key that uploaded it, is taken once (:meth:`HeldUploads.take` moves it out of reach), and
is removed after :data:`KEEP_S` unused. At most :data:`MAX_PER_KEY` wait per key (the oldest
goes first) and :data:`MAX_HELD` in all (then a new one is refused).
"""

from __future__ import annotations

import hmac
import json
import os
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from precursorwatch.errors import PrecursorWatchError, TooLargeError

#: Where held uploads wait (one directory each, named by its token).
ROOT = Path(tempfile.gettempdir()) / f"precursorwatch-held-{os.getuid()}"
#: Seconds a held upload waits for its columns before it is removed.
KEEP_S = 30 * 60
#: Held uploads at most, in all and per key.
MAX_HELD = 50
MAX_PER_KEY = 3
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
_RECORD = "held.json"


@dataclass(frozen=True)
class Held:
    """An upload waiting for its columns: the file, the name shown for it, who uploaded it,
    the day of the law asked for, and its header row with what was recognised."""

    token: str
    path: Path
    name: str
    key_id: str
    as_of: str
    headers: tuple[str, ...]
    columns: dict[str, str]
    created: float


class HeldUploads:
    """The held uploads under ``root`` (see the module's docstring)."""

    def __init__(
        self,
        root: Path = ROOT,
        keep_s: float = KEEP_S,
        max_held: int = MAX_HELD,
        max_per_key: int = MAX_PER_KEY,
    ) -> None:
        self.root, self.keep_s = root, keep_s
        self.max_held, self.max_per_key = max_held, max_per_key

    def hold(
        self,
        path: Path,
        name: str,
        key_id: str,
        as_of: str,
        headers: tuple[str, ...],
        columns: dict[str, str],
    ) -> Held:
        """Keep the saved upload ``path`` (whose directory is then removed) for ``key_id``;
        the held upload, under a new token. Raises TooLargeError when :data:`MAX_HELD`
        uploads wait already, PrecursorWatchError when :attr:`root` is not the server's own
        (``path``'s directory is left to the caller then)."""
        self._make_root()
        waiting = self.sweep()
        mine = sorted((h for h in waiting if h.key_id == key_id), key=lambda h: h.created)
        for old in mine[: max(0, len(mine) - self.max_per_key + 1)]:
            self.drop(old.token)
            waiting.remove(old)
        if len(waiting) >= self.max_held:
            raise TooLargeError(
                "too many uploads are waiting for their columns to be chosen: try again in a "
                "few minutes"
            )
        token = secrets.token_urlsafe(32)
        home = self.root / token
        home.mkdir(mode=0o700)
        target = home / path.name
        shutil.move(str(path), target)
        shutil.rmtree(path.parent, ignore_errors=True)
        held = Held(token, target, name, key_id, as_of, headers, dict(columns), time.time())
        record = {
            "file": target.name,
            "name": name,
            "key_id": key_id,
            "as_of": as_of,
            "headers": list(headers),
            "columns": held.columns,
            "created": held.created,
        }
        (home / _RECORD).write_text(json.dumps(record), encoding="utf-8")
        return held

    def get(self, token: str, key_id: str) -> Held | None:
        """The upload held under ``token`` for ``key_id``; None when there is none (an unknown,
        malformed, expired or used token, or another key's upload)."""
        if not _TOKEN.fullmatch(token):
            return None
        held = self._read(self.root / token)
        if held is None or not hmac.compare_digest(held.key_id.encode(), key_id.encode()):
            return None
        if time.time() - held.created > self.keep_s:
            self.drop(token)
            return None
        return held

    def take(self, token: str, key_id: str) -> Held | None:
        """Take the upload held under ``token`` for ``key_id`` out of reach (a second take of
        it finds nothing); the caller owns, and removes, its ``path.parent``. None as for
        :meth:`get`."""
        held = self.get(token, key_id)
        if held is None:
            return None
        claimed = Path(tempfile.mkdtemp(prefix="precursorwatch-upload-"))
        try:
            os.rename(self.root / token, claimed / "held")
        except OSError:  # taken by another request in between
            shutil.rmtree(claimed, ignore_errors=True)
            return None
        home = claimed / "held"
        return Held(
            held.token,
            home / held.path.name,
            held.name,
            held.key_id,
            held.as_of,
            held.headers,
            held.columns,
            held.created,
        )

    def drop(self, token: str) -> None:
        """Remove the upload held under ``token`` (nothing when there is none)."""
        if _TOKEN.fullmatch(token):
            shutil.rmtree(self.root / token, ignore_errors=True)

    def sweep(self) -> list[Held]:
        """Remove the expired (and unreadable) held uploads; those still waiting."""
        waiting: list[Held] = []
        if not self.root.is_dir():
            return waiting
        now = time.time()
        for home in self.root.iterdir():
            held = self._read(home) if _TOKEN.fullmatch(home.name) else None
            if held is not None and now - held.created <= self.keep_s:
                waiting.append(held)
                continue
            try:
                age = now - home.stat().st_mtime
            except OSError:
                continue
            if held is not None or age > self.keep_s:  # a half-written one gets its time
                shutil.rmtree(home, ignore_errors=True)
        return waiting

    def _make_root(self) -> None:
        """Create :attr:`root` (owner only); refuse one that is a link or another user's, as
        another local user may have made it in a shared temporary directory first."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = self.root.lstat()
        if self.root.is_symlink() or info.st_uid != os.getuid() or info.st_mode & 0o077:
            raise PrecursorWatchError(
                f"{self.root} is not the server's own directory (a link, another user's, or "
                "open to others): remove it, or start the server with another TMPDIR"
            )

    def _read(self, home: Path) -> Held | None:
        try:
            record = json.loads((home / _RECORD).read_text(encoding="utf-8"))
            return Held(
                home.name,
                home / Path(str(record["file"])).name,
                str(record["name"]),
                str(record["key_id"]),
                str(record["as_of"]),
                tuple(str(h) for h in record["headers"]),
                {str(f): str(h) for f, h in dict(record["columns"]).items()},
                float(record["created"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
