"""An :class:`Edition` → web page, email and plain text, plus ``edition.json``.

Jinja2 with autoescape and ``StrictUndefined``; the email is MJML compiled by
mjml-python, then its CSS is inlined (css-inline) for clients that drop
``<style>``. Templates in ``settings.templates`` override the built-in theme
file by file.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import css_inline
import jinja2
from mjml import mjml2html

from .errors import RenderError
from .model import Edition, Story

TEMPLATE_FILES = ("web.html", "email.mjml", "email.txt")


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendered:
    """The files of one edition, as text, keyed by file name."""

    files: dict[str, str]


def builtin_templates() -> Path:
    """The folder of the built-in theme.

    ``templates/`` at the top of the source tree; a wheel carries it as
    ``briefings/templates/`` (see ``[tool.setuptools.package-dir]``).
    """
    here = Path(__file__).resolve().parent
    for folder in (here / "templates", here.parent / "templates"):
        if (folder / "web.html").is_file():
            return folder
    raise RenderError(f"the built-in templates are missing from {here}; reinstall briefings")


def environment(override: Path | None = None) -> jinja2.Environment:
    """The Jinja2 environment: user templates first, then the built-in theme."""
    folders = [str(override)] if override is not None else []
    folders.append(str(builtin_templates()))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        autoescape=jinja2.select_autoescape(["html", "mjml", "xml"], default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["wrap"] = wrap
    return env


def wrap(text: str, width: int = 72, indent: str = "") -> str:
    """Plain text wrapped for people: paragraphs kept, lines at most ``width`` wide."""
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n")]
    return "\n\n".join(
        textwrap.fill(
            p,
            width=width,
            initial_indent=indent,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
        for p in paragraphs
        if p
    )


def context(
    edition: Edition, *, timezone: str, feed_names: dict[str, str] | None = None
) -> dict[str, Any]:
    """What every template receives; documented in ``docs/templates.md``."""
    zone = ZoneInfo(timezone)
    local = edition.generated_at.astimezone(zone)
    return {
        "edition": edition,
        "stories": [_story(s, zone) for s in edition.stories],
        "date_label": f"{local:%A} {local.day} {local:%B %Y}",
        "time_label": f"{local:%H:%M} {local.tzname()}",
        "preheader": " · ".join(s.title for s in edition.stories[:3]),
    }


def render(edition: Edition, *, env: jinja2.Environment, timezone: str) -> Rendered:
    """Every file of the edition folder."""
    values = context(edition, timezone=timezone)
    mjml_source = _template(env, "email.mjml", values)
    try:
        compiled = mjml2html(mjml_source)
    except Exception as exc:  # mjml-python raises a bare exception type
        raise RenderError(f"email.mjml: MJML did not compile: {exc}") from None
    html = compiled if isinstance(compiled, str) else str(compiled.html)
    return Rendered(
        files={
            "index.html": _template(env, "web.html", values),
            "email.html": css_inline.inline(html),
            "email.txt": _template(env, "email.txt", values),
            "edition.json": edition_json(edition),
        }
    )


def edition_json(edition: Edition) -> str:
    """The public ``edition.json`` contract (``docs/edition-json.md``)."""
    document = {
        "briefing": edition.briefing,
        "title": edition.title,
        "edition": edition.edition,
        "generated_at": _iso(edition.generated_at),
        "stories": [
            {
                "id": story.id,
                "title": story.title,
                "url": story.url,
                "summary": story.summary,
                "topics": list(story.topics),
                "published": _iso(story.published),
                "sources": [
                    {"feed": s.feed, "title": s.title, "url": s.url} for s in story.sources
                ],
                "partial": story.partial,
                "update": story.update,
                "matches": [
                    {"topic": m.topic, "term": m.term, "field": m.field, "weight": m.weight}
                    for m in story.matches
                ],
            }
            for story in edition.stories
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _template(env: jinja2.Environment, name: str, values: dict[str, Any]) -> str:
    try:
        return env.get_template(name).render(values)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"{exc.filename or name}:{exc.lineno}: {exc.message}") from None
    except jinja2.TemplateNotFound as exc:
        raise RenderError(f"template not found: {exc.name}") from None
    except jinja2.UndefinedError as exc:
        raise RenderError(f"{name}: {exc.message}") from None


def _story(story: Story, zone: ZoneInfo) -> dict[str, Any]:
    local = story.published.astimezone(zone)
    return {
        "story": story,
        "id": story.id,
        "title": story.title,
        "url": story.url,
        "summary": story.summary,
        "outlet": story.sources[0].feed if story.sources else "",
        "also": list(story.sources[1:]),
        "topics": list(story.topics),
        "time_label": f"{local:%d %b %H:%M}",
        "partial": story.partial,
        "update": story.update,
        "why": ", ".join(sorted({f"{m.term} ({m.field})" for m in story.matches})),
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
