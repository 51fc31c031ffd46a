"""The digest of the engine's code that keys the persistent caches of judged results.

Results judged by other code must not be reused: the digest hashes the files of the engine's
packages (a directory each, so a module added there joins it by being there), the shared
domain types with their JSON form, and the versions of RDKit and of the ``chemicals`` table.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from precursorwatch.chem import molecule

#: What decides a line's judged result, hashed into the persistent cache's keys: the engine's
#: packages (judging, chemistry, identification, and the list loader that builds the index)
#: and the shared domain types with their JSON form. A module added to one of these packages
#: joins the digest by being there; nothing else does.
ENGINE_PACKAGES: tuple[str, ...] = ("chem", "identify", "engine", "lists")
ENGINE_MODULES: tuple[str, ...] = ("models.py", "serial.py")


@cache
def engine_digest() -> str:
    """A digest of the engine's code, RDKit's and ``chemicals``' versions (cache keys use it).

    Any change to how a line is judged (a matcher tuned, a transform added, a new PubChem
    table) gives a new digest, so results cached by an older engine are not reused.
    """
    import importlib.metadata

    chemicals_version = importlib.metadata.version("chemicals")  # without importing it
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(f"{molecule.rdkit_version()}|{chemicals_version}".encode())
    paths = [root / name for name in ENGINE_MODULES]
    for package in ENGINE_PACKAGES:
        paths += sorted((root / package).rglob("*.py"))
    for path in paths:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
