"""The documentation as a newcomer follows it: links lead somewhere, and the README's
example configuration does what it says."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefings.cli import main

ROOT = Path(__file__).parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINKED = [*DOCS, ROOT / "CHANGES.md"]


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = unicodedata.normalize("NFC", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


@pytest.mark.parametrize("doc", LINKED, ids=lambda p: p.name)
def test_links_between_documents_lead_somewhere(doc: Path) -> None:
    for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, fragment = target.partition("#")
        destination = (doc.parent / path) if path else doc
        assert destination.exists(), f"{doc.name}: dead link {target}"
        if fragment and destination.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", destination.read_text(encoding="utf-8"), re.M)
            assert fragment in map(anchor, headings), f"{doc.name}: no such heading: {target}"


def readme_configuration() -> str:
    """The example of README's "`feeds.toml` in brief"."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## `feeds.toml` in brief\s+```toml\n(.*?)```", readme, re.S)
    assert block is not None
    return block.group(1)


def explain(config: Path, title: str, text: str) -> str:
    args = ["topics", "explain", "--config", str(config), "--title", title, "--text", text]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_readme_configuration_is_valid_and_its_topic_means_water(tmp_path: Path) -> None:
    config = tmp_path / "feeds.toml"
    config.write_text(readme_configuration(), encoding="utf-8")
    checked = CliRunner().invoke(main, ["--config", str(config), "check"])
    assert checked.exit_code == 0, checked.output
    assert "water: score" in explain(config, "Turkey fills two new dams", "on the Tigris.")
    assert "water" not in explain(config, "Shelling near Damascus", "The damage was heavy.")
