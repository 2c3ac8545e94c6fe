"""Property-based tests (hypothesis): no input crashes config loading, link handling, topic
matching, clustering or rendering, and no story text, however crafted, reaches an HTML
output unescaped or breaks the MJML.

Profiles: ``ci`` (the default) and ``deep`` (``HYPOTHESIS_PROFILE=deep``, 10x the examples).
"""

from __future__ import annotations

import contextlib
import os
import tomllib
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from briefings import config as configuration
from briefings import dedupe, feeds, pipeline, render
from briefings.errors import ConfigError
from briefings.model import Article, Source
from briefings.text import web_link

from .editions import LAYOUTS, NOW, edition
from .safety import html_problems, link_problem

settings.register_profile(
    "ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "deep", max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

HOSTILE_WORDS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>',
    "javascript:alert(1)", "data:text/html,x", "</mj-text><mj-raw><script>x</script></mj-raw>",
    "<mj-section>", "{{ 7*7 }}", "{% raw %}", "&amp;", "&#x0;", "]]>", "<!--", "\r\nBcc: x@y.z",
    "\x00", "\x0b", "\x1b[31m", "\ufeff", "\u202e", "\uffff", "Erdoğan", "Türkiye", "Baku",
    "Georgia", "Atlanta", "Israel", "שלום", "مرحبا", "expression(alert(1))", "url(javascript:x)",
]  # fmt: skip
crafted = st.lists(
    st.one_of(st.sampled_from(HOSTILE_WORDS), st.text(max_size=20)), max_size=12
).map(" ".join)
"""Text mixing known attacks with arbitrary Unicode."""
urls = st.one_of(
    st.sampled_from(
        [
            "javascript:alert(1)",
            " JAVA\tSCRIPT:x",
            "data:text/html,x",
            "vbscript:x",
            "https://example.org/a?utm_source=x&b=1#f",
            "http://[::1",
            "http://h:99999/",
            "//x/y",
            "relative/path.html",
            "https://user:pw@EXAMPLE.org:443/./a/../b",
            "",
        ]
    ),
    st.text(max_size=40),
    st.builds(lambda a, b: f"https://{a}/{b}", st.text(max_size=10), st.text(max_size=10)),
)


# -- configuration -------------------------------------------------------------------------

toml_values: st.SearchStrategy[Any] = st.recursive(
    st.one_of(
        st.text(max_size=20),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=False),
        st.booleans(),
        st.sampled_from(["../../etc", "0 7 * * *", "24h", "UTC", "israel", "#fff", "x@y.z"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
keys = st.sampled_from(
    [*configuration.SETTINGS, *configuration.FEED, *configuration.BRIEFING, "x", "../../etc"]
)
documents = st.fixed_dictionaries(
    {},
    optional={
        "settings": st.dictionaries(keys, toml_values, max_size=4),
        "feeds": st.lists(st.dictionaries(keys, toml_values, max_size=5), max_size=3),
        "briefings": st.dictionaries(
            st.text(max_size=10), st.dictionaries(keys, toml_values, max_size=5), max_size=3
        ),
        "topics": st.dictionaries(
            st.text(max_size=10), st.dictionaries(keys, toml_values, max_size=4), max_size=2
        ),
        "delivery": st.dictionaries(keys, toml_values, max_size=3),
    },
)


@given(documents)
def test_any_config_loads_or_fails_with_key_paths(raw: dict[str, Any]) -> None:
    root = Path("/srv/briefings")
    try:
        loaded = configuration.parse(raw, root / "feeds.toml")
    except ConfigError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert "\n" not in problem and problem.startswith("feeds.toml: ")
        return
    for item in (*loaded.briefings, *loaded.feeds):
        assert "/" not in item.id and ".." not in item.id and item.id  # ids stay in the output
        assert (loaded.settings.output / item.id).parent == loaded.settings.output


@given(st.text(max_size=300))
def test_any_toml_text_loads_or_fails_cleanly(text: str) -> None:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    with contextlib.suppress(ConfigError):
        configuration.parse(raw, Path("/srv/feeds.toml"))


# -- links ---------------------------------------------------------------------------------


@given(urls)
def test_canonical_urls_never_crash_and_settle(url: str) -> None:
    once = dedupe.canonical_url(url)
    assert isinstance(once, str)
    if web_link(once):
        assert dedupe.canonical_url(once) == once  # canonical of canonical is itself


@given(urls, st.sampled_from(["", "http://127.0.0.1:8000/feed.xml", "/srv/feed.xml"]))
def test_web_links_are_web_links_or_nothing(url: str, base: str) -> None:
    link = web_link(url, base)
    assert link == "" or (link.startswith(("http://", "https://")) and not link_problem(link))


# -- topics and clustering -----------------------------------------------------------------

MATCHER = pipeline.topic_matcher(None)


@given(crafted, crafted, crafted)
def test_topic_matching_never_crashes(title: str, summary: str, body: str) -> None:
    matches, cancelled = MATCHER.match(title=title, summary=summary, body=body)
    assert all(m.weight > 0 and m.topic in MATCHER.topics for m in matches)
    assert all(c.topic in MATCHER.topics for c in cancelled)


articles = st.lists(
    st.builds(
        lambda title, text, feed, hours: (title, text, feed, hours),
        crafted,
        crafted,
        st.sampled_from(["a", "b", "c"]),
        st.integers(0, 96),
    ),
    max_size=12,
)


@given(articles)
def test_clustering_is_a_partition(rows: list[tuple[str, str, str, int]]) -> None:
    made = [
        Article(
            id=str(n),
            feed_id=feed,
            url=f"https://{feed}.example/{n}",
            canonical_url=f"https://{feed}.example/{n}",
            title=title,
            summary=text[:200],
            text=text,
            author="",
            published=NOW - timedelta(hours=hours),
            text_source="feed",
        )
        for n, (title, text, feed, hours) in enumerate(rows)
    ]
    groups = dedupe.cluster(made)
    ids = [a.id for group in groups for a in group]
    assert sorted(ids, key=int) == [a.id for a in made]  # every article exactly once
    for group in groups:
        story = dedupe.make_story(
            group, weights={}, feed_names={}, matches_of=lambda a: (), thresholds={}
        )
        assert story.member_urls


# -- rendering -----------------------------------------------------------------------------

ENV = render.environment()


@settings(max_examples=int(os.environ.get("HYPOTHESIS_RENDER_EXAMPLES", "40")))
@given(
    st.lists(st.tuples(crafted, crafted, crafted, urls), min_size=1, max_size=4),
    st.sampled_from(sorted(LAYOUTS)),
    crafted,
)
def test_no_story_text_reaches_html_unescaped(
    texts: list[tuple[str, str, str, str]], layout: str, note: str
) -> None:
    base = edition(len(texts), note=note)
    stories = tuple(
        replace(
            story,
            title=title,
            summary=summary,
            url=url,
            image=url,
            sources=tuple(replace(s, feed=outlet, url=url) for s in story.sources)
            or (Source(feed=outlet, title=title, url=url),),
        )
        for story, (title, summary, outlet, url) in zip(base.stories, texts, strict=True)
    )
    files = render.render(
        replace(base, stories=stories), env=ENV, timezone="Europe/Istanbul", layout=LAYOUTS[layout]
    ).files  # MJML that does not compile raises RenderError, failing the test
    for name, text in files.items():
        if name.endswith(".html"):
            # parsed as a browser parses it; css-inline re-serialises attribute values the
            # HTML5 way, where only & and " are escaped, so alt="<script>" is inert text
            assert not html_problems(text), (name, html_problems(text))
        if name.startswith("email") and name.endswith(".html"):
            assert len(text.encode()) <= render.EMAIL_LIMIT
        assert not any(ord(c) < 32 and c not in "\n\t\r" for c in text), name


@given(crafted)
def test_feed_html_becomes_plain_text(markup: str) -> None:
    text = feeds.html_to_text(markup)
    assert not any(ord(c) < 32 and c not in "\n\t" for c in text)
    problems = html_problems(render.environment().from_string("<p>{{ t }}</p>").render(t=text))
    assert problems == []


@given(st.text(max_size=400))
def test_a_teaser_gives_away_at_most_a_third(summary: str) -> None:
    made = render.teaser(summary)
    text = " ".join(summary.split())
    if not text:
        assert made == ""
        return
    given = made.removesuffix("…").rstrip()
    assert made.endswith("…") and text.startswith(given)
    assert len(given) <= len(text) / 3
    assert len(given.split()) <= 25
