"""The email of an edition: MJML compiled to HTML (mjml-python, then css-inline), and
stories dropped from its end until both bodies fit :data:`EMAIL_LIMIT` as sent
(:func:`sent_size`)."""

from __future__ import annotations

import re
from typing import Any

import css_inline
import jinja2
from mjml import mjml2html

from ..errors import RenderError
from ..model import Edition
from ..text import mime_body
from .template_context import Layout, context
from .templates import _template

EMAIL_LIMIT = 100_000
"""Bytes the two bodies of a message may take as sent (:func:`sent_size`). Gmail clips a
message over 102 KB (104,448 bytes); the rest is room for headers, MIME boundaries and
each subscriber's own links."""


def _email(
    edition: Edition,
    env: jinja2.Environment,
    timezone: str,
    layout: Layout,
    tier: str,
    values: dict[str, Any],
) -> tuple[str, str]:
    """The email's HTML and text, with stories dropped from the end of both until they take
    at most :data:`EMAIL_LIMIT` bytes as sent."""

    def made(values: dict[str, Any]) -> tuple[str, str]:
        return _compile(_template(env, "email.mjml", values)), _template(env, "email.txt", values)

    html, text = made(values)
    if sent_size(html, text) <= EMAIL_LIMIT:
        return html, text
    low, high = 1, len(edition.stories) - 1
    best: tuple[str, str] | None = None
    while low <= high:  # the most stories that fit
        middle = (low + high) // 2
        trimmed = context(edition, timezone=timezone, layout=layout, tier=tier, shown=middle)
        candidate = made(trimmed)
        if sent_size(*candidate) <= EMAIL_LIMIT:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    if best is None:
        raise RenderError(
            f"{edition.briefing}: even one story makes an email over "
            f"{EMAIL_LIMIT:,} bytes as sent; check the email templates"
        )
    return best


def sent_size(*bodies: str) -> int:
    """Bytes ``bodies`` take in a message as ``deliver`` encodes them (:func:`mime_body`:
    quoted-printable or base64, CRLF line ends). It is what Gmail measures: 99.4 KB of
    HTML is 106.7 KB as quoted-printable."""
    return sum(len(mime_body(body)[1]) for body in bodies)


_INLINE_STYLE = re.compile(
    r"""<mj-style\b[^>]*\binline\s*=\s*["']inline["'][^>]*>(.*?)</mj-style>""", re.S
)


def _compile(mjml_source: str) -> str:
    """MJML → HTML, with the rules of ``<mj-style inline="inline">`` inlined, as MJML does.

    Only those: inlining the rest as well put MJML's reset (``table, td {…}``) on every cell
    again, a sixth of a long email; it stays in the ``<head>``, as do the dark-mode rules.
    """
    inline_css = "\n".join(_INLINE_STYLE.findall(mjml_source))
    try:
        compiled = mjml2html(_INLINE_STYLE.sub("", mjml_source))
    except Exception as exc:  # mjml-python raises a bare exception type
        raise RenderError(f"email.mjml: MJML did not compile: {exc}") from None
    html = compiled if isinstance(compiled, str) else str(compiled.html)
    # A stylesheet linked from the template (``mj-font``) is the mail client's to load:
    # rendering reaches no network, and the link stays.
    inliner = css_inline.CSSInliner(
        inline_style_tags=False,
        keep_style_tags=True,
        keep_link_tags=True,
        load_remote_stylesheets=False,
        extra_css=inline_css or None,
    )
    return str(inliner.inline(html))
