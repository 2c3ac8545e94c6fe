"""Golden files: a fixed edition of every format rendered to web, email and text, as the
output folder (``public/``) and the private folder (``private/``) hold them.

Refresh on purpose, after checking the difference: UPDATE_GOLDEN=1 pytest tests/test_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from briefings import render

from .editions import LAYOUTS, NOTE, edition

GOLDEN = Path(__file__).parent / "data" / "golden"


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_rendering_matches_the_golden_files(name: str) -> None:
    layout = LAYOUTS[name]
    made = render.render(
        edition(note=NOTE if name == "weekly" else ""),
        env=render.environment(),
        timezone="Europe/Istanbul",
        layout=layout,
    )
    for place, files in (("public", made.public), ("private", made.private)):
        folder = GOLDEN / name / place
        if os.environ.get("UPDATE_GOLDEN"):
            folder.mkdir(parents=True, exist_ok=True)
            for file, text in files.items():
                (folder / file).write_text(text, encoding="utf-8")
        expected = sorted(p.name for p in folder.iterdir())
        assert sorted(files) == expected
        for file, text in files.items():
            assert text == (folder / file).read_text(encoding="utf-8"), (
                f"{name}/{place}/{file} differs from its golden file; if the change is "
                "intended, refresh with UPDATE_GOLDEN=1"
            )


def test_formats_differ_as_documented() -> None:
    files = {
        name: render.render(
            edition(note=NOTE), env=render.environment(), timezone="UTC", layout=layout
        ).files
        for name, layout in LAYOUTS.items()
    }
    minute = files["minute"]["email.txt"]
    assert "8. " in minute and "The first sentence" not in minute  # headlines only
    assert "THE TAKEAWAY" in files["weekly"]["email.txt"]
    assert "THE WEEK'S MOST-COVERED STORIES" in files["weekly"]["email.txt"]
    daily = files["daily"]
    assert "ENERGY · PRO" in daily["email.txt"]
    assert "[PRO]" in daily["email.txt"] and "[PRO]" not in daily["email.pro.txt"]
    assert (
        "Upgrade to PRO" in daily["email.html"] and "Upgrade to PRO" not in daily["email.pro.html"]
    )
    industry = files["industry"]
    assert industry["email.txt"].index("OIL & GAS") < industry["email.txt"].index("BANKING")
    assert "Upgrade to PRO" in industry["index.html"]
    for layout in files.values():
        for name in ("email.html", "email.pro.html", "index.html"):
            html = layout[name]
            assert ("<script" not in html and "View in browser" in html) or name == "index.html"
            mine = "Unsubscribe" in html and "Manage preferences" in html
            assert mine == (name != "index.html")  # the public page is nobody's
        assert 'dir="auto"' in layout["email.html"] and "הכנסת" in layout["email.html"]


def test_industry_sections_follow_each_subscribers_priorities() -> None:
    from dataclasses import replace

    layout = replace(LAYOUTS["industry"], topics=("banking", "oil-gas"))
    text = render.render(edition(), env=render.environment(), timezone="UTC", layout=layout).files[
        "email.pro.txt"
    ]
    assert text.index("BANKING") < text.index("OIL & GAS")


def test_an_oversized_edition_is_trimmed_and_links_the_web_version() -> None:
    big = edition(80, long=True)
    files = render.render(
        big, env=render.environment(), timezone="UTC", layout=LAYOUTS["daily"]
    ).files
    for name in ("email.html", "email.pro.html"):
        html = files[name]
        assert len(html.encode()) <= render.EMAIL_LIMIT
        assert "more stories in the" in html and "web edition</a>" in html
    assert files["index.html"].count("<article") == 80  # the web page keeps every story


SUMMARY = (
    "Ministers from Ankara, Baku and Tbilisi met on Thursday to agree the timetable for the "
    "railway, the pipeline and the customs posts along the border, and said the first trains "
    "would run next spring. The central bank kept its policy rate unchanged, while lenders "
    "warned that the cost of credit would weigh on the construction firms that won the tenders."
)  # 60 words: a summary as long as ``extract.lead_summary`` makes them


@pytest.mark.parametrize("briefing", ["week-in-review", "daily", "business-tech", "industries"])
def test_a_full_edition_of_the_shipped_catalogue_fits_in_one_email(briefing: str) -> None:
    """Each of the shipped briefings at its ``max_stories``, every story with a full summary,
    a 12-word headline and three outlets: PRO readers get every story in the email. The
    industry weekly's 20 lost four to "more stories in the web edition"."""
    from dataclasses import replace

    from briefings import config
    from briefings.model import Source

    loaded = config.load(Path(__file__).parents[1] / "feeds.toml")
    chosen = loaded.briefing(briefing)
    layout = render.Layout.of(chosen, topic_titles={}, base_url="https://example.org")
    topics = [*chosen.topics, *chosen.pro_sections] or ["turkey"]
    made = edition(chosen.max_stories)
    made = replace(
        made,
        stories=tuple(
            replace(
                story,
                title=f"Rail, pipeline and customs talks resume in Baku as ministers meet {n}",
                summary=SUMMARY,
                topics=(topics[n % len(topics)],),
                sources=tuple(
                    Source(
                        feed=f"Outlet {k}",
                        title=story.title,
                        # as long as a news site's links are: the text email lists them all
                        url=f"https://www.outlet{k}.example/news/2026/11/22/"
                        f"rail-pipeline-and-customs-talks-resume-in-baku-{n}",
                    )
                    for k in range(3)
                ),
            )
            for n, story in enumerate(made.stories)
        ),
    )
    files = render.render(made, env=render.environment(), timezone="UTC", layout=layout).files
    text = files["email.pro.txt"]
    assert "more stories in the web edition" not in text
    assert text.count(SUMMARY[:40]) == chosen.max_stories
    size = render.sent_size(files["email.pro.html"], text)
    # 3 % to spare for longer headlines and names than these (the 20-story industry weekly,
    # with three outlets' links in both parts, takes 95 of the 100 KB)
    assert size <= render.EMAIL_LIMIT * 0.97, f"{briefing}: {size:,} bytes, too close to the limit"


HEBREW = (
    "הכנסת אישרה הלילה את חוק התקציב בקריאה שנייה ושלישית לאחר דיון של ארבע עשרה שעות. "
    "ראש הממשלה אמר כי התקציב יחזק את הכלכלה ויגדיל את ההוצאה על חינוך ובריאות, והאופוזיציה "
    "טענה כי הוא פוגע במעמד הביניים ובערי הפריפריה. שר האוצר הודיע כי הגירעון יירד בשנה "
    "הבאה, ונגיד בנק ישראל הזהיר כי הריבית תישאר גבוהה עד שהאינפלציה תרד. ראשי הערים בצפון "
    "ובדרום דרשו תקציב נוסף לשיקום."
)  # 60 words, as ``extract.lead_summary`` makes them


def test_a_hebrew_edition_fits_in_one_email_as_an_english_one_does() -> None:
    """Quoted-printable takes three bytes for each byte of a Hebrew or Arabic letter: a
    15-story Hebrew daily, well under Gmail's limit as HTML, lost four stories to the web
    edition. A body mostly in such letters goes as base64 (four bytes for three)."""
    from dataclasses import replace

    made = edition(15)
    made = replace(
        made,
        stories=tuple(
            replace(story, title=f"הכנסת אישרה את חוק התקציב לאחר דיון סוער {n}", summary=HEBREW)
            for n, story in enumerate(made.stories)
        ),
    )
    files = render.render(
        made, env=render.environment(), timezone="UTC", layout=LAYOUTS["weekly"]
    ).files
    assert "more stories in the web edition" not in files["email.pro.txt"]
    assert files["email.pro.txt"].count(HEBREW[:40]) == 15
