"""The packages depend in one direction: import-linter's contracts in pyproject.toml (layers,
the composition root imported by none, no cycle between the modules of a package) hold."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def test_every_import_contract_is_kept() -> None:
    """`lint-imports` finds no import against the layers, the root, or a cycle in a package."""
    done = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache", "--no-logo"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Contracts: {len(CONTRACTS['contracts'])} kept, 0 broken." in done.stdout


def test_the_contracts_cover_every_package() -> None:
    """A new top-level package is under the contracts too: each is in the layers and in the
    acyclic check, so none escapes the one direction."""
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert set(CONTRACTS["root_packages"]) == packages
    by_type = {c["type"]: c for c in CONTRACTS["contracts"]}
    layered = {name.strip() for layer in by_type["layers"]["layers"] for name in layer.split("|")}
    assert layered == packages
    assert set(by_type["acyclic_siblings"]["ancestors"]) == packages
