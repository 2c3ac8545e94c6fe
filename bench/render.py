"""Rendering speed: 12 briefings × 20 stories, in every format and both tiers.

Each briefing renders its web page, email (Jinja2 → MJML → mjml-python → css-inline) and
plain text, free and PRO, plus edition.json: the work one scheduled run does for a full
catalogue.

    .venv/bin/python bench/render.py [--briefings 12] [--stories 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from briefings import render
from briefings.model import Edition, Source, Story, TopicMatch

FORMATS = ("minute", "daily", "weekly", "industry")
TOPICS = ("turkey", "caucasus", "israel", "energy", "business-tech", "security")
NOW = datetime(2026, 11, 22, 9, tzinfo=UTC)


def edition(index: int, stories: int) -> Edition:
    made = []
    for n in range(stories):
        topics = (TOPICS[n % len(TOPICS)], TOPICS[(n + index) % len(TOPICS)])
        sources = tuple(
            Source(feed=f"Outlet {k}", title="t", url=f"https://o{k}.example/{n}")
            for k in range(1 + n % 4)
        )
        made.append(
            Story(
                id=f"{index}-{n}",
                title=f"Story {n} of briefing {index}: talks in Ankara and Baku",
                url=sources[0].url,
                summary="A summary of about forty words. " * 6,
                published=NOW - timedelta(hours=n),
                topics=topics,
                scores=tuple((t, 3.0) for t in topics),
                matches=(TopicMatch(topic=topics[0], term="Ankara", field="title", weight=3.0),),
                sources=sources,
                member_urls=tuple(s.url for s in sources),
                image="https://img.example/lead.jpg" if n == 0 else "",
            )
        )
    return Edition(
        briefing=f"b{index}",
        title=f"Briefing {index}",
        description="Bench.",
        edition="2026-11-22-1200",
        generated_at=NOW,
        stories=tuple(made),
        note="An editor's note." if index % 4 == 2 else "",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--briefings", type=int, default=12)
    parser.add_argument("--stories", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    env = render.environment()
    work = []
    for index in range(args.briefings):
        form = FORMATS[index % len(FORMATS)]
        layout = render.Layout(
            format=form,
            tier="pro" if form == "industry" else "free",
            topics=TOPICS if form != "minute" else (),
            pro_sections=("energy",) if form == "daily" else (),
        )
        work.append((edition(index, args.stories), layout))
    render.render(work[0][0], env=env, timezone="UTC", layout=work[0][1])  # templates compiled
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        files = sum(
            len(render.render(e, env=env, timezone="UTC", layout=layout).files)
            for e, layout in work
        )
        times.append(time.perf_counter() - started)
    best = min(times)
    print(f"{'briefings':>9} {'stories':>8} {'files':>6} {'best (s)':>9} {'per briefing (ms)':>18}")
    print(
        f"{args.briefings:>9} {args.stories:>8} {files:>6} {best:>9.3f} "
        f"{best / args.briefings * 1000:>18.1f}"
    )


if __name__ == "__main__":
    main()
