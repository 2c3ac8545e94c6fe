"""Checks that an HTML output carries no active content, written apart from the code
under test so that they do not share its blind spots."""

from __future__ import annotations

import contextlib
import html
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

ACTIVE_TAGS = frozenset(
    {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math",
     "base", "form", "button", "input", "textarea", "select", "template", "noscript", "meta"}
)  # fmt: skip
"""Tags no story may bring. The templates' own ``<meta>`` tags are checked separately."""
LINK_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "xlink:href", "background", "poster", "srcset",
     "data", "lowsrc", "dynsrc", "codebase", "cite", "longdesc", "usemap", "ping"}
)  # fmt: skip
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
_IGNORED_IN_URLS = re.compile(r"[\x00-\x20]")
TEMPLATE_META = frozenset({"charset", "name", "content", "http-equiv"})


def link_problem(value: str) -> str:
    """Why a link is unsafe to put before a reader, or '' when it is a web or relative link."""
    squeezed = _IGNORED_IN_URLS.sub("", value).lower()
    found = _SCHEME.match(squeezed)
    if found and found.group(1) not in ("http", "https"):
        return f"link with scheme {found.group(1)!r}: {value!r}"
    return ""


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs)

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "meta" and names <= TEMPLATE_META:
            content = dict(attrs).get("content") or ""
            if "url=" in content.lower():
                self.problems.append(f"<meta> redirect: {content!r}")
        elif tag in ACTIVE_TAGS:
            self.problems.append(f"<{tag}> tag")
        self.in_style = tag == "style"
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> handler")
            if name in LINK_ATTRIBUTES and value:
                problem = link_problem(value)
                if problem:
                    self.problems.append(f"<{tag} {name}>: {problem}")
            if name == "style" and value:
                self._style(value)

    def handle_endtag(self, tag: str) -> None:
        self.in_style = False

    def handle_data(self, data: str) -> None:
        if self.in_style:
            self._style(data)

    def _style(self, css: str) -> None:
        squeezed = re.sub(r"\s|\\", "", css).lower()
        for bad in ("expression(", "javascript:", "behavior:", "-moz-binding", "@import"):
            if bad in squeezed:
                self.problems.append(f"style with {bad!r}")


def html_problems(text: str) -> list[str]:
    """Every piece of active content in one HTML document."""
    checker = _Checker()
    checker.feed(text)
    checker.close()
    return checker.problems


def readable_text(path: Path) -> str:
    """What a file says to whoever fetches it: HTML and XML unescaped, JSON strings
    decoded, all whitespace one space (so wrapped plain text reads as one line)."""
    raw = path.read_bytes().decode("utf-8", "replace")
    if path.suffix == ".json":
        with contextlib.suppress(ValueError):
            raw = "\n".join(_strings(json.loads(raw)))
    return " ".join(html.unescape(raw).split())


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def pro_leaks(output: Path, private: Path, briefings: dict[str, Any]) -> tuple[int, list[str]]:
    """(PRO stories checked, leaks): each file of ``output`` that is a PRO rendering
    (``*.pro.*``) or holds a PRO story's whole summary, or its last eight words.

    Which stories are PRO is read from the whole editions in ``private`` and the briefings'
    configuration (``briefings``: id → Briefing). A story that is PRO in one briefing may
    be free in another, which then shows it in full: so a briefing's own folder must not
    hold its PRO stories, and no file at all may hold a story that is PRO wherever it is.
    Each summary must be found whole in the private folder, so that the check cannot pass
    by reading the files wrongly.
    """
    from briefings import render

    leaks = [f"{p}: a PRO rendering" for p in output.rglob("*.pro.*")]
    public = {p: readable_text(p) for p in output.rglob("*") if p.is_file()}
    pro_in: dict[str, list[str]] = {}  # summary → folders of briefings where it is PRO
    free_somewhere: set[str] = set()
    for whole in private.glob("*/*/edition.json"):
        briefing = briefings[whole.parent.parent.name]
        layout = render.Layout.of(briefing, topic_titles={})
        edition = render.edition_from_json(whole.read_text(encoding="utf-8"))
        beside = " ".join(readable_text(p) for p in whole.parent.iterdir())
        for story in edition.stories:
            summary = " ".join(story.summary.split())
            if len(summary.split()) < 3:
                continue
            if not render.is_pro(story, layout):
                free_somewhere.add(summary)
                continue
            assert summary in beside, f"{whole}: {story.id}'s summary is not in its PRO files"
            pro_in.setdefault(summary, []).append(briefing.id)
    for summary, where in pro_in.items():
        tail = " ".join(summary.split()[-8:]) if len(summary.split()) >= 24 else summary
        anywhere = summary not in free_somewhere
        leaks += [
            f"{path}: a PRO story: {summary[:60]!r}"
            for path, text in public.items()
            if (anywhere or path.relative_to(output).parts[0] in where)
            and (summary in text or tail in text)
        ]
    return len(pro_in), leaks
