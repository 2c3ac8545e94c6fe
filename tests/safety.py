"""Checks that an HTML output carries no active content, written apart from the code
under test so that they do not share its blind spots."""

from __future__ import annotations

import re
from html.parser import HTMLParser

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
