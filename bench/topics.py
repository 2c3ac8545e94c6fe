"""Topic matching speed: classify N synthetic articles of about 600 words on one core.

The articles are built from the sample corpus's own paragraphs, so they hold real region
names, hard negatives and plain prose. There are two mixes:
- "news": each article is one item's title and summary, its own body, then paragraphs of items
  that share its topics, like a real story about one place;
- "dense": paragraphs drawn from anywhere, so every article names several regions. This is a
  worst case for matching.

    .venv/bin/python bench/topics.py [--articles 10000] [--words 600]
"""

from __future__ import annotations

import argparse
import random
import time

from briefings import corpus, topics


def articles(count: int, words: int, mix: str, seed: int = 7) -> list[tuple[str, str, str]]:
    items = corpus.load_corpus().items
    everywhere = [p for item in items for p in item.paragraphs]
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        item = rng.choice(items)
        if mix == "news":
            body = list(item.paragraphs)
            related = [
                p
                for other in items
                if set(other.topics) & set(item.topics)
                for p in other.paragraphs
            ] or everywhere
        else:
            body, related = [], everywhere
        while sum(len(p.split()) for p in body) < words:
            body.append(rng.choice(related))
        made.append((item.title, item.summary, "\n\n".join(body)))
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--words", type=int, default=600)
    args = parser.parse_args()
    started = time.perf_counter()
    gazetteer = topics.builtin_topics()
    matcher = topics.Matcher(gazetteer)
    load = time.perf_counter() - started
    terms = sum(len(t.terms) + len(t.weak) + len(t.context) for t in gazetteer)
    print(f"gazetteer: {len(gazetteer)} topics, {terms} terms; load and build {load:.3f} s")
    print(
        f"{'mix':<6} {'articles':>9} {'words':>6} {'seconds':>8} {'articles/s':>11} "
        f"{'matches':>8} {'topics':>7}"
    )
    thresholds = matcher.thresholds()
    for mix in ("news", "dense"):
        batch = articles(args.articles, args.words, mix)
        mean_words = sum(len(b.split()) for _, _, b in batch) / len(batch)
        started = time.perf_counter()
        assigned = matched = 0
        for title, summary, body in batch:
            found, _ = matcher.match(title=title, summary=summary, body=body)
            matched += len(found)
            assigned += sum(1 for t, s in topics.scores(found).items() if s >= thresholds[t])
        elapsed = time.perf_counter() - started
        print(
            f"{mix:<6} {len(batch):>9,} {mean_words:>6.0f} {elapsed:>8.2f} "
            f"{len(batch) / elapsed:>11,.0f} {matched / len(batch):>8.1f} "
            f"{assigned / len(batch):>7.2f}"
        )


if __name__ == "__main__":
    main()
