"""The documentation as a newcomer follows it: links lead somewhere, every command and
option is described, no option is described that a command does not take, and the
README's example configuration does what it says."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from briefings.cli import main

ROOT = Path(__file__).parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINKED = [*DOCS, ROOT / "CHANGES.md"]
GLOBAL = {"--config", "-v", "--verbose", "-h", "--help", "--version"}


def commands() -> dict[str, set[str]]:
    """Every leaf command, by its words (``subscribers add``), with its options."""
    found: dict[str, set[str]] = {}

    def walk(command: click.Command, words: list[str]) -> None:
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, [*words, name])
        else:
            found[" ".join(words)] = {
                flag for p in command.params if isinstance(p, click.Option) for flag in p.opts
            }

    walk(main, [])
    return found


def every_command() -> dict[str, click.Command]:
    """Every command and group, by its words (``""`` for ``briefings`` itself)."""
    found: dict[str, click.Command] = {}

    def walk(command: click.Command, words: list[str]) -> None:
        found[" ".join(words)] = command
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, [*words, name])

    walk(main, [])
    return found


def test_every_command_and_option_has_help() -> None:
    """``--help`` describes each command and each of its options in words."""
    for words, command in every_command().items():
        assert (command.help or "").strip(), f"briefings {words} has no help text"
        for param in command.params:
            if isinstance(param, click.Option):
                assert (param.help or "").strip(), (
                    f"briefings {words} {param.opts[-1]} has no help text"
                )


def test_command_lists_show_each_summary_whole() -> None:
    """``briefings --help`` (and a group's) at 80 columns cuts no command's summary short."""
    for words, command in every_command().items():
        if isinstance(command, click.Group):
            shown = CliRunner().invoke(main, [*words.split(), "--help"], terminal_width=80)
            assert shown.exit_code == 0, shown.output
            listing = shown.output.split("Commands:")[1]
            assert "..." not in listing, f"briefings {words} --help:{listing}"


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


def test_every_command_and_option_is_documented() -> None:
    """Each command is shown as ``briefings WORDS`` on a line of the README or docs/, and
    each of its options on a line that shows the command."""
    lines = [line for doc in DOCS for line in doc.read_text(encoding="utf-8").splitlines()]
    for words, options in commands().items():
        showing = [line for line in lines if re.search(rf"briefings {words}\b", line)]
        assert showing, f"briefings {words} is not in README.md or docs/"
        for option in sorted(options - GLOBAL):
            assert any(re.search(rf"(?<![\w-]){option}\b", line) for line in showing), (
                f"briefings {words} {option} is not documented beside the command"
            )


def test_documented_options_exist() -> None:
    """An option written after ``briefings WORDS`` on a line is one that command takes."""
    known = commands()
    for doc in DOCS:
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            for match in re.finditer(r"briefings ([a-z]+(?: [a-z]+)?)", line):
                words = match.group(1)
                name = words if words in known else words.split()[0]
                if name not in known:
                    continue
                shown = re.split(r"`|#|;|\. ", line[match.end() :])[0]
                for option in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", shown):
                    assert option in known[name] | GLOBAL, (
                        f"{doc.name}:{number}: briefings {name} has no option {option}"
                    )


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


def test_the_edition_json_example_shows_every_documented_field() -> None:
    from .test_render import assert_contract

    text = (ROOT / "docs" / "edition-json.md").read_text(encoding="utf-8")
    block = re.search(r"```json\n(.*?)```", text, re.S)
    assert block is not None
    example = json.loads(block.group(1))
    assert_contract(example)
    fields = re.findall(r"^\| `([a-z_]+)` \|", text, re.M)
    per_story = re.findall(r"^\| `stories\[\]\.([a-z_]+)`(?:, `([a-z_]+)`)? \|", text, re.M)
    assert sorted(example) == sorted(fields)
    assert sorted(example["stories"][0]) == sorted(f for pair in per_story for f in pair if f)
