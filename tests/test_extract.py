"""Extraction: charsets, metadata, paywalls and short pages, lead summaries."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from briefings import config, extract, pipeline
from briefings.fetch import PAGE_ACCEPT, FetchOptions, Request, fetch_all
from briefings.model import Entry

from .conftest import NOW, LocalServer

HEBREW = "הכנסת אישרה היום את תקציב המדינה לשנה הבאה לאחר דיון ארוך בירושלים. "
TURKISH = (
    "Türkiye Büyük Millet Meclisi bugün Ankara'da yeni bütçeyi kabul etti; görüşmeler uzun sürdü. "
)


def page(title: str, paragraph: str, head: str = "", repeat: int = 8) -> str:
    body = "".join(f"<p>{paragraph}</p>" for _ in range(repeat))
    return (
        f"<html><head>{head}<title>{title}</title></head><body><nav>Home | News</nav>"
        f"<article><h1>{title}</h1>{body}</article><footer>© 2026</footer></body></html>"
    )


def fetch_page(server: LocalServer, path: str, body: bytes, content_type: str) -> extract.Page:
    url = server.add(path, body, headers={"Content-Type": content_type})
    [result] = fetch_all([Request(url=url)], FetchOptions(accept=PAGE_ACCEPT))
    return extract.extract_page(result.body, url=url, content_type=result.content_type)


def test_windows_1255_hebrew_from_the_header(server: LocalServer) -> None:
    html = page("תקציב", HEBREW).encode("cp1255")
    found = fetch_page(server, "/he", html, "text/html; charset=windows-1255")
    assert "הכנסת אישרה היום את תקציב המדינה" in found.text


def test_iso_8859_9_turkish_from_the_meta_tag(server: LocalServer) -> None:
    head = '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-9">'
    html = page("Bütçe kabul edildi", TURKISH, head).encode("iso-8859-9")
    found = fetch_page(server, "/tr", html, "text/html")
    assert "Türkiye Büyük Millet Meclisi bugün Ankara'da" in found.text
    assert "ş" in found.text or "ü" in found.text


def test_metadata_is_kept(server: LocalServer) -> None:
    head = (
        '<meta property="og:site_name" content="Kartli Times">'
        '<meta name="author" content="Nino Beridze">'
        '<meta property="og:image" content="https://img.example/lead.jpg">'
        '<meta property="article:published_time" content="2026-11-20T08:00:00+00:00">'
    )
    html = page("Tbilisi talks", "Talks in Tbilisi went on for hours with no deal. ", head)
    found = fetch_page(
        server,
        "/meta",
        html.replace("<html>", '<html lang="en">').encode(),
        "text/html; charset=utf-8",
    )
    assert (found.site_name, found.author, found.image) == (
        "Kartli Times",
        "Nino Beridze",
        "https://img.example/lead.jpg",
    )
    assert found.published is not None and found.published.year == 2026
    assert found.language == "en"


def test_paywall_and_short_pages_are_partial() -> None:
    text = "Only the first paragraph is free to read today. " * 3
    locked = extract.Page(url="u", text=text, paywalled=True)
    assert extract.is_partial(locked)
    shorter = extract.Page(url="u", text=text * 10, promised_words=900)
    assert extract.is_partial(shorter)
    whole = extract.Page(url="u", text=text * 20, promised_words=500)
    assert not extract.is_partial(whole)


def test_lead_summary_skips_boilerplate_and_cuts_at_a_sentence() -> None:
    text = (
        "JERUSALEM (Wire) – Israel's cabinet approved the budget on Sunday after a long "
        "night of talks. (Photo by A. Person / Agency)\n\n"
        "Sign up for our morning newsletter to get the news first.\n\n"
        "By Dana Levi\n\n"
        "Photo: The cabinet room in Jerusalem.\n\n"
        "The plan raises defence spending and cuts some ministries. It now goes to the "
        "Knesset for three readings, which coalition leaders hope to finish within a month. "
        "Opposition parties said they would fight every clause of the law in committee and "
        "on the floor, and trade unions threatened a strike over the public-sector wage "
        "freeze included in the plan."
    )
    summary = extract.lead_summary(text)
    assert summary.startswith("Israel's cabinet approved the budget on Sunday")
    for noise in ("Sign up", "By Dana", "Photo", "JERUSALEM"):
        assert noise not in summary
    assert summary.endswith(".")
    assert len(summary.split()) <= 60
    endless = " ".join(["word"] * 200)
    assert extract.lead_summary(endless).endswith("word …")  # no sentence end: cut at a word


@pytest.mark.parametrize(
    "text",
    [
        "Georgia " + "B" * 5_000 + " and the border talks went on.",
        "<x>" * 200_000,  # unknown markup read as text: one "word" of 600,000 characters
        "Kutaisi " * 3 + "-" * 100_000,
    ],
    ids=["long-word", "no-space-at-all", "rule-of-dashes"],
)
def test_a_summary_of_endless_words_is_cut_to_a_summary_s_length(text: str) -> None:
    # Words were counted, not characters: one word of 600,000 characters was a summary of
    # one word, and the whole of it went into the web page and edition.json.
    summary = extract.lead_summary(text)
    assert 0 < len(summary) <= extract.SUMMARY_CHARACTERS + 2
    assert summary.endswith(" …")
    assert text.startswith(summary[:-2])


def test_a_paywalled_page_falls_back_to_the_feed_text(server: LocalServer, tmp_path: Path) -> None:
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", '
        '"isAccessibleForFree": false, "wordCount": 1200}</script>'
    )
    server.add(
        "/locked.html",
        page("Knesset budget", "The Knesset began the budget debate. ", head, repeat=3),
        headers={"Content-Type": "text/html"},
    )
    teaser = "The Knesset opened its budget debate in Jerusalem, with a vote due next week."
    when = format_datetime(NOW - timedelta(hours=2))
    feed = (
        f"<rss version='2.0'><channel><title>T</title><item><title>Knesset opens budget "
        f"debate</title><link>{server.base}/locked.html</link><pubDate>{when}</pubDate>"
        f"<description>{teaser}</description></item></channel></rss>"
    )
    path = tmp_path / "feeds.toml"
    path.write_text(
        f'[settings]\nhost_delay = 0\n[[feeds]]\nname = "Ledger"\n'
        f'url = "{server.add("/feed.xml", feed)}"\n'
        '[briefings.israel]\ntitle = "Israel"\ntopics = ["israel"]\n'
        'schedule = "0 7 * * *"\n'
    )
    loaded = config.load(path)
    store = pipeline.open_store(loaded)
    run = pipeline.Run(config=loaded, store=store, now=NOW)
    [built] = pipeline.run_once(run)
    store.close()
    assert run.report.pages_partial == 1
    [story] = json.loads((built.path / "edition.json").read_text())["stories"]
    assert story["partial"] is True
    assert story["summary"] == teaser
    assert "preview only" in (built.path / "index.html").read_text()


def test_the_feed_date_wins_over_the_page_date() -> None:
    entry = Entry(
        feed_id="f",
        guid="g",
        url="https://x.example/a",
        canonical_url="https://x.example/a",
        title="T",
        summary="short",
        content="",
        author="",
        published=NOW,
        dated=True,
    )
    found = extract.Page(url="u", text="Long text. " * 100, published=NOW - timedelta(days=3))
    article = extract.best_article(entry, found, article_id="1")
    assert article.published == NOW
    assert article.text_source == "page"
    undated = extract.best_article(replace(entry, dated=False), found, article_id="1")
    assert undated.published == NOW - timedelta(days=3)


def test_the_page_picture_wins_over_the_feed_picture() -> None:
    entry = Entry(
        feed_id="f",
        guid="g",
        url="https://x.example/a",
        canonical_url="https://x.example/a",
        title="T",
        summary="short",
        content="",
        author="",
        published=NOW,
        dated=True,
        image="https://x.example/feed.jpg",
    )
    page = extract.Page(url="u", text="Long text. " * 100, image="https://x.example/page.jpg")
    assert extract.best_article(entry, page, article_id="1").image == page.image
    assert extract.best_article(entry, None, article_id="1").image == entry.image
    no_picture = replace(page, image="")
    assert extract.best_article(entry, no_picture, article_id="1").image == entry.image


ENGLISH = "Officials in Baku said the talks with Yerevan would resume next month in Geneva. "


@pytest.mark.parametrize(
    ("content_type", "head"),
    [
        ("text/html; charset=idna", ""),
        ("text/html; charset=punycode", ""),
        ("text/html", '<meta charset="undefined">'),
        ("text/html; charset=hex", '<meta charset="raw-unicode-escape">'),
        ("text/html; charset=no-such-thing", '<meta charset="utf-16">'),
    ],
)
def test_a_charset_that_is_no_web_encoding_falls_back(
    server: LocalServer, content_type: str, head: str
) -> None:
    html = page("Caffè talks", ENGLISH + "Caffè in Tbilisi. \\u0041", head).encode()
    found = fetch_page(server, "/odd", html, content_type)
    assert "Officials in Baku said the talks" in found.text
    assert "Caffè in Tbilisi. \\u0041" in found.text  # read as UTF-8, escapes left alone


def test_utf_7_is_never_used() -> None:
    html = page(
        "T", ENGLISH + "+ADw-script+AD4-alert(1)+ADw-/script+AD4-", '<meta charset="utf-7">'
    )
    assert "<script>" not in extract.decode(html.encode(), "text/html; charset=utf-7")
    assert "<script>" not in extract.decode(html.encode(), "text/html")


def test_a_byte_order_mark_wins_over_the_declared_charset(server: LocalServer) -> None:
    html = page("Türkiye", TURKISH).encode("utf-8")
    found = fetch_page(server, "/bom8", b"\xef\xbb\xbf" + html, "text/html; charset=iso-8859-1")
    assert "Türkiye Büyük Millet Meclisi" in found.text
    utf16 = page("Türkiye", TURKISH).encode("utf-16-le")
    found = fetch_page(server, "/bom16", b"\xff\xfe" + utf16, "text/html; charset=utf-8")
    assert "Türkiye Büyük Millet Meclisi" in found.text


def test_latin_1_and_ascii_labels_mean_windows_1252() -> None:
    body = "“Peace” talks — in Baku".encode("cp1252")
    assert extract.decode(body, "text/html; charset=iso-8859-1") == "“Peace” talks — in Baku"
    assert extract.decode(body, "text/html; charset=us-ascii") == "“Peace” talks — in Baku"
    assert extract.decode(b'<meta charset="latin1">\x93x\x94', "") == '<meta charset="latin1">“x”'


def test_pages_with_false_charsets_are_read_and_stored(server: LocalServer, tmp_path: Path) -> None:
    body = page("Baku talks", ENGLISH).encode()
    server.add("/idna.html", body, headers={"Content-Type": "text/html; charset=idna"})
    meta = page("Baku talks", ENGLISH, '<meta charset="undefined">').encode()
    server.add("/undefined.html", meta, headers={"Content-Type": "text/html"})
    when = format_datetime(NOW - timedelta(hours=2))
    items = "".join(
        f"<item><title>Talks {n}</title><link>{server.base}/{n}.html</link>"
        f"<pubDate>{when}</pubDate><description>Short.</description></item>"
        for n in ("idna", "undefined")
    )
    feed = f"<rss version='2.0'><channel><title>T</title>{items}</channel></rss>"
    path = tmp_path / "feeds.toml"
    path.write_text(
        f'[settings]\nhost_delay = 0\n[[feeds]]\nname = "Wire"\n'
        f'url = "{server.add("/feed.xml", feed)}"\n'
        '[briefings.caucasus]\ntitle = "Caucasus"\ntopics = ["caucasus"]\n'
        'schedule = "0 7 * * *"\n'
    )
    loaded = config.load(path)
    store = pipeline.open_store(loaded)
    run = pipeline.Run(config=loaded, store=store, now=NOW)
    pipeline.fetch_feeds(run)
    pipeline.fetch_pages(run)
    store.close()
    assert (run.report.pages_fetched, run.report.failures) == (2, [])


def test_a_copyright_year_is_no_date(server: LocalServer) -> None:
    html = page("Ceasefire holds", ENGLISH).replace("© 2026", "© 2026 Caucasus Wire")
    found = fetch_page(server, "/year", html.encode(), "text/html; charset=utf-8")
    assert found.published is None
    dated = html.replace("<article>", "<article><p>Published 20 November 2026</p>")
    found = fetch_page(server, "/dated", dated.encode(), "text/html; charset=utf-8")
    assert found.published is not None and found.published.date().isoformat() == "2026-11-20"
    new_year = '<meta property="article:published_time" content="2026-01-01T08:00:00+00:00">'
    html = page("Ceasefire holds", ENGLISH, new_year).replace("© 2026", "© 2026 Caucasus Wire")
    found = fetch_page(server, "/new-year", html.encode(), "text/html; charset=utf-8")
    assert found.published is not None and found.published.date().isoformat() == "2026-01-01"


@pytest.mark.parametrize(
    "body", [b"", b"  \n", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", b"\x00" * 9]
)
def test_an_empty_page_is_our_one_line_only(
    server: LocalServer, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(extract.ExtractionFailed, match="no article text found on the page"):
        fetch_page(server, "/empty", body, "text/html")
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.parametrize(
    "og_title",
    [
        "<script>alert(1)</script>Lebanon <b>ceasefire</b> holds",
        "&lt;script&gt;alert(1)&lt;/script&gt;Lebanon &lt;b&gt;ceasefire&lt;/b&gt; holds",
    ],
)
def test_a_page_title_is_text(server: LocalServer, og_title: str) -> None:
    head = f'<meta property="og:title" content="{og_title}">'
    head += '<meta name="author" content="Rana &lt;i&gt;Haddad&lt;/i&gt;">'
    html = page("Lebanon", ENGLISH, head)
    found = fetch_page(server, "/og", html.encode(), "text/html; charset=utf-8")
    assert found.title == "Lebanon ceasefire holds"
    assert found.author == "Rana Haddad"


def test_a_first_paragraph_that_is_the_headline_is_dropped(server: LocalServer) -> None:
    lead = "Lebanese officials in Beirut said the truce in the south held through the week. "
    html = page("Lebanon ceasefire holds for a second week", lead)
    found = fetch_page(server, "/headline", html.encode(), "text/html; charset=utf-8")
    assert found.text.startswith("Lebanese officials in Beirut said")
    entry = Entry(
        feed_id="f",
        guid="g",
        url="https://x.example/a",
        canonical_url="https://x.example/a",
        title="Lebanon ceasefire holds — for a second week!",
        summary="Lebanon ceasefire holds for a second week\n\nShort teaser.",
        content="",
        author="",
        published=NOW,
        dated=True,
    )
    # a page kept before its heading was dropped, or with a title of its own: the entry's
    # title, compared loosely, finds the heading
    kept = replace(
        found, title="Home", text="LEBANON: ceasefire holds for a second week\n\n" + lead * 9
    )
    article = extract.best_article(entry, kept, article_id="1")
    assert article.text.startswith("Lebanese officials in Beirut said")
    assert article.summary.startswith("Lebanese officials in Beirut said")
    teaser = extract.best_article(entry, None, article_id="1")
    assert (teaser.text, teaser.summary) == ("Short teaser.", "Short teaser.")
    alone = replace(entry, summary="Lebanon ceasefire holds for a second week")
    assert extract.best_article(alone, None, article_id="1").text == alone.summary


CONSENT_WALLS = [
    "<h1>Before you continue</h1><p>We and our partners use cookies and data to deliver"
    " and maintain our services, measure audience engagement and show personalised"
    " advertising. Select Accept all to continue, or Reject all to refuse.</p>"
    "<button>Accept all</button><button>Reject all</button>",
    "<h2>Your privacy matters</h2><p>This site uses cookies to store information on your"
    " device, to measure how it is used and to show you content that suits you.</p>"
    "<p>You can accept them all, or manage your preferences and withdraw your consent at"
    " any time from the link at the bottom of every page.</p>",
]


SIGN_IN_WALLS = [
    "<form action='/login'><h1>Sign in to continue reading</h1><p>Subscribe for unlimited"
    " access to our journalism. Already a subscriber? Log in with your email and password"
    " below.</p><input name=email><input type=password name=pw><button>Log in</button>"
    "<p>Forgot your password? Reset it here. By logging in you agree to our terms of"
    " service and privacy policy.</p></form>",
    "<div class='register'><h2>This article is for registered readers</h2><p>Create a free"
    " account to keep reading, or sign in if you already have one. Registration takes a"
    " minute and gives you three articles a week.</p><p>Register now</p></div>",
]
WALLS = [(w, "a cookie or consent wall, not the article") for w in CONSENT_WALLS] + [
    (w, "a sign-in wall, not the article") for w in SIGN_IN_WALLS
]


@pytest.mark.parametrize(("wall", "message"), WALLS)
def test_a_cookie_or_sign_in_wall_is_no_article(
    server: LocalServer, tmp_path: Path, wall: str, message: str
) -> None:
    # Sites in the EU answer a crawler with a consent page, others with a sign-in form; its
    # text was longer than the feed's teaser, so readers got "We and our partners use
    # cookies…" or "Forgot your password? Reset it here." as the summary.
    server.add(
        "/wall.html",
        f"<html><head><title>Consent</title></head><body><div class='consent'>{wall}</div>"
        "</body></html>",
        headers={"Content-Type": "text/html"},
    )
    teaser = "Netanyahu met his coalition partners in Jerusalem to settle the budget dispute."
    when = format_datetime(NOW - timedelta(hours=2))
    feed = (
        f"<rss version='2.0'><channel><title>T</title><item><title>Coalition talks on the "
        f"budget</title><link>{server.base}/wall.html</link><pubDate>{when}</pubDate>"
        f"<description>{teaser}</description></item></channel></rss>"
    )
    path = tmp_path / "feeds.toml"
    path.write_text(
        f'[settings]\nhost_delay = 0\n[[feeds]]\nname = "Ledger"\n'
        f'url = "{server.add("/feed.xml", feed)}"\n'
        '[briefings.israel]\ntitle = "Israel"\ntopics = ["israel"]\n'
        'schedule = "0 7 * * *"\n'
    )
    loaded = config.load(path)
    store = pipeline.open_store(loaded)
    run = pipeline.Run(config=loaded, store=store, now=NOW)
    [built] = pipeline.run_once(run)
    store.close()
    [failure] = run.report.failures
    assert (failure.stage, failure.url) == ("page", f"{server.base}/wall.html")
    assert failure.message == message
    [story] = json.loads((built.path / "edition.json").read_text())["stories"]
    assert story["summary"] == teaser


def test_an_article_about_cookies_is_still_an_article(server: LocalServer) -> None:
    text = (
        "The European Commission fined an advertising firm for setting cookies before users"
        " could accept or reject them, the regulator in Brussels said on Tuesday. "
    )
    short = page("Cookie fine", text, repeat=3).encode()  # under the consent wall's 150 words
    found = fetch_page(server, "/cookies.html", short, "text/html")
    assert "fined an advertising firm" in found.text


def test_an_article_about_passwords_is_still_an_article(server: LocalServer) -> None:
    text = (
        "Israel's cyber directorate told banks to make customers sign in with a second"
        " factor after passwords of 40,000 accounts were leaked, officials said on Monday. "
    )
    short = page("Password leak", text, repeat=3).encode()  # under the wall's 150 words
    found = fetch_page(server, "/passwords.html", short, "text/html")
    assert "cyber directorate" in found.text


ARTICLE = "https://www.dailysabah.com/politics/diplomacy/ankara-baku-rail?utm_source=rss"


@pytest.mark.parametrize(
    ("head", "named"),
    [
        ('<link rel="canonical" href="/politics/ankara-baku-rail">', "politics/ankara-baku-rail"),
        (
            "<link href='https://dailysabah.com/news?id=5&amp;p=1' rel='Canonical'>",
            "/news?id=5&p=1",
        ),
        (
            '<meta property="og:url" content="https://m.dailysabah.com/world/rail">',
            "m.dailysabah.com/world/rail",
        ),
        ('<link rel="canonical" href="https://www.sabah.com.tr/world/rail">', ""),  # another site
        ('<link rel="canonical" href="https://www.dailysabah.com/">', ""),  # the front page
        ('<meta property="og:url" content="https://www.dailysabah.com">', ""),
        ('<link rel="canonical" href="javascript:alert(1)">', ""),
        ('<link rel="alternate" href="https://www.dailysabah.com/world/b">', ""),
        ("", ""),
    ],
)
def test_the_url_a_page_names_as_its_own(head: str, named: str) -> None:
    found = extract.extract_page(
        page("Ankara and Baku sign rail deal", TURKISH, head=head).encode(),
        url=ARTICLE,
        content_type="text/html; charset=utf-8",
    ).canonical
    assert found.endswith(named) if named else found == ""
    if named:
        assert found.startswith("https://")


def test_an_aggregator_s_redirect_is_identified_by_where_it_led() -> None:
    landed = extract.Page(url="https://www.aa.com.tr/en/turkiye/x/123", text="t")
    link = "https://news.google.com/rss/articles/CBMi?oc=5"
    assert extract.identity(landed, link) == landed.url
    assert extract.identity(replace(landed, canonical="https://www.aa.com.tr/x"), link) == (
        "https://www.aa.com.tr/x"
    )
    assert extract.identity(landed, landed.url) == ""  # no redirect: nothing more known
    front = replace(landed, url="https://www.aa.com.tr/en/")  # a removed article's redirect
    assert extract.identity(front, "https://www.aa.com.tr/en/turkiye/y/9") == ""


def test_a_page_date_keeps_its_time_and_zone(server: LocalServer) -> None:
    evening = '<meta property="article:published_time" content="2026-11-21T21:30:00+03:00">'
    found = fetch_page(
        server, "/evening", page("Baku talks", ENGLISH, evening).encode(), "text/html"
    )
    assert found.published == datetime(2026, 11, 21, 18, 30, tzinfo=UTC)  # not 00:00 UTC


def test_an_undated_entry_takes_the_page_date_only_when_it_says_older() -> None:
    seen = datetime(2026, 11, 21, 19, tzinfo=UTC)  # first seen 22:00 in Istanbul
    entry = Entry(
        feed_id="f",
        guid="g",
        url="https://x.example/a",
        canonical_url="https://x.example/a",
        title="T",
        summary="short",
        content="",
        author="",
        published=seen,
        dated=False,
    )

    def published(value: str) -> datetime:
        html = page(
            "Baku talks", ENGLISH, f'<meta property="article:published_time" content="{value}">'
        )
        found = extract.extract_page(html.encode(), url=entry.url, content_type="text/html")
        return extract.best_article(entry, found, article_id="1").published

    # the day alone: that evening's article is not made 19 hours older than it is
    assert published("2026-11-21") == seen
    assert published("2026-11-21T20:45:00") == seen  # a local time without its zone
    assert published("2026-11-21T18:15:00+03:00") == seen
    assert published("2026-11-22T06:00:00+00:00") == seen  # a clock ahead: not from tomorrow
    assert published("2026-11-02") == datetime(2026, 11, 2, tzinfo=UTC)  # an old one stays old
    assert published("2026-11-19T08:00:00+02:00") == datetime(2026, 11, 19, 6, tzinfo=UTC)
