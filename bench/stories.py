"""Clustering speed and memory: 10,000 and 100,000 synthetic articles over one week.

Articles are made of words drawn from the sample corpus with a Zipf-like skew. A tenth are
syndicated copies of an earlier article with light edits. A fifth retell an earlier article's
event with half of its words and its rare names, from another outlet within 36 hours. The
rest stand alone. Each size runs in a fresh process, so its peak memory is its own.

    .venv/bin/python bench/stories.py [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from briefings import corpus, dedupe
from briefings.model import Article
from briefings.text import fold_words

START = datetime(2026, 11, 15, tzinfo=UTC)


def synthetic(count: int, seed: int = 11) -> list[Article]:
    rng = random.Random(seed)
    words = [w for item in corpus.load_corpus().items for w in fold_words(item.body)]
    vocabulary = sorted(set(words), key=words.count, reverse=True)
    weights = [1 / (rank + 10) for rank in range(len(vocabulary))]
    articles: list[Article] = []
    for n in range(count):
        roll = rng.random()
        if articles and roll < 0.1:  # a copy
            original = rng.choice(articles[-2000:])
            text = original.text.split()
            for _ in range(6):
                text[rng.randrange(len(text))] = rng.choice(vocabulary)
            title, body = original.title, " ".join(text)
            when = original.published + timedelta(hours=rng.uniform(0.5, 6))
        elif articles and roll < 0.3:  # the same event in other words
            original = rng.choice(articles[-2000:])
            kept = original.text.split()[:100]
            rng.shuffle(kept)
            fresh = rng.choices(vocabulary, weights, k=100)
            title = " ".join(original.title.split()[:3] + rng.choices(vocabulary, weights, k=4))
            body = " ".join(kept + fresh)
            when = original.published + timedelta(hours=rng.uniform(0.5, 30))
        else:
            names = [f"name{rng.randrange(count * 3)}" for _ in range(3)]
            title = " ".join(names[:2] + rng.choices(vocabulary, weights, k=6))
            body = " ".join(names + rng.choices(vocabulary, weights, k=200))
            when = START + timedelta(seconds=rng.uniform(0, 7 * 86400))
        url = f"https://outlet{n % 500}.example/{n}"
        articles.append(
            Article(
                id=str(n),
                feed_id=f"outlet{n % 500}",
                url=url,
                canonical_url=url,
                title=title,
                summary="",
                text=body,
                author="",
                published=when,
                text_source="feed",
            )
        )
    return articles


def measure(count: int) -> dict[str, float]:
    articles = synthetic(count)
    started = time.perf_counter()
    groups = dedupe.cluster(articles)
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "articles": count,
        "seconds": seconds,
        "peak_mb": peak_kb / 1024,
        "stories": len(groups),
        "largest": max(len(g) for g in groups),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one)))
        return
    rows = []
    for size in args.sizes:
        done = subprocess.run(
            [sys.executable, __file__, "--one", str(size)],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(done.stdout))
    print(
        f"{'articles':>9} {'seconds':>8} {'per 1k':>7} {'peak MB':>8} {'stories':>8} {'largest':>8}"
    )
    for row in rows:
        print(
            f"{row['articles']:>9,} {row['seconds']:>8.1f} "
            f"{row['seconds'] / row['articles'] * 1000:>7.2f} {row['peak_mb']:>8.0f} "
            f"{row['stories']:>8,} {row['largest']:>8}"
        )
    if len(rows) > 1:
        growth = rows[-1]["seconds"] / rows[0]["seconds"]
        scale = rows[-1]["articles"] / rows[0]["articles"]
        print(f"time grows {growth:.1f}x for {scale:.0f}x the articles")


if __name__ == "__main__":
    main()
