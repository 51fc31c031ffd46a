"""The architecture holds: import contracts kept (and a broken one fails), modules stay small."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "precursorwatch"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

#: A module longer than this holds two jobs (docs/ARCHITECTURE.md): split it by job.
MAX_MODULE_LINES = 500


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with the project's contracts on the package under ``tree/src``."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=tree,
        env={"PYTHONPATH": str(tree / "src"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _copy_package(tmp_path: Path) -> Path:
    shutil.copytree(
        PACKAGE, tmp_path / "src" / "precursorwatch", ignore=shutil.ignore_patterns("__pycache__")
    )
    return tmp_path


def test_the_contracts_are_kept() -> None:
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        (
            "engine/judge.py",
            "from precursorwatch.store import engine as _store_engine",
            "The core (chemistry, identification, engine) knows nothing",
        ),
        (
            "store/audit.py",
            "import precursorwatch.web.errors",
            "The store knows nothing of the web",
        ),
        ("engine/scoring.py", "from rdkit import Chem", "Only the chemistry package imports RDKit"),
        ("models.py", "import precursorwatch.run.results", "No import cycles"),
    ],
)
def test_a_broken_contract_fails(tmp_path: Path, module: str, line: str, contract: str) -> None:
    tree = _copy_package(tmp_path)
    path = tree / "src" / "precursorwatch" / module
    path.write_text(path.read_text() + f"\n{line}\n")
    done = _lint_imports(tree)
    assert done.returncode != 0
    assert "BROKEN" in done.stdout
    assert contract in " ".join(done.stdout.split())


def test_no_module_is_over_the_limit() -> None:
    long = {
        str(path.relative_to(PACKAGE)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_the_architecture_page_names_what_exists() -> None:
    """Every module path and package the architecture page names is in the tree, and every
    package of the tree is on the page."""
    import re

    page = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([a-z_]+/(?:[a-z_]+/)?[a-z_]*\.py)`", page))
    assert named, "the page names no module"
    missing = sorted(p for p in named if not (PACKAGE / p).is_file() and not (ROOT / p).is_file())
    assert missing == []
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert sorted(p for p in packages if f"`{p}/`" not in page) == []
