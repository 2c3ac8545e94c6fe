"""The made-up edition of a briefing that ``check`` and the template previews render:
:func:`specimen`, which reaches every part of the templates."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..config import Briefing
from ..model import Earlier, Edition, Source, Story, TopicMatch


def specimen(briefing: Briefing, *, now: datetime) -> Edition:
    """A made-up edition of ``briefing`` that reaches every part of its templates: enough
    stories for headlines, a lead with its image, a weekly's top four and sections of each
    of its topics; other outlets, an update with the story an earlier edition sent, a
    feed-text-only story, a right-to-left headline, a story of no topic of the briefing,
    and a note. ``check`` renders it."""
    topics = [*briefing.topics, *briefing.pro_sections] or ["specimen"]
    stories = []
    for n in range(10):
        outlets = 1 + n % 3
        title = "כותרת לדוגמה" if n == 3 else f"Specimen story {n + 1}"
        sources = tuple(
            Source(feed=f"Outlet {k + 1}", title=title, url=f"https://example.org/{n}/{k}")
            for k in range(outlets)
        )
        topic = topics[n % len(topics)] if n < 9 else "specimen-other"
        stories.append(
            Story(
                id=f"specimen-{n}",
                title=title,
                url=sources[0].url,
                summary=f"What happened in story {n + 1}. Who said what, and what comes next.",
                published=now - timedelta(hours=n),
                topics=(topic,),
                scores=((topic, 3.0),),
                matches=(TopicMatch(topic=topic, term="Specimen", field="title", weight=3.0),),
                sources=sources,
                member_urls=tuple(source.url for source in sources),
                image="https://example.org/lead.jpg" if n == 0 else "",
                partial=n == 2,
                update=n == 1,
                earlier=None
                if n != 1
                else Earlier(
                    title="The specimen story an earlier edition sent",
                    url="https://example.org/earlier",
                    edition=f"{now - timedelta(days=1):%Y-%m-%d-%H%M}",
                    sent_at=now - timedelta(days=1),
                    why="both name Specimen; headline and lead alike (0.50); 24 hours later",
                ),
            )
        )
    return Edition(
        briefing=briefing.id,
        title=briefing.title,
        description=briefing.description,
        edition=f"{now:%Y-%m-%d-%H%M}",
        generated_at=now,
        stories=tuple(stories),
        note="The editor's first paragraph.\n\nAnd a second one.",
    )
