"""Article page HTML → :class:`Page` via one trafilatura call.

trafilatura is handed the HTML we fetched; it never fetches by itself. Its
``None``-on-failure stays in here: callers get a ``Page`` or an
:class:`ExtractionFailed` with the reason.
"""

from __future__ import annotations

import codecs
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from .errors import BriefingsError
from .model import Article, Entry, Page, TextSource
from .text import (
    clipped,
    fold,
    head_tags,
    html_to_text,
    one_line,
    printable,
    same_site,
    web_link,
)

_SENTENCE_END = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"”’)]))\s+(?=[A-Z0-9\"“‘(«])")
PAYWALL_WORDS = 250
SUMMARY_CHARACTERS = 900
"""The longest summary: 60 words are some 400 characters, but one word can be a megabyte."""
_WORD_COUNT = re.compile(r'"wordCount"\s*:\s*"?(\d+)')
_PAYWALL = re.compile(
    r'"isAccessibleForFree"\s*:\s*"?false|content_tier"\s+content="(?:locked|metered)"'
    r'|class="[^"]*\b(?:paywall|premium-wall|subscriber-only|piano-offer)',
    re.IGNORECASE,
)
_BOILERPLATE = re.compile(
    r"^(?:sign up|subscribe|register|log ?in|already a (?:member|subscriber)|join (?:us|our|over)"
    r"|get (?:our|the) (?:newsletter|app)|follow us|share (?:this|on)|click here|read (?:more|also)"
    r"|see also|related\b|advertisement|sponsored|(?:photo|image|picture|credit|caption|video)s?"
    r"\s*[:(]|(?:additional )?(?:reporting|writing|editing) by|by [A-Z][\w.'’-]+(?: [A-Z][\w.'’-]+)"
    r"{0,3}$|updated:|published:|last updated|\d+ min(?:ute)? read)",
    re.IGNORECASE,
)
# A page that asks for consent to cookies instead of showing the article (what sites in the
# EU answer a crawler with): short, about the site's own cookies ("we use cookies"), and
# asking to accept or manage them. A news item about cookies speaks of someone else's.
_CONSENT_WORDS = 150
_COOKIES = re.compile(
    r"\b(?:we|our partners|(?:this|our) (?:web)?site)\b[^.]{0,60}\bcookies\b", re.IGNORECASE
)
_CONSENT = re.compile(
    r"\b(?:accept|agree|consent|reject|manage (?:your )?(?:preferences|options|settings))",
    re.IGNORECASE,
)
# A page that asks the reader to sign in or register instead of showing the article: as
# short, asking for a login and speaking of the reader's account ("Already a subscriber?
# Log in", "Create a free account to keep reading").
_SIGN_IN = re.compile(r"\b(?:sign(?:ing)? ?in|log(?:ging)? ?in|register|subscribe)\b", re.I)
_ACCOUNT = re.compile(
    r"\b(?:(?:forgot|reset|enter|your|and) (?:your )?password"
    r"|(?:create|have|open) (?:a |an |your )?(?:free )?account"
    r"|already (?:a |an )?(?:subscriber|member|registered)|to (?:continue|keep) reading"
    r"|registered (?:readers|users|members))\b",
    re.IGNORECASE,
)
_LANG = re.compile(r"<html[^>]*\blang=[\"']?([A-Za-z]{2,3}(?:-[A-Za-z]{2,4})?)", re.IGNORECASE)
_CREDIT = re.compile(r"\((?:photo|image|picture)s?\b[^)]*\)", re.IGNORECASE)
_DATELINE = re.compile(r"^[A-Z][A-Z .,'’-]{2,40}(?:\([A-Za-z ]+\))?\s*[-–—]\s+")
_CHARSET = re.compile(r"charset=[\"']?([\w.:-]+)", re.IGNORECASE)
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
# Codecs Python has that are no charset of a page: they fail on bad bytes (idna, punycode,
# undefined), or turn plain ASCII into markup (UTF-7, forbidden by WHATWG as an XSS vector;
# the escape codecs).
_NOT_FOR_PAGES = frozenset(
    {"idna", "punycode", "undefined", "utf-7", "unicode-escape", "raw-unicode-escape"}
)
# WHATWG decodes these labels with a superset: pages labelled latin-1 are written in
# windows-1252 (curly quotes at 0x93 and 0x94), and so on.
_WHATWG_SUPERSETS = {
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
    "big5": "big5hkscs",
}
_ASCII_PROBE = b'<meta charset="x">'
_LONGEST_HEADING = 400
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
"""htmldate's output: the time and zone a page gives, not only its day."""


def _date_params(*, extensive_search: bool) -> dict[str, object]:
    """htmldate's settings: dates with their time and zone, up to tomorrow in UTC (today
    somewhere east), whatever the server's own zone (htmldate's default is its date)."""
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    return {
        "original_date": True,
        "extensive_search": extensive_search,
        "outputformat": _DATE_FORMAT,
        "max_date": f"{tomorrow:%Y-%m-%d}",
    }


# trafilatura (and htmldate, its date finder) log every page they cannot read, at ERROR
# ("lxml parsing failed: Document is empty"); our own report says so once, on one line.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
logging.getLogger("htmldate").setLevel(logging.CRITICAL)


class ExtractionFailed(BriefingsError):
    """A page with no article text that trafilatura could find."""


def decode(body: bytes, content_type: str = "") -> str:
    """Bytes → text as a browser decodes them: a byte order mark first, then the declared
    charset, then the page's own meta tag, then UTF-8. Never raises."""
    for bom, bom_codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(bom_codec, errors="replace")
    declared = _CHARSET.search(content_type)
    codec = _web_codec(declared.group(1)) if declared else None
    if codec is None:
        meta = _CHARSET.search(body[:4096].decode("ascii", "replace"))
        codec = _web_codec(meta.group(1), in_page=True) if meta else None
    try:
        return body.decode(codec or "utf-8", errors="replace")
    except (UnicodeError, LookupError):  # a codec that cannot replace; none is known to remain
        return body.decode("utf-8", errors="replace")


def _web_codec(label: str, *, in_page: bool = False) -> str | None:
    """The Python codec for a charset label, or ``None`` when it is no text encoding a web
    page may use. A label found in the page itself was read as ASCII, so a codec that does
    not read ASCII as ASCII (UTF-16, EBCDIC) is a false label: UTF-8 then, as WHATWG says."""
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_FOR_PAGES:
        return None
    name = _WHATWG_SUPERSETS.get(info.name, info.name)
    if in_page and _ASCII_PROBE.decode(name, errors="replace") != _ASCII_PROBE.decode("ascii"):
        return "utf-8"
    return name


def extract_page(body: bytes, *, url: str, content_type: str = "") -> Page:
    """Extract the article text and metadata of one page."""
    if "html" not in content_type and content_type and "xml" not in content_type:
        raise ExtractionFailed(f"{url}: not an HTML page ({content_type.split(';')[0]})")
    import trafilatura  # here, not at the top: it takes 0.2 s to import, and `fetch` needs none

    markup = decode(body, content_type)
    try:
        document = trafilatura.bare_extraction(
            markup,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            favor_precision=True,
            deduplicate=False,
            date_extraction_params=_date_params(extensive_search=True),
        )
    except Exception as exc:  # trafilatura returns None for most trouble, and raises the rest
        raise ExtractionFailed(
            f"{url}: extraction failed: {type(exc).__name__}: {one_line(str(exc))[:120]}"
        ) from None
    text = (getattr(document, "text", None) or "").strip() if document is not None else ""
    if not text:
        raise ExtractionFailed(f"{url}: no article text found on the page")
    if _consent_wall(text):
        raise ExtractionFailed(f"{url}: a cookie or consent wall, not the article")
    if _sign_in_wall(text):
        raise ExtractionFailed(f"{url}: a sign-in wall, not the article")
    head = body[:300_000].decode("utf-8", "replace")
    promised = _WORD_COUNT.search(head)
    title = _text(document, "title")
    return Page(
        url=url,
        text=_without_heading(_paragraphs(text), title),
        title=title,
        author=_text(document, "author"),
        site_name=_text(document, "sitename"),
        language=_field(document, "language") or _html_language(head),
        image=web_link(_field(document, "image"), url),
        published=_page_date(_field(document, "date"), markup, url),
        paywalled=bool(_PAYWALL.search(head)),
        promised_words=int(promised.group(1)) if promised else 0,
        canonical=declared_url(markup, url),
    )


def declared_url(markup: str, url: str) -> str:
    """The URL the page at ``url`` names as its own: ``<link rel="canonical">``, else
    ``og:url``, resolved against ``url``. Only an http(s) link on the page's own site
    (the same host, ``www.`` and ``m.`` aside, or a parent or child of it) counts, and
    not the site's front page unless the page is that: sites that name their front page
    on every article would make every article one."""
    named = [
        tag.get("href", "")
        for tag in head_tags(markup, "link")
        if "canonical" in tag.get("rel", "").lower().split()
    ] + [
        tag.get("content", "")
        for tag in head_tags(markup, "meta")
        if tag.get("property", tag.get("name", "")).lower() == "og:url"
    ]
    for candidate in named:
        link = web_link(candidate, url)
        if link:
            return link if same_site(link, url) and not _front_page(link, url) else ""
    return ""


def identity(page: Page, requested: str) -> str:
    """The URL that identifies the article of ``page``, fetched as ``requested``: the URL
    the page names, else where ``requested`` redirected to (an aggregator's link); ""
    when neither says more than ``requested``."""
    if page.canonical:
        return page.canonical
    if page.url != requested and not _front_page(page.url, requested):
        return page.url
    return ""


def _front_page(link: str, page: str) -> bool:
    """Whether ``link`` is a site's front page (of one of its languages, ``/en/``) and
    ``page`` is not."""

    def front(found: str) -> bool:
        parts = urlsplit(found)
        path = parts.path.strip("/")
        # "/en/", "/tr/", "/ar/": the front page of one language
        return "/" not in path and len(path) <= 5 and not parts.query

    return front(link) and not front(page)


def _consent_wall(text: str) -> bool:
    """True when ``text`` is a short request to accept cookies rather than an article: its
    text would become the story's, longer than the feed's teaser and about nothing."""
    if len(text.split()) > _CONSENT_WORDS:
        return False
    return bool(_COOKIES.search(text) and _CONSENT.search(text))


def _sign_in_wall(text: str) -> bool:
    """True when ``text`` is a short request to sign in or register rather than an article
    ("Forgot your password? Reset it here." became a story's summary)."""
    if len(text.split()) > _CONSENT_WORDS:
        return False
    return bool(_SIGN_IN.search(text) and _ACCOUNT.search(text))


def _html_language(head: str) -> str:
    found = _LANG.search(head)
    return found.group(1).lower() if found else ""


def is_partial(page: Page) -> bool:
    """True when the extracted text is much shorter than the page promises, or a paywall
    hides the article: the feed's own text is then the better text."""
    if page.error or not page.text:
        return True
    words = len(page.text.split())
    if page.promised_words and words < page.promised_words / 2:
        return True
    return page.paywalled and words < PAYWALL_WORDS


def _paragraphs(text: str) -> str:
    lines = (" ".join(line.split()) for line in printable(text).splitlines())
    return "\n\n".join(line for line in lines if line)


def _without_heading(text: str, *titles: str) -> str:
    """``text`` without a first paragraph that repeats one of ``titles`` (case, accents and
    punctuation aside): pages lay out ``<h1>Title</h1><p>…``, and the summary began with
    the headline. A text that is nothing but its heading is kept."""
    first, _, rest = text.partition("\n\n")
    if len(first) > _LONGEST_HEADING:  # no headline; and folding a long paragraph costs
        return text
    heading = fold(first)
    if rest and heading.strip() and any(heading == fold(title) for title in titles):
        return rest
    return text


def _text(document: object, name: str) -> str:
    """A field shown as text (title, author, site name), reduced to text as a feed's title
    is: trafilatura takes og:title as written, markup and all."""
    value = getattr(document, name, None)
    return one_line(html_to_text(str(value))) if value else ""


def _field(document: object, name: str) -> str:
    value = getattr(document, name, None)
    return " ".join(printable(str(value)).split()) if value else ""


def _page_date(value: str, markup: str, url: str) -> datetime | None:
    """The page's date, unless it is only a year. htmldate's last resort takes any year
    on the page (a "© 2026" footer) as 1 January; such a date is kept only when a search
    without that resort finds it too. That search also misses some dates written in the
    text, so it is run only for a 1 January."""
    found = _date(value)
    if found is None or (found.month, found.day) != (1, 1):
        return found
    import trafilatura

    try:
        again = trafilatura.extract_metadata(
            markup, default_url=url, date_config=_date_params(extensive_search=False)
        )
    except Exception:  # as in extract_page: trafilatura raises for some broken pages
        return None
    return found if _date(getattr(again, "date", None) or "") == found else None


def _date(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


PAGE_DATE_BEFORE = timedelta(hours=36)
"""How much earlier than an undated entry's first sighting its page's date must be to
stand: a page may give a day alone, or a local time without its zone (read as UTC)."""


def best_article(entry: Entry, page: Page | None, *, article_id: str) -> Article:
    """The entry with the longer of its feed text and its page text.

    The feed's date wins over the page's; the page fills in what the feed lacks. An
    undated entry, dated by its first sighting, takes its page's date only when that is
    more than :data:`PAGE_DATE_BEFORE` earlier (an old article listed anew): a page's
    day alone is no time, and a page dated ahead has its clock wrong.
    """
    page_title = page.title if page else ""
    feed_text = _without_heading(entry.content or entry.summary, entry.title, page_title)
    page_text = _without_heading(page.text, entry.title, page_title) if page else ""
    partial = page is not None and is_partial(page)
    use_page = page is not None and not partial and len(page_text) > len(feed_text)
    text = page_text if use_page else feed_text or page_text
    source: TextSource = "page" if use_page else "partial" if partial else "feed"
    return Article(
        id=article_id,
        feed_id=entry.feed_id,
        url=entry.url,
        canonical_url=entry.canonical_url,
        title=entry.title or (page.title if page else ""),
        summary=lead_summary(
            text if use_page else _without_heading(entry.summary, entry.title) or text
        ),
        text=text,
        author=entry.author or (page.author if page else ""),
        published=_published(entry, page),
        text_source=source,
        image=(page.image if page else "") or entry.image,
        language=page.language if page else "",
    )


def _published(entry: Entry, page: Page | None) -> datetime:
    if entry.dated or page is None or page.published is None:
        return entry.published
    older = page.published < entry.published - PAGE_DATE_BEFORE
    return page.published if older else entry.published


def lead_summary(text: str, words: int = 60) -> str:
    """The first sentences of ``text`` up to about ``words`` words, cut at a sentence end,
    without the boilerplate around articles (sign-up boxes, photo credits, bylines), and
    at most :data:`SUMMARY_CHARACTERS` long, whatever its words."""
    return clipped(_lead(text, words), SUMMARY_CHARACTERS)


def _lead(text: str, words: int) -> str:
    # Only the start matters: paragraphs are cleaned until three times ``words`` words, so
    # that a sentence cut at that point is too long to be kept either way.
    lead: list[str] = []
    count = 0
    for paragraph in _clean_paragraphs(text):
        lead.append(paragraph)
        count += len(paragraph.split())
        if count > 3 * words:
            break
    flat = _joined(lead).split()
    if len(flat) <= words:
        return " ".join(flat)
    # the same argument again within a long paragraph
    kept: list[str] = []
    count = 0
    for sentence in _SENTENCE_END.split(" ".join(flat[: 3 * words + 1])):
        size = len(sentence.split())
        if kept and count + size > words:
            break
        kept.append(sentence)
        count += size
    summary = " ".join(kept)
    if count > words * 1.5:  # one endless sentence: cut at a word, say so
        summary = " ".join(summary.split()[:words]) + " …"
    return summary


def clean_lead(text: str) -> str:
    """``text`` without boilerplate paragraphs and sentences, photo credits and datelines."""
    return _joined(list(_clean_paragraphs(text)))


def _clean_paragraphs(text: str) -> Iterator[str]:
    for paragraph in text.split("\n\n"):
        paragraph = _CREDIT.sub("", " ".join(paragraph.split())).strip()
        if not paragraph or _BOILERPLATE.match(paragraph):
            continue
        sentences = [x for x in _SENTENCE_END.split(paragraph) if not _BOILERPLATE.match(x)]
        if sentences:
            yield " ".join(sentences)


def _joined(kept: list[str]) -> str:
    if kept:
        kept[0] = _DATELINE.sub("", kept[0])
    return "\n\n".join(kept)
