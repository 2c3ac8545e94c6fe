"""Topic matching speed: classify N synthetic articles of about 600 words on one core.

The articles are built from the sample corpus's own paragraphs (so they hold real region names,
hard negatives and boilerplate-free prose), shuffled into ~600-word bodies.

    .venv/bin/python bench/topics.py [--articles 10000] [--words 600]
"""

from __future__ import annotations

import argparse
import random
import time

from briefings import corpus, topics


def articles(count: int, words: int, seed: int = 7) -> list[tuple[str, str, str]]:
    items = corpus.load_corpus().items
    paragraphs = [p for item in items for p in item.paragraphs]
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        item = rng.choice(items)
        body: list[str] = []
        while sum(len(p.split()) for p in body) < words:
            body.append(rng.choice(paragraphs))
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
    batch = articles(args.articles, args.words)
    mean_words = sum(len(b.split()) for _, _, b in batch) / len(batch)
    started = time.perf_counter()
    assigned = 0
    for title, summary, body in batch:
        found, _ = matcher.match(title=title, summary=summary, body=body)
        assigned += sum(1 for s in topics.scores(found).values() if s >= 2.0)
    elapsed = time.perf_counter() - started
    terms = sum(len(t.terms) + len(t.weak) + len(t.context) for t in gazetteer)
    print(f"{'measure':<32} {'value':>12}")
    print(f"{'topics / terms':<32} {len(gazetteer):>5} / {terms:<5}")
    print(f"{'load gazetteer + build (s)':<32} {load:>12.3f}")
    print(f"{'articles':<32} {len(batch):>12,}")
    print(f"{'mean words per article':<32} {mean_words:>12.0f}")
    print(f"{'classify all (s)':<32} {elapsed:>12.2f}")
    print(f"{'articles per second':<32} {len(batch) / elapsed:>12,.0f}")
    print(f"{'topics assigned per article':<32} {assigned / len(batch):>12.2f}")


if __name__ == "__main__":
    main()
