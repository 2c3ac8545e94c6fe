"""Pure text helpers shared by the stages: folding and words, untrusted HTML reduced to
text (:func:`html_to_text`), the two guards that every string and link from a
stranger passes (:func:`printable`, :func:`web_link`), and an email body's transfer
encoding (:func:`mime_body`), which rendering measures and delivery writes.

Folding drops case, accents (NFKD without combining marks) and invisible format
characters (soft hyphens, zero-width spaces and joiners), and maps the
letters NFKD leaves alone (``ı``→``i``, ``ə``→``e``, ``ß``→``ss``), so that
``Erdoğan``, ``ERDOGAN`` and ``Erdogan`` are one word.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import nh3

T = TypeVar("T")
_WORD = re.compile(r"[^\W_]+")
_SPECIAL = (("ı", "i"), ("ə", "e"), ("Ə", "e"), ("ß", "ss"), ("ø", "o"), ("Ø", "o"))
# Combining marks of the scripts we meet (Latin, Cyrillic, Hebrew points, Arabic harakat),
# removed by one regular expression instead of a Python loop over every character.
_MARK_BLOCKS = (
    (0x0300, 0x0370), (0x0483, 0x048A), (0x0591, 0x05C8), (0x0610, 0x061B), (0x064B, 0x0660),
    (0x0670, 0x0671), (0x06D6, 0x06EE), (0x1AB0, 0x1B00), (0x1DC0, 0x1E00), (0x20D0, 0x2100),
    (0xFE20, 0xFE30),
)  # fmt: skip
# Invisible format characters go with them: a soft hyphen (``&shy;``), zero-width space,
# joiners and bidi marks inside "Erdoğan" split it into two words that matched nothing.
_INVISIBLE = "\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
_MARKS = re.compile(
    "["
    + "".join(
        chr(cp)
        for low, high in _MARK_BLOCKS
        for cp in range(low, high)
        if unicodedata.combining(chr(cp))
    )
    + _INVISIBLE
    + "]+"
)


_PUNCTUATION = (
    ("’", "'"),
    ("‘", "'"),
    ("“", '"'),
    ("”", '"'),
    ("–", "-"),
    ("—", "-"),
    ("\u00a0", " "),
    ("…", "."),
)
# Bytes that are not a-z or 0-9 become spaces: the fast path for (by then) ASCII text.
_ASCII_WORDS = bytes.maketrans(
    bytes(range(256)), bytes(c if 97 <= c <= 122 or 48 <= c <= 57 else 32 for c in range(256))
)


# C0 and C1 controls other than tab and newline, lone surrogates and the two
# noncharacters U+FFFE/U+FFFF: not text, and XML (Atom, MJML) cannot hold most of them.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# What a browser ignores inside a URL (WHATWG URL: tab and newlines anywhere, C0 controls
# and spaces at the ends), so "java\tscript:" and " javascript:" are caught like the plain one.
_URL_IGNORED = re.compile("[\t\n\r]")
_URL_EDGE = "".join(map(chr, range(0x21)))
WEB_SCHEMES = ("http", "https")
MAX_LINK = 8_000
"""The longest link: no server takes a longer request line (nginx and Apache stop at 8 kB),
and one of 400 kB was 400 kB of every page and email that carried it."""
_BLOCK_TAGS = {"p", "br", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr"}
_BLOCK_BREAK = re.compile(r"<(?:/?(?:p|div|li|h[1-6]|blockquote|tr)|br\s*/?)>", re.IGNORECASE)
# Dropped with everything inside: their content is code, or markup kept as raw text
# (``<noscript><img onerror=…></noscript>`` would otherwise come out as that text).
_DROPPED_WITH_CONTENT = {
    "script", "style", "noscript", "template", "iframe", "noembed", "noframes", "object",
    "embed", "svg", "math", "textarea", "select", "xmp", "plaintext", "title",
}  # fmt: skip
_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\s*\n\s*(?:\n\s*)*")
# Names that start a tag after "<"; any other "<" is text (see html_to_text).
_HTML_ELEMENTS = {
    "a", "abbr", "acronym", "address", "area", "article", "aside", "audio", "b", "base",
    "basefont", "bdi", "bdo", "big", "blink", "blockquote", "body", "br", "button",
    "canvas", "caption", "center", "cite", "code", "col", "colgroup", "data", "datalist",
    "dd", "del", "details", "dfn", "dialog", "dir", "div", "dl", "dt", "em", "embed",
    "fieldset", "figcaption", "figure", "font", "footer", "form", "frame", "frameset", "h1",
    "h2", "h3", "h4", "h5", "h6", "head", "header", "hgroup", "hr", "html", "i", "iframe",
    "image", "img", "input", "ins", "isindex", "kbd", "keygen", "label", "legend", "li",
    "link", "listing", "main", "map", "mark", "marquee", "math", "menu", "menuitem", "meta",
    "meter", "nav", "nobr", "noembed", "noframes", "noscript", "object", "ol", "optgroup",
    "option", "output", "p", "param", "picture", "plaintext", "pre", "progress", "q", "rb",
    "rp", "rt", "rtc", "ruby", "s", "samp", "script", "search", "section", "select", "slot",
    "small", "source", "span", "strike", "strong", "style", "sub", "summary", "sup", "svg",
    "table", "tbody", "td", "template", "textarea", "tfoot", "th", "thead", "time", "title",
    "tr", "track", "tt", "u", "ul", "var", "video", "wbr", "xmp",
}  # fmt: skip
_TAG_OPEN = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:._-]*)")
# A whole start or end tag, its quoted values without "<": no match ever reads past the
# next "<", so finding every tag stays linear however the markup is broken.
_WHOLE_TAG = re.compile(r"""<(/?)([A-Za-z][A-Za-z0-9:._-]*)(?:[^<>"']|"[^"<]*"|'[^'<]*')*+>""")
# What nh3 must still parse as tags: a cell is one only inside a table.
_TABLE_TAGS = {"table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "td", "th"}
_CELL_GAP = re.compile(r"</t[dh]>\s*<t[dh]>", re.IGNORECASE)
_CELL = re.compile(r"</?t[dh]>", re.IGNORECASE)


def printable(text: str) -> str:
    """``text`` without control characters (tab and newline kept), lone surrogates and
    noncharacters; ``\r`` becomes a newline."""
    return _UNPRINTABLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def web_link(url: str, base: str = "") -> str:
    """``url`` resolved against ``base`` if it is an http(s) link with a host, else ``""``.

    Links from feeds and pages are untrusted: ``javascript:``, ``data:`` and every other
    scheme end here, however they are spelled, and so does one longer than
    :data:`MAX_LINK`.
    """
    cleaned = _URL_IGNORED.sub("", url).strip(_URL_EDGE)
    if _UNPRINTABLE.search(cleaned) or not cleaned or len(cleaned) > MAX_LINK:
        return ""
    try:
        resolved = urljoin(base, cleaned) if base else cleaned
        parts = urlsplit(resolved)
        parts.port  # noqa: B018 - raises ValueError for a port that is no number
    except ValueError:
        return ""
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.hostname:
        return ""
    return resolved


def safe_href(url: str) -> str:
    """``url`` if it is an http(s) link or a relative one (no scheme at all), else ``""``."""
    if web_link(url):
        return url
    cleaned = _URL_IGNORED.sub("", url).strip(_URL_EDGE)
    if not cleaned or _UNPRINTABLE.search(cleaned) or ":" in cleaned.split("/", 1)[0]:
        return ""
    return url


def html_to_text(markup: str, kind: str = "text/html") -> str:
    """Untrusted HTML → plain text with paragraphs kept as blank-line breaks.

    nh3 drops scripts, styles and every attribute first; only then are the few
    kept block tags turned into line breaks, and table cells into `` | ``. A ``<``
    before anything but an HTML element's name (or a namespaced or custom one:
    ``o:p``, ``my-card``) is text: ``x<y and y>z`` is a comparison. Text without a tag
    skips nh3, and so does a ``kind`` of ``text/plain`` (feedparser's type for a title
    that is text), which has no markup and no character references left.

    nh3 is handed the markup flat (:func:`_flat_tag`): an HTML parser walks its stack of
    open elements at each block tag, so 50,000 nested ``<div>`` took it 25 s.
    """
    if not markup:
        return ""
    if kind == "text/plain":
        markup = markup.replace("\r\n", "\n").replace("\r", "\n")
    elif "<" in markup:
        cleaned = nh3.clean(
            _WHOLE_TAG.sub(_flat_tag, _TAG_OPEN.sub(_tag_or_text, markup)),
            tags=_BLOCK_TAGS | {"td", "th"},
            clean_content_tags=_DROPPED_WITH_CONTENT,
            attributes={},
            strip_comments=True,
        )
        cleaned = _CELL.sub(" ", _CELL_GAP.sub(" | ", cleaned))
        markup = _TAG.sub("", _BLOCK_BREAK.sub("\n\n", cleaned))
    else:  # as an HTML parser reads line ends
        markup = markup.replace("\r\n", "\n").replace("\r", "\n")
    text = html.unescape(markup) if "&" in markup and kind != "text/plain" else markup
    text = _SPACES.sub(" ", printable(text))
    return _BLANK_LINES.sub("\n\n", text).strip()


def _tag_or_text(found: re.Match[str]) -> str:
    name = found[2].lower()
    if name in _HTML_ELEMENTS or ":" in name or "-" in name:
        return found[0]
    return "&lt;" + found[0][1:]


def _flat_tag(found: re.Match[str]) -> str:
    """A tag as nh3 needs to see it: block tags as the line break they become, the tags
    that nh3 drops with their content and a table's as they are, every other tag gone (as
    nh3 would drop it, keeping its content)."""
    name = found[2].lower()
    if name in _DROPPED_WITH_CONTENT or name in _TABLE_TAGS:
        return found[0]
    return "<br>" if name in _BLOCK_TAGS else ""


def one_line(text: str) -> str:
    """Collapse every run of whitespace, newlines included, to one space; drop control
    characters."""
    return " ".join(printable(text).split())


def visible(text: str) -> bool:
    """Whether ``text`` has a character a reader can see: a letter, digit, punctuation mark
    or symbol, not only spaces, controls, marks and format characters (zero-width ones)."""
    return any(unicodedata.category(c)[0] not in "CZM" for c in text)


def clipped(text: str, limit: int) -> str:
    """``text`` if it is at most ``limit`` characters; else cut there, at a space when one
    keeps at least half of it, and ended with `` …``."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit + 1)
    if cut < limit // 2:
        cut = limit
    return text[:cut].rstrip() + " …"


def fold(text: str) -> str:
    """Folded words joined and framed by single spaces: ``' erdogan in ankara '``.

    Most news text is ASCII once typographic punctuation and accents are gone,
    and takes a bytes fast path; other scripts go through a Unicode regex.
    """
    for fancy, plain in _PUNCTUATION:
        if fancy in text:
            text = text.replace(fancy, plain)
    if not text.isascii():
        for letter, plain in _SPECIAL:
            if letter in text:
                text = text.replace(letter, plain)
        text = _MARKS.sub("", unicodedata.normalize("NFKD", text))
        if not text.isascii():
            return " " + " ".join(_WORD.findall(text.casefold())) + " "
    words = text.lower().encode("ascii").translate(_ASCII_WORDS).decode("ascii")
    return " " + " ".join(words.split()) + " "


def fold_words(text: str) -> list[str]:
    """The folded words of ``text``: letters and digits, apostrophes and hyphens split."""
    return fold(text).split()


_HEAD_TAG = re.compile(r"<(link|meta)\b([^<>]*)>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([^\s=/<>"']+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_HEAD_END = re.compile(r"<body\b|</head\s*>", re.IGNORECASE)


def head_tags(markup: str, name: str) -> list[dict[str, str]]:
    """The attributes of each ``<link>`` or ``<meta>`` tag (``name``) in the head of an HTML
    page, names lowercased, values unescaped; what follows ``<body`` is not read."""
    end = _HEAD_END.search(markup, 0, 500_000)
    head = markup[: end.start() if end else 500_000]
    found = []
    for tag in _HEAD_TAG.finditer(head):
        if tag.group(1).lower() != name:
            continue
        found.append(
            {
                key.lower(): html.unescape(next((v for v in values if v), ""))
                for key, *values in _ATTRIBUTE.findall(tag.group(2))
            }
        )
    return found


_SAME_SITE_PREFIXES = ("www.", "m.", "mobile.", "amp.")


def same_site(link: str, other: str) -> bool:
    """Whether two links are on one site: the same host once a ``www.``, ``m.``,
    ``mobile.`` or ``amp.`` is set aside, or one a subdomain of the other."""
    hosts = []
    for found in (link, other):
        try:
            host = (urlsplit(found).hostname or "").rstrip(".")
        except ValueError:
            return False
        for prefix in _SAME_SITE_PREFIXES:
            host = host.removeprefix(prefix)
        hosts.append(host)
    a, b = hosts
    return bool(a and b) and (a == b or a.endswith("." + b) or b.endswith("." + a))


def parse_json_lines(
    lines: Iterable[str], filename: str, convert: Callable[[dict[str, Any]], T]
) -> tuple[list[T], list[str]]:
    """Each non-blank line a JSON object, made into a ``T`` by ``convert``; a line that is
    no object, or that ``convert`` rejects with ``ValueError``, becomes one problem naming
    the file and line instead."""
    found: list[T] = []
    problems: list[str] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            if not isinstance(raw, dict):
                raise ValueError("expected a JSON object")
            found.append(convert(raw))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            problems.append(f"{filename}:{number}: {exc}")
    return found, problems


def _wire(body: str) -> bytes:
    return body.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")


def quoted_printable(body: str) -> bytes:
    """``body`` quoted-printable, with CRLF line ends."""
    return binascii.b2a_qp(_wire(body), istext=True).replace(b"\n", b"\r\n")


def base64_lines(body: str) -> bytes:
    """``body`` in base64, on lines of 76 characters ending in CRLF."""
    return base64.encodebytes(_wire(body)).replace(b"\n", b"\r\n")


def mime_body(body: str) -> tuple[str, bytes]:
    """``body`` as an email carries it: its Content-Transfer-Encoding and the encoded bytes.

    Quoted-printable, or base64 when that is shorter. Quoted-printable writes each byte
    that is not ASCII as three, so a body mostly in Hebrew, Arabic or Armenian grows to
    about 2.5 times its size; base64 makes any body 1.35 times its size.
    """
    quoted, encoded = quoted_printable(body), base64_lines(body)
    return ("base64", encoded) if len(encoded) < len(quoted) else ("quoted-printable", quoted)
