"""What ``pip install`` (not editable) puts in the wheel: every subpackage and every
file the code reads, as pyproject.toml lists them. An editable install, which the other
tests use, finds any folder of the checkout, so only these checks see a package that a
split left out of the list."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "setuptools"
]


def folder(package: str) -> Path:
    """Where the source of ``package`` is, as ``package-dir`` maps it."""
    return ROOT / SETUPTOOLS.get("package-dir", {}).get(package, package.replace(".", "/"))


def test_every_package_of_the_source_is_listed() -> None:
    found = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "briefings").rglob("*.py")
        if "__pycache__" not in path.parts
    }
    missing = found - set(SETUPTOOLS["packages"])
    assert not missing, f"pyproject.toml [tool.setuptools] packages lacks {sorted(missing)}"


def test_every_data_file_is_package_data() -> None:
    for package in SETUPTOOLS["packages"]:
        patterns = SETUPTOOLS["package-data"].get(package, [])
        for path in folder(package).iterdir():
            if path.is_file() and path.suffix not in (".py", ".pyc"):
                assert any(fnmatch.fnmatch(path.name, p) for p in patterns), (
                    f"{path.relative_to(ROOT)} would not be in the wheel: add its pattern to "
                    f"[tool.setuptools.package-data] {package!r}"
                )
