"""Rendering: escaping, MJML compiled and inlined, text for people, the JSON contract."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from briefings import render
from briefings.errors import RenderError
from briefings.model import Edition, Source, Story, TopicMatch

from .conftest import NOW, LocalServer
from .editions import LAYOUTS

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def edition(title: str = "Baku and Ankara sign pipeline deal", stories: int = 2) -> Edition:
    made = tuple(
        Story(
            id=f"s{n}",
            title=title if n == 0 else f"Story {n} about a long subject " * 3,
            url=f"https://paper.example/{n}",
            summary="First sentence of the story. " * 8,
            published=NOW - timedelta(hours=n),
            topics=("turkey", "caucasus"),
            scores=(("turkey", 3.0), ("caucasus", 3.0)),
            matches=(TopicMatch(topic="turkey", term="Ankara", field="title", weight=3.0),),
            sources=(
                Source(feed="Paper", title=title, url=f"https://paper.example/{n}"),
                Source(feed="Wire", title="Copy", url=f"https://wire.example/{n}"),
            ),
            member_urls=(f"https://paper.example/{n}", f"https://wire.example/{n}"),
        )
        for n in range(stories)
    )
    return Edition(
        briefing="turkey",
        title="Turkey Briefing",
        description="Turkish politics.",
        edition="2026-11-22-1200",
        generated_at=NOW,
        stories=made,
    )


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return render.render(
        edition(HOSTILE), env=render.environment(), timezone="Europe/Istanbul"
    ).files


def test_every_file_is_written(files: dict[str, str]) -> None:
    assert set(files) == {
        "index.html",
        "email.html",
        "email.txt",
        "edition.json",
        "index.pro.html",
        "email.pro.html",
        "email.pro.txt",
    }


@pytest.mark.parametrize("name", ["index.html", "email.html"])
def test_story_text_is_escaped(files: dict[str, str], name: str) -> None:
    html = files[name]
    assert "<script>alert" not in html
    assert "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;" in html


def test_email_is_compiled_and_inlined(files: dict[str, str]) -> None:
    html = files["email.html"]
    assert "<mj-" not in html
    assert "max-width:600px" in html.replace(" ", "")
    assert 'style="' in html
    assert "Turkey Briefing" in html
    assert "Also covered by 1 outlet" in html


def test_plain_text_is_wrapped_for_people(files: dict[str, str]) -> None:
    text = files["email.txt"]
    assert all(len(line) <= 72 for line in text.splitlines()), text
    assert "TURKEY BRIEFING" in text
    assert "Sunday 22 November 2026" in text  # local date in Europe/Istanbul
    assert "[1] https://paper.example/0" in text
    assert "   Also covered by 1 outlet:\n   - Wire: https://wire.example/" in text


def test_edition_json_contract(files: dict[str, str]) -> None:
    document = json.loads(files["edition.json"])
    assert_contract(document)
    assert document["generated_at"] == "2026-11-22T09:00:00+00:00"
    assert document["stories"][0]["matches"][0] == {
        "topic": "turkey",
        "term": "Ankara",
        "field": "title",
        "weight": 3.0,
    }


SCHEMA = json.loads(
    (Path(__file__).parent.parent / "docs" / "edition.schema.json").read_text(encoding="utf-8")
)


def assert_contract(document: dict[str, object]) -> None:
    """The documented edition.json contract (docs/edition-json.md, docs/edition.schema.json)."""
    from datetime import datetime

    import jsonschema

    jsonschema.validate(document, SCHEMA)
    assert set(document) >= {"briefing", "title", "edition", "generated_at", "stories"}
    assert isinstance(document["briefing"], str) and isinstance(document["title"], str)
    assert datetime.fromisoformat(str(document["generated_at"])).tzinfo is not None
    stories = document["stories"]
    assert isinstance(stories, list)
    for story in stories:
        assert set(story) >= {"id", "title", "url", "summary", "topics", "published", "sources"}
        assert story["url"].startswith(("http://", "https://"))
        assert datetime.fromisoformat(story["published"]).tzinfo is not None
        assert isinstance(story["topics"], list)
        assert story["sources"] and {tuple(sorted(s)) for s in story["sources"]} == {
            ("feed", "title", "url")
        }
        assert story["url"] in {s["url"] for s in story["sources"]}
        for match in story.get("matches", []):
            assert set(match) - {"source"} == {"topic", "term", "field", "weight"}


def test_user_template_overrides_one_file(tmp_path: Path) -> None:
    (tmp_path / "email.txt").write_text("{{ edition.title }} has {{ stories | length }}\n")
    files = render.render(edition(), env=render.environment(tmp_path), timezone="UTC").files
    assert files["email.txt"] == "Turkey Briefing has 2\n"
    assert "<!doctype html>" in files["index.html"]


def test_template_error_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "web.html").write_text("line one\n{% if %}\n")
    with pytest.raises(RenderError, match=r"web.html:2:"):
        render.render(edition(), env=render.environment(tmp_path), timezone="UTC")
    (tmp_path / "web.html").write_text("{{ nonsense.value }}\n")
    with pytest.raises(RenderError, match=r"web.html:1: 'nonsense' is undefined"):
        render.render(edition(), env=render.environment(tmp_path), timezone="UTC")


def test_the_schema_rejects_a_broken_edition(files: dict[str, str]) -> None:
    import jsonschema

    document = json.loads(files["edition.json"])
    del document["stories"][0]["sources"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, SCHEMA)
    document = json.loads(files["edition.json"])
    document["generated_at"] = "2026-11-22 09:00"  # no offset
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, SCHEMA)


PRO_DETAIL = "The contract runs to 2041 and its price formula is PRO-ONLY-DETAIL."


def energy_first(format: str) -> tuple[Edition, render.Layout]:
    """A briefing whose PRO section's story is the most covered: it leads."""
    from dataclasses import replace as changed

    from .editions import TITLES
    from .editions import edition as fixed

    made = fixed()
    lead = changed(
        made.stories[4],
        title="Pipeline gas deal signed for two decades",
        topics=("energy",),
        scores=(("energy", 3.0),),
        summary=f"A long-term gas deal was signed today in Baku by three parties. {PRO_DETAIL}",
        sources=tuple(
            Source(feed=f"Energy Desk {k}", title="Gas deal", url=f"https://e{k}.example/1")
            for k in range(5)
        ),
    )
    others = tuple(
        changed(s, topics=("business-tech",), scores=(("business-tech", 3.0),))
        for s in made.stories[:4]
    )
    layout = render.Layout(
        format=format,
        topics=("business-tech", "energy"),
        pro_sections=("energy",),
        topic_titles=TITLES,
    )
    return changed(made, stories=(lead, *others)), layout


@pytest.mark.parametrize("format", ["daily", "weekly", "minute"])
def test_a_pro_story_is_a_teaser_for_free_readers_wherever_it_stands(format: str) -> None:
    made, layout = energy_first(format)
    if format == "weekly":  # in the week's top four rather than the lead
        made = dataclasses.replace(
            made, stories=(made.stories[1], made.stories[0], *made.stories[2:])
        )
    files = render.render(made, env=render.environment(), timezone="UTC", layout=layout).files
    for name in ("index.html", "email.html", "email.txt"):
        free = files[name]
        assert "PRO-ONLY-DETAIL" not in free, f"{format} {name} shows the PRO story in full"
        assert "https://e0.example/1" not in free, f"{format} {name} links the PRO story"
        assert "Upgrade to PRO" in free or "Read the whole briefing with PRO" in free, name
        assert "Pipeline gas deal" in free  # the teaser's headline stays
        pro = files[name.replace("index", "index.pro").replace("email", "email.pro")]
        assert "Upgrade to PRO" not in pro
        if format != "minute":
            assert "PRO-ONLY-DETAIL" in pro
    assert "[PRO] Pipeline gas deal" in files["email.txt"]


BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def bidi_edition() -> Edition:
    from dataclasses import replace as changed

    from .editions import edition as fixed

    made = fixed()
    mixed = changed(
        made.stories[0],
        title="Knesset debates the שלום plan as talks resume",
        summary="Lawmakers quoted the word שלום twice. The vote is due on Monday next week.",
    )
    hostile = changed(
        made.stories[1],
        title="\u202eEvil headline reversed\u2066 here",
        summary="\u202bSummary\u202c with \u2067controls\u2069 inside. A second sentence follows.",
        sources=tuple(
            Source(feed=f"\u202eOutlet {k}", title="x", url=f"https://o{k}.example/1")
            for k in range(2)
        ),
    )
    return changed(made, stories=(mixed, hostile, *made.stories[2:]))


def test_bidi_controls_from_feeds_never_reach_a_reader() -> None:
    files = render.render(
        bidi_edition(), env=render.environment(), timezone="UTC", layout=LAYOUTS["daily"]
    ).files
    for name, text in files.items():
        if name == "edition.json":
            continue  # the data as it came; renderings clean it
        assert not set(text) & set(BIDI_CONTROLS), name
        assert "Evil headline reversed here" in text, name


def test_headlines_take_their_own_direction_and_inserted_strings_are_isolated() -> None:
    files = render.render(
        bidi_edition(), env=render.environment(), timezone="UTC", layout=LAYOUTS["daily"]
    ).files
    web, mail = files["index.html"], files["email.html"]
    assert 'dir="rtl"' not in web  # one Hebrew word no longer turns a story around
    assert '<h2 dir="auto">' in web and '<p dir="auto">' in web
    assert "<bdi>Outlet A</bdi>" in web and "<bdi>22 Nov 09:00</bdi>" in web
    assert "<bdi>Outlet B</bdi></a>" in web  # also covered by
    mixed_cell = mail.split('<a href="https://outlet0.example/0"')[0].rsplit("<td", 1)[1]
    assert "right" not in mixed_cell  # the English headline with a Hebrew word
    hebrew_cell = mail.split('<a href="https://outlet0.example/5"')[0].rsplit("<td", 1)[1]
    assert "right" in hebrew_cell  # aligned for clients that ignore dir="auto"
    # its outlet and time line stands under it, at the right, not at the left edge
    after_hebrew = mail.split('<a href="https://outlet0.example/5"')[1]
    meta_cell = after_hebrew.split("<td", 1)[1].split("</td>", 1)[0]
    assert "Outlet A" in meta_cell and 'align="right"' in meta_cell
    after_mixed = mail.split('<a href="https://outlet0.example/0"')[1]
    assert 'align="right"' not in after_mixed.split("<td", 1)[1].split("</td>", 1)[0]
    hebrew_block = web.split('href="https://outlet0.example/5"')[1].split("</article>")[0]
    assert '<div class="meta end">' in hebrew_block
    english_block = web.split('href="https://outlet0.example/0"')[1].split("</article>")[0]
    assert '<div class="meta">' in english_block
    assert '<div dir="auto">' in mail and '<span dir="auto">Outlet A</span>' in mail
    hebrew = render.context(bidi_edition(), timezone="UTC", layout=LAYOUTS["daily"])
    assert [s["rtl"] for s in hebrew["stories"]][:6] == [False] * 5 + [True]


def test_also_covered_by_counts_other_outlets_once_each() -> None:
    from dataclasses import replace as changed

    from .editions import edition as fixed

    made = fixed()
    sources = (
        Source(feed="Kudüs Post", title="a", url="https://kudus.example/1"),
        Source(feed="Kudüs Post", title="b", url="https://kudus.example/copy"),
        Source(feed="Baku Daily", title="c", url="https://baku.example/1"),
        Source(feed="Baku  Daily", title="d", url="https://baku.example/2"),
        Source(feed="Wire", title="e", url="https://wire.example/1"),
    )
    made = changed(made, stories=(changed(made.stories[0], sources=sources), *made.stories[1:]))
    files = render.render(
        made, env=render.environment(), timezone="UTC", layout=LAYOUTS["daily"]
    ).files
    web = files["index.html"].split("</article>")[0]
    assert "Also covered by 2 outlets:" in web
    assert web.count("Kudüs Post") == 1  # the lead's own outlet, not "also"
    assert web.count("Baku Daily") == 1 and "https://baku.example/2" not in web
    assert "Also covered by 2 outlets:" in files["email.html"]
    also = "Also covered by 2 outlets:\n   - Baku Daily: https://baku.example/1\n"
    assert also + "   - Wire: https://wire.example/1\n" in files["email.txt"]


def test_plain_text_links_other_outlets_without_breaking_their_urls() -> None:
    made = edition(stories=1)
    long = "https://outlet.example/" + "/".join(["section"] * 12) + "/story.html?id=1"
    sources = (
        Source(feed="Lead", title="a", url="https://lead.example/1"),
        Source(feed="A Long Outlet Name", title="b", url=long),
        Source(feed="Unsafe", title="c", url="javascript:alert(1)"),
    )
    lead = dataclasses.replace(made.stories[0], sources=sources)
    made = dataclasses.replace(made, stories=(lead,))
    text = render.render(made, env=render.environment(), timezone="UTC").files["email.txt"]
    assert f"   - A Long Outlet Name:\n     {long}\n" in text  # whole, on its own line
    assert "   - Unsafe\n" in text and "javascript" not in text


@pytest.mark.parametrize("base_url", ["", "https://briefings.example.org"])
def test_atom_links_resolve_from_where_the_feed_is(tmp_path: Path, base_url: str) -> None:
    import xml.etree.ElementTree as ElementTree
    from urllib.parse import urljoin

    from briefings.config import Briefing

    briefing = Briefing(
        id="all",
        title="All Stories",
        description="",
        topics=(),
        schedule="0 7 * * *",
        window=timedelta(days=1),
        repeat_window=timedelta(days=7),
        max_stories=5,
        min_score=None,
    )
    listed = [
        render.Listed(
            edition="2026-11-22-1310", title="All", generated_at=NOW, stories=1, headlines=("A",)
        )
    ]
    pages = render.archive(
        briefing, listed, env=render.environment(), base_url=base_url, timezone="UTC"
    )
    folder = tmp_path / "out" / "all"
    (folder / "2026-11-22-1310").mkdir(parents=True)
    (folder / "2026-11-22-1310" / "index.html").write_text("edition")
    for name, text in pages.items():
        (folder / name).write_text(text, encoding="utf-8")
    where = base_url + "/all/feed.xml" if base_url else (folder / "feed.xml").as_uri()
    atom = "{http://www.w3.org/2005/Atom}"
    root = ElementTree.fromstring(pages["feed.xml"])
    entry_link = root.find(f"{atom}entry/{atom}link").get("href")
    home = next(
        link.get("href") for link in root.findall(f"{atom}link") if link.get("rel") == "alternate"
    )
    if base_url:
        assert entry_link == "https://briefings.example.org/all/2026-11-22-1310/index.html"
        assert home == "https://briefings.example.org/all/"
    else:
        resolved = urljoin(where, entry_link)
        assert resolved == (folder / "2026-11-22-1310" / "index.html").as_uri()
        assert urljoin(where, home) in (folder.as_uri() + "/", (folder / "index.html").as_uri())


def test_blank_lines_in_a_note_make_no_empty_paragraph() -> None:
    from dataclasses import replace as changed

    note = "First thought.\n\n\n\n\nSecond thought.\n \n\t\nThird thought.\n\n"
    made = changed(edition(), note=note)
    files = render.render(made, env=render.environment(), timezone="UTC").files
    for name in ("index.html", "email.html"):
        html = files[name]
        assert html.count("thought.") == 3
        assert '<p dir="auto"></p>' not in html and '<div dir="auto"></div>' not in html, name
        assert '<p dir="auto">Second thought.</p>' in html or "Second thought.</div>" in html
    assert "First thought.\n\nSecond thought.\n\nThird thought.\n" in files["email.txt"]


def test_why_lists_only_the_topics_the_story_has() -> None:
    # A story's matches keep every topic it scored on; one below its threshold ("border
    # guards" in a body: security 0.5) is no reason the story is here.
    made = edition(stories=1)
    [lead] = made.stories
    lead = dataclasses.replace(
        lead,
        topics=("turkey",),
        scores=(("turkey", 3.0), ("security", 0.5)),
        matches=(
            TopicMatch(topic="turkey", term="Ankara", field="title", weight=3.0),
            TopicMatch(topic="security", term="border guards", field="body", weight=0.5),
        ),
    )
    files = render.render(
        dataclasses.replace(made, stories=(lead,)),
        env=render.environment(),
        timezone="Europe/Istanbul",
    ).files
    assert "<bdi>Ankara (title)</bdi>" in files["index.html"]
    assert "border guards" not in files["index.html"]


def test_why_names_the_outlet_whose_article_had_the_term() -> None:
    made = edition(stories=1)
    [lead] = made.stories
    lead = dataclasses.replace(
        lead,
        topics=("turkey",),
        scores=(("turkey", 4.5),),
        matches=(
            TopicMatch(topic="turkey", term="Ankara", field="title", weight=3.0, source="Ar<b>"),
            TopicMatch(topic="turkey", term="Erdoğan", field="summary", weight=1.5, source="Ar<b>"),
        ),
    )
    again = dataclasses.replace(made, stories=(lead,))
    files = render.render(again, env=render.environment(), timezone="Europe/Istanbul").files
    assert (
        "<bdi>Ankara (title, Ar&lt;b&gt;), Erdoğan (summary, Ar&lt;b&gt;)</bdi>"
        in files["index.html"]
    )
    # edition.json keeps it, and an edition read back from it says the same
    back = render.edition_from_json(files["edition.json"])
    assert {m.source for m in back.stories[0].matches} == {"Ar<b>"}


def test_why_names_each_term_once_with_its_fields() -> None:
    """ "Gaza (body), Gaza (summary), Gaza (title)" read as a list of three reasons."""
    matches = [
        TopicMatch(topic="palestine", term="Gaza", field=f, weight=1.0) for f in ("body", "title")
    ]
    matches += [
        TopicMatch(topic="palestine", term="Gaza", field="summary", weight=1.5),
        TopicMatch(topic="israel", term="Israel", field="title", weight=3.0, source="Wire"),
        TopicMatch(topic="israel", term="Israel", field="body", weight=1.0, source="Wire"),
        TopicMatch(topic="israel", term="Israel", field="body", weight=1.0),
    ]
    assert render._reasons(matches) == (
        "Gaza (title, summary and body), Israel (body), Israel (title and body, Wire)"
    )


def teaser_body(teaser: str) -> str:
    """The words a teaser gives away, without its ellipsis."""
    assert teaser.endswith("…"), teaser
    return teaser.removesuffix("…").rstrip()


@pytest.mark.parametrize(
    "summary",
    [
        "Ministers met in Ankara today.",  # five words: the old teaser was all of it
        "The first sentence of story 1 says what happened. The second adds who said what.",
        "Kurz. " + "Ein sehr langer zweiter Satz folgt hier mit vielen weiteren Wörtern. " * 6,
        " ".join(f"word{n}" for n in range(90)) + ".",
        "הכנסת אישרה את התקציב לאחר דיון ארוך של שעות רבות. השרים הצביעו בעד ההצעה ברוב גדול",
        "أعلنت الحكومة اليوم عن خطة جديدة لدعم الشركات الصغيرة في المدن الكبرى والقرى",
        "東京で開かれた会議で、各国の代表は新しい貿易協定について合意した。協定は来年から発効する予定である。",
        "การประชุมที่กรุงเทพฯวันนี้ตกลงเรื่องการค้าใหม่ระหว่างประเทศเพื่อนบ้านทั้งหมด",
        "e\u0301" * 60,
    ],
)
def test_a_teaser_withholds_most_of_the_summary(summary: str) -> None:
    made = render.teaser(summary)
    given = teaser_body(made)
    text = " ".join(summary.split())
    assert text.startswith(given)
    assert len(given) <= len(text) / 3
    assert len(given.split()) <= min(25, len(text.split()) / 3) or " " not in text
    if given and " " in text:  # whole words only
        assert text[len(given)] == " "
    assert not given or not render._joins_previous(text[len(given)])


def test_a_teaser_of_a_long_summary_is_25_words() -> None:
    summary = " ".join(f"word{n}" for n in range(90))
    assert render.teaser(summary) == " ".join(f"word{n}" for n in range(25)) + " …"
    assert render.teaser("") == ""
    assert render.teaser("Two words") == "…"


def test_a_short_pro_summary_is_not_given_away_in_the_free_files() -> None:
    made = edition()
    short = "Baku and Ankara agree PRO-ONLY-DETAIL terms."
    made = dataclasses.replace(
        made, stories=tuple(dataclasses.replace(s, summary=short) for s in made.stories)
    )
    layout = render.Layout(tier="pro")
    files = render.render(made, env=render.environment(), timezone="UTC", layout=layout).files
    for name in ("index.html", "email.html", "email.txt"):
        assert "PRO-ONLY-DETAIL" not in files[name], name
        assert "PRO-ONLY-DETAIL" in files[name.replace(".", ".pro.", 1)], name


@pytest.mark.parametrize("format", ["daily", "weekly", "minute"])
def test_the_public_edition_json_has_pro_stories_as_teasers(format: str) -> None:
    made, layout = energy_first(format)
    lead = dataclasses.replace(made.stories[0], url="https://e0.example/1")
    made = dataclasses.replace(made, stories=(lead, *made.stories[1:]))
    rendered = render.render(made, env=render.environment(), timezone="UTC", layout=layout)
    assert set(rendered.public) == set(render.PUBLIC_FILES)
    assert set(rendered.private) == set(render.PRIVATE_FILES)
    public = json.loads(rendered.public["edition.json"])
    whole = json.loads(rendered.private["edition.json"])
    assert_contract(public)
    assert_contract(whole)
    assert (public["tier"], whole["tier"]) == ("free", "pro")
    assert "PRO-ONLY-DETAIL" not in rendered.public["edition.json"]
    assert "PRO-ONLY-DETAIL" in rendered.private["edition.json"]
    pro, *free = public["stories"]
    assert pro["locked"] and pro["summary"] == render.teaser(made.stories[0].summary)
    assert pro["title"] == "Pipeline gas deal signed for two decades"
    assert len(pro["sources"]) == 1 and pro["matches"] == [] and pro["image"] == ""
    assert not any(s["locked"] for s in free)
    assert [s["summary"] for s in free] == [s.summary for s in made.stories[1:]]
    assert not any(s["locked"] for s in whole["stories"])
    again = render.edition_from_json(rendered.private["edition.json"])
    assert [(s.id, s.summary) for s in again.stories] == [(s.id, s.summary) for s in made.stories]
    assert not render.is_whole(public) and render.is_whole(whole)
    assert render.is_whole({k: v for k, v in whole.items() if k != "tier"})  # older versions


def test_a_pro_reader_views_the_web_edition_through_a_link_of_their_own() -> None:
    made, layout = energy_first("daily")
    files = render.render(made, env=render.environment(), timezone="UTC", layout=layout).files
    for name in ("email.pro.html", "email.pro.txt"):
        assert render.VIEW_LINK in files[name]
        assert "index.pro.html" not in files[name]
    for name in ("email.html", "email.txt", "index.html"):
        assert render.VIEW_LINK not in files[name]
    free = render.render(made, env=render.environment(), timezone="UTC").files
    assert render.VIEW_LINK not in free["email.pro.html"]  # nothing PRO: the public page


@pytest.mark.parametrize("layout", ["daily", "weekly"])
def test_plain_text_lines_stay_under_their_headline_past_story_nine(layout: str) -> None:
    from .editions import edition as sample_edition

    made = sample_edition(12)
    long_title = "A headline long enough to need a second line in the plain text part " * 2
    made = dataclasses.replace(
        made, stories=tuple(dataclasses.replace(s, title=long_title) for s in made.stories)
    )
    text = render.render(
        made, env=render.environment(), timezone="UTC", layout=LAYOUTS[layout]
    ).files["email.txt"]
    lines = text.splitlines()
    for number in (9, 10, 12):
        start = next(i for i, line in enumerate(lines) if line.startswith(f"{number}. A headline"))
        pad = len(f"{number}. ")
        following = lines[start + 1 : lines.index("", start)]
        assert following, number
        for line in following:
            assert line.startswith(" " * pad) and line[pad] != " ", (number, line)
    assert all(len(line) <= 72 for line in lines)


def test_the_atom_feed_is_valid_atom_a_feed_reader_takes() -> None:
    import xml.etree.ElementTree as ElementTree
    from zoneinfo import ZoneInfo

    import feedparser

    from briefings.config import Briefing

    briefing = Briefing(
        id="caucasus",
        title="Caucasus Briefing",
        description="Azerbaijan, Armenia and Georgia.",
        topics=(),
        schedule="0 7 * * *",
        window=timedelta(days=1),
        repeat_window=timedelta(days=7),
        max_stories=5,
        min_score=None,
    )
    listed = [
        render.Listed(
            edition=f"2026-11-2{n}-0700",
            title="Caucasus Briefing",
            generated_at=NOW + timedelta(days=n),
            stories=1,
            headlines=(f"Border commission meets, round {n}",),
        )
        for n in (2, 1)
    ]
    for editions in (listed, []):
        atom = render.archive(
            briefing, editions, env=render.environment(), base_url="", timezone="UTC"
        )["feed.xml"]
        ns = {"a": "http://www.w3.org/2005/Atom"}
        root = ElementTree.fromstring(atom)
        # RFC 4287 4.1.1: a feed whose entries have no author has one itself
        assert root.findtext("a:author/a:name", namespaces=ns) == "Caucasus Briefing"
        for element in ("id", "title", "updated"):
            assert root.find(f"a:{element}", ns) is not None
        parsed = feedparser.parse(atom.encode("utf-8"))
        assert not parsed.bozo and parsed.version == "atom10"
        assert [e.title for e in parsed.entries] == [
            f"Caucasus Briefing · {render.dated(e.generated_at, ZoneInfo('UTC'))}" for e in editions
        ]
        assert all(e.id and e.updated and e.summary for e in parsed.entries)


def test_without_an_upgrade_url_there_is_no_dead_upgrade_button() -> None:
    made = edition()
    layout = dataclasses.replace(LAYOUTS["daily"], upgrade_url="")
    energy = dataclasses.replace(made.stories[0], topics=("energy",))
    made = dataclasses.replace(made, stories=(energy, *made.stories[1:]))
    free = render.render(made, env=render.environment(), timezone="UTC", layout=layout).public
    assert "Read the whole briefing with PRO" in free["index.html"]
    for name in ("index.html", "email.html", "email.txt"):
        assert "#upgrade" not in free[name] and '/pro"' not in free[name], name
        assert "Upgrade to PRO</a>" not in free[name], name
    assert "Read the whole briefing with PRO.\n" in free["email.txt"]
    with_url = render.render(
        made, env=render.environment(), timezone="UTC", layout=LAYOUTS["daily"]
    ).public
    for name in ("index.html", "email.html", "email.txt"):
        assert "https://briefings.example.org/subscribe" in with_url[name], name


def test_the_public_page_carries_no_placeholder_links() -> None:
    rendered = render.render(
        edition(), env=render.environment(), timezone="UTC", layout=LAYOUTS["daily"]
    )
    assert ".invalid/" not in rendered.public["index.html"]
    assert render.PREFERENCES_LINK in rendered.private["index.pro.html"]  # serve fills them in


def _documented(heading: str) -> list[str]:
    """The first column of the table that follows ``heading`` in docs/templates.md."""
    text = (Path(__file__).parent.parent / "docs" / "templates.md").read_text(encoding="utf-8")
    after = text[text.index(heading) :]
    names = []
    for line in after.splitlines()[1:]:
        if names and not line.startswith("|"):
            break
        cell = line.split("|")[1].strip() if line.startswith("|") else ""
        names += re.findall(r"`([a-z_]+)`", cell)
    return names


def test_the_documented_context_is_the_context_templates_get(tmp_path: Path) -> None:
    import jinja2

    from .editions import LAYOUTS

    # An editor's own web.html that writes out what it was given.
    (tmp_path / "web.html").write_text(
        "{{ names() | join(' ') }}\n{{ stories[0].keys() | sort | join(' ') }}\n"
        "{{ sections[0].keys() | sort | join(' ') }}\n{{ theme.keys() | sort | join(' ') }}\n"
        "{{ links.keys() | sort | join(' ') }}\n"
    )
    env = render.environment(tmp_path)
    globals_ = set(env.globals)
    env.globals["names"] = jinja2.pass_context(
        lambda context: sorted(set(context.get_all()) - globals_ - {"names"})
    )
    page = render.render(edition(), env=env, timezone="UTC", layout=LAYOUTS["daily"]).files[
        "index.html"
    ]
    top, item, section, theme, links = (line.split() for line in page.splitlines())
    assert sorted(top) == sorted(_documented("`web.html`, `email.mjml` and `email.txt` receive"))
    assert sorted(item) == sorted(_documented("Each story item holds:"))
    documented = (Path(__file__).parent.parent / "docs" / "templates.md").read_text()
    row = next(line for line in documented.splitlines() if line.startswith("| `sections` |"))
    assert set(section) == set(re.findall(r"`([a-z_]+)`", row.split("Each section has")[1]))
    row = next(line for line in documented.splitlines() if line.startswith("| `theme` |"))
    assert set(theme) == set(re.findall(r"`([a-z_]+)`", row.split("|")[2]))
    row = next(line for line in documented.splitlines() if line.startswith("| `links` |"))
    assert set(links) == set(re.findall(r"`([a-z_]+)`", row.split("|")[2].split(".")[0]))


def test_a_template_that_extends_itself_is_one_clear_line(tmp_path: Path) -> None:
    # An editor who wants the built-in page with one change writes what works in Pelican.
    (tmp_path / "web.html").write_text('{% extends "web.html" %}\n')
    with pytest.raises(RenderError) as caught:
        render.render(edition(), env=render.environment(tmp_path), timezone="UTC")
    assert str(caught.value) == (
        f"{tmp_path / 'web.html'}: extends, includes or calls itself without end; a file in "
        "settings.templates replaces the built-in one of its name, so it cannot build on it: "
        "copy the built-in file and change the copy"
    )


def test_a_web_font_in_the_email_is_left_for_the_mail_client(
    tmp_path: Path, server: LocalServer
) -> None:
    """A user's ``email.mjml`` with ``mj-font`` (MJML's way to a web font): rendering fetched
    the font's CSS from the network at every build, then dropped its ``<link>``."""
    font = server.add("/font.css", "@font-face { font-family: Lato; }")
    builtin = (render.builtin_templates() / "email.mjml").read_text(encoding="utf-8")
    (tmp_path / "email.mjml").write_text(
        builtin.replace(
            "<mj-head>", f'<mj-head>\n    <mj-font name="Lato" href="{font}" />', 1
        ).replace('font-family="Helvetica', 'font-family="Lato, Helvetica', 1),
        encoding="utf-8",
    )
    files = render.render(edition(), env=render.environment(tmp_path), timezone="UTC").files
    assert server.hits == []  # rendering reaches no network
    assert f'<link href="{font}" rel="stylesheet"' in files["email.html"]


def test_the_catalogue_keeps_a_space_between_a_title_and_its_pro_label() -> None:
    from datetime import UTC, datetime

    import lxml.html

    from briefings.config import Briefing

    weekly = Briefing(
        id="industries",
        title="PRO Industry Weekly",
        description="The week in the industries you follow.",
        topics=(),
        schedule="0 7 * * fri",
        window=timedelta(days=7),
        repeat_window=timedelta(days=7),
        max_stories=5,
        min_score=None,
        tier="pro",
    )
    listed = render.Listed(
        edition="2026-11-20-0700",
        title=weekly.title,
        generated_at=datetime(2026, 11, 20, 5, tzinfo=UTC),
        stories=3,
        headlines=(),
    )
    for listings in ({}, {"industries": [listed]}):  # a title alone, and a link
        page = render.catalogue([weekly], listings, env=render.environment())
        item = lxml.html.fromstring(page).xpath("//li")[0]
        assert " ".join(item.text_content().split()).startswith("PRO Industry Weekly PRO ")


def test_the_archive_the_catalogue_and_the_feed_date_an_edition_as_its_page_does() -> None:
    """Day without a leading zero, weekday, and the zone, as the edition's own masthead
    says it; a feed reader shows the date, not the folder's name."""
    from datetime import UTC, datetime

    import feedparser

    from briefings.config import Briefing

    briefing = Briefing(
        id="israel",
        title="Israel Briefing",
        description="Top Israel stories.",
        topics=(),
        schedule="0 7 * * *",
        window=timedelta(days=1),
        repeat_window=timedelta(days=7),
        max_stories=5,
        min_score=None,
        timezone="Asia/Jerusalem",
    )
    when = datetime(2026, 11, 1, 17, 19, tzinfo=UTC)  # 19:19 in Jerusalem
    listed = [
        render.Listed(
            edition="2026-11-01-1919",
            title="Israel Briefing",
            generated_at=when,
            stories=1,
            headlines=("Cabinet approves the budget",),
        )
    ]
    env = render.environment()
    pages = render.archive(briefing, listed, env=env, base_url="", timezone="Asia/Jerusalem")
    catalogue = render.catalogue([briefing], {"israel": listed}, env=env)
    masthead = render.context(
        dataclasses.replace(edition(), generated_at=when), timezone="Asia/Jerusalem"
    )
    label = "Sunday 1 November 2026, 19:19 IST"
    assert masthead["date_label"] + ", " + masthead["time_label"] == label
    assert f">{label}</a>" in pages["index.html"]
    assert f">{label}</a>" in catalogue
    [entry] = feedparser.parse(pages["feed.xml"].encode("utf-8")).entries
    assert entry.title == f"Israel Briefing · {label}"
