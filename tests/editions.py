"""A fixed edition of every format, for golden files, browser checks and size tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from briefings.config import Theme
from briefings.model import Earlier, Edition, Source, Story, TopicMatch
from briefings.render import Layout

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
TITLES = {
    "turkey": "Turkey",
    "caucasus": "Caucasus",
    "israel": "Israel",
    "energy": "Energy",
    "business-tech": "Business and Technology",
    "oil-gas": "Oil & Gas",
    "banking": "Banking",
}
STORIES = [
    (
        "Erdoğan and Aliyev press for faster work on the Kars–Nakhchivan railway",
        ("turkey", "caucasus"),
        4,
    ),
    ("Knesset passes the budget after an all-night session", ("israel",), 3),
    (
        "Central bank trims its policy rate by 150 basis points",
        ("turkey", "business-tech", "banking"),
        3,
    ),
    ("Georgian lawmakers approve media rules criticised by the opposition", ("caucasus",), 2),
    ("QatarEnergy signs a 20-year LNG deal with an Asian utility", ("energy", "oil-gas"), 2),
    ("הכנסת אישרה את התקציב לאחר דיון ארוך", ("israel",), 1),
    ("Akkuyu nuclear plant begins test supply to the grid", ("turkey", "energy"), 1),
    ("Armenia and Azerbaijan sign a second border protocol", ("caucasus",), 2),
    ("Gulf lenders post record quarterly profits", ("business-tech", "banking"), 1),
]


def story(
    n: int, title: str, topics: tuple[str, ...], outlets: int, *, long: bool = False
) -> Story:
    sources = tuple(
        Source(feed=f"Outlet {chr(65 + k)}", title=title, url=f"https://outlet{k}.example/{n}")
        for k in range(outlets)
    )
    summary = (
        f"The first sentence of story {n} says what happened. The second adds who said "
        "what, and where the talks go next."
    )
    if long:
        summary = " ".join([summary] * 12)
    return Story(
        id=f"story{n}",
        title=title,
        url=sources[0].url,
        summary=summary,
        published=NOW - timedelta(hours=n),
        topics=topics,
        scores=tuple((t, 3.0) for t in topics),
        matches=tuple(
            TopicMatch(topic=t, term=t.title(), field="title", weight=3.0) for t in topics
        ),
        sources=sources,
        member_urls=tuple(s.url for s in sources),
        image="lead.png" if n == 0 else "",
        update=n in (3, 7),
        partial=n == 7,
        earlier=EARLIER if n == 7 else None,
    )


EARLIER = Earlier(
    title="Armenia and Azerbaijan to sign a border protocol in Gyumri",
    url="https://outlet0.example/earlier",
    edition="2026-11-21-0700",
    sent_at=datetime(2026, 11, 21, 4, 0, tzinfo=UTC),
    why="both name Gyumri; headline and lead alike (0.41); 28 hours later",
)


def edition(count: int = len(STORIES), *, long: bool = False, note: str = "") -> Edition:
    stories = tuple(story(n, *STORIES[n % len(STORIES)], long=long) for n in range(count))
    return Edition(
        briefing="sample",
        title="Sample Briefing",
        description="A fixed edition for tests.",
        edition="2026-11-22-1200",
        generated_at=NOW,
        stories=stories,
        note=note,
    )


LAYOUTS = {
    "daily": Layout(
        format="daily",
        topics=("turkey", "caucasus", "israel", "energy"),
        pro_sections=("energy",),
        topic_titles=TITLES,
        upgrade_url="https://briefings.example.org/subscribe",
    ),
    "minute": Layout(
        format="minute",
        topic_titles=TITLES,
        theme=Theme(masthead="#0b3d3a", accent="#167a6e", logo="Morning Minute"),
    ),
    "weekly": Layout(format="weekly", topic_titles=TITLES),
    "industry": Layout(
        format="industry",
        tier="pro",
        topics=("oil-gas", "banking"),
        topic_titles=TITLES,
        theme=Theme(masthead="#3b0a45", accent="#a4337a", logo="PRO Industries"),
        upgrade_url="https://briefings.example.org/subscribe?plan=industries",
    ),
}
NOTE = (
    "Two threads ran through the week: the rail link across the South Caucasus, and "
    "money.\n\nBoth will be back next week."
)
