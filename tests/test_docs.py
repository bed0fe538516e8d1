"""The documentation in docs/ keeps up with the code: every error code with its status, every
environment variable, every module of the packages, and no link to a file a clone lacks."""

from __future__ import annotations

import re
from pathlib import Path

from display_server.errors import ERRORS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PACKAGES = ("antrian", "protocol", "texts", "display_server", "display_screens", "audio",
            "counter_client")


def doc(name: str) -> str:
    return (DOCS / name).read_text()


def test_api_md_lists_every_error_code_with_its_status() -> None:
    """docs/api.md's error table has one row per code of display_server/errors.py, with its
    HTTP status, and no code the server does not have."""
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| (\d{3}) \|", doc("api.md"), re.MULTILINE))
    assert rows == {code: str(status) for code, (status, _) in ERRORS.items()}


def test_operations_md_names_every_environment_variable() -> None:
    """Each ANTRIAN_* variable the code reads is in docs/operations.md's settings."""
    used = {name for package in PACKAGES for path in (ROOT / package).rglob("*.py")
            for name in re.findall(r"ANTRIAN_[A-Z_]+", path.read_text())}
    documented = set(re.findall(r"`(ANTRIAN_[A-Z_]+)`", doc("operations.md")))
    assert used - documented == set()


def test_architecture_md_names_every_module_and_only_modules_that_exist() -> None:
    """The module map names each module of the packages once, and each path it names exists."""
    named = re.findall(r"`([a-z_]+/[a-z_/]*[a-z_]+\.(?:py|lua|js))`", doc("architecture.md"))
    assert [path for path in named if not (ROOT / path).is_file()] == []
    modules = {str(path.relative_to(ROOT)) for package in PACKAGES
               for path in (ROOT / package).glob("*.py") if path.name != "__init__.py"}
    assert modules - set(named) == set()


def test_links_between_documents_resolve_and_nothing_points_outside_the_repository() -> None:
    """README and docs/ link only to files the repository has (not ../shared/SPEC.md)."""
    pages = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
    for page in pages:
        text = page.read_text()
        assert "../shared" not in text, page
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
            assert (page.parent / target).exists(), (page.name, target)
    assert "docs/contract.md" in (ROOT / "README.md").read_text()
