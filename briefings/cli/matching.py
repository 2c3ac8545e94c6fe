"""``briefings topics`` and ``briefings stories``: topic matching and story clustering,
explained and measured on labelled examples.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import pipeline
from .console import err, errors_to_exit, out
from .group import _config_or_none, _read_text


@click.group()
def topics() -> None:
    """Inspect and test topic matching."""


@topics.command("list")
@click.pass_obj
def topics_list(config_path: Path) -> None:
    """List the topics, built-in and the configuration's own.

    One line per topic: id, kind, number of terms, of weak terms and of context
    rules, and title.
    """
    with errors_to_exit():
        matcher = pipeline.topic_matcher(_config_or_none(config_path))
    rows = [("id", "kind", "terms", "weak", "rules", "title")]
    rows += [
        (t.id, t.kind, str(len(t.terms)), str(len(t.weak)), str(len(t.context)), t.title)
        for t in matcher.topics.values()
    ]
    # aligned by hand, not a rich table: a table wraps a long title onto a line of its own
    widths = [max(len(row[n]) for row in rows) for n in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)]
        click.echo("  ".join([*cells, row[-1]]))


@topics.command("explain")
@click.argument("url", required=False)
@click.option("--text", "text", help="Explain this text instead of a page.")
@click.option("--title", default="", help="With --text: the story's title.")
@click.pass_obj
def topics_explain(config_path: Path, url: str | None, text: str | None, title: str) -> None:
    """Why a page or a text gets its topics.

    Each topic's score against its threshold, every match with its weight, and every
    cancelled match with the rule that cancelled it.

    URL is an http(s) address or a local HTML file.
    """
    from .. import topics as topics_module

    if url is None and text is None:
        raise click.UsageError("give a URL or --text to explain")
    if url is not None and text is not None:
        raise click.UsageError("give a URL or --text, not both")
    with errors_to_exit():
        config = _config_or_none(config_path)
        matcher = pipeline.topic_matcher(config)
        if url is not None:
            title, summary, body = pipeline.page_text(url, config)
        else:
            summary, body = "", text or ""
        matches, cancelled = matcher.match(title=title, summary=summary, body=body)
    thresholds = matcher.thresholds()
    out.print(f"title: {title or '(none)'}", markup=False, soft_wrap=True)
    totals = topics_module.scores(matches)
    given = matcher.assigned(matches)
    for topic, score in sorted(totals.items(), key=lambda kv: -kv[1]):
        threshold = thresholds.get(topic, topics_module.DEFAULT_MIN_SCORE)
        verdict = (
            ("assigned" if score >= threshold else "assigned: a term in the title")
            if topic in given
            else "below threshold"
        )
        out.print(f"\n{topic}: score {score:g} ({verdict}, threshold {threshold:g})", markup=False)
        for match in (m for m in matches if m.topic == topic):
            out.print(
                f"  {match.term!r} in {match.field}: +{match.weight:g}",
                markup=False,
                soft_wrap=True,
            )
    if not totals:
        out.print("\nno topic matched")
    if cancelled:
        out.print("\ncancelled:")
        for item in cancelled:
            out.print(
                f"  {item.topic}: {item.term!r} in {item.field}: {item.reason}",
                markup=False,
                soft_wrap=True,
            )


@topics.command("test")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--min-score",
    type=float,
    default=None,
    help="One threshold for every topic instead of each topic's own.",
)
@click.option(
    "--all",
    "every_topic",
    is_flag=True,
    help="Measure every topic, also those the file never labels.",
)
@click.option(
    "--misses",
    "show_misses",
    type=int,
    default=50,
    show_default=True,
    help="How many misclassified examples to list.",
)
@click.pass_obj
def topics_test(
    config_path: Path, file: Path, min_score: float | None, every_topic: bool, show_misses: int
) -> None:
    """Precision and recall per topic on labelled examples (JSON Lines).

    Only the topics the file labels somewhere are measured, unless --all is given.

    Each line: {"id", "title", "summary", "body", "topics": [...]}.
    """
    from rich.table import Table

    from .. import topics as topics_module

    with errors_to_exit():
        config = _config_or_none(config_path)
    lines = _read_text(file).splitlines()
    examples, problems = topics_module.parse_examples(lines, str(file))
    for problem in problems:
        err.print(f"error: {problem}", markup=False, style="red", soft_wrap=True)
    labelled: set[str] = set().union(*(e.topics for e in examples))
    matcher = pipeline.topic_matcher(config, only=None if every_topic else labelled)
    result = topics_module.evaluate(examples, matcher, min_score)
    table = Table("topic", "tp", "fp", "fn", "precision", "recall", box=None)
    for topic, (tp, fp, fn) in result.counts.items():
        table.add_row(
            topic,
            str(tp),
            str(fp),
            str(fn),
            f"{result.precision(topic):.3f}",
            f"{result.recall(topic):.3f}",
        )
    out.print(f"{len(examples)} examples, {len(result.misses)} misclassified")
    out.print(table)
    for miss in result.misses[:show_misses]:
        labels = ", ".join(sorted(miss.example.topics)) or "-"
        found = ", ".join(sorted(miss.found)) or "-"
        scored = ", ".join(
            f"{t} {s:g}" for t, s in sorted(miss.scores.items(), key=lambda x: -x[1])
        )
        out.print(
            f"{miss.example.id}: expected [{labels}] found [{found}] scores: {scored or '-'}"
            f" | {miss.example.title}",
            markup=False,
            soft_wrap=True,
        )
    if problems:
        sys.exit(1)


@click.group()
def stories() -> None:
    """Inspect and test how articles are grouped into stories."""


@stories.command("test")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--show",
    type=int,
    default=20,
    show_default=True,
    help="How many wrong merges and splits to list.",
)
@click.pass_obj
def stories_test(config_path: Path, file: Path, show: int) -> None:
    """Pairwise precision and recall of story clustering.

    The items are labelled, in JSON Lines.

    Each line: {"id", "cluster", "feed", "published", "title", "summary", "body"};
    items with the same "cluster" tell the same story.
    """
    from .. import dedupe

    with errors_to_exit():
        config = _config_or_none(config_path)
    lines = _read_text(file).splitlines()
    articles, labels, problems = dedupe.parse_labelled(lines, str(file))
    for problem in problems:
        err.print(f"error: {problem}", markup=False, style="red", soft_wrap=True)
    groups, _ = pipeline.cluster_articles(articles, pipeline.topic_matcher(config))
    result = dedupe.score_pairs(groups, labels)
    out.print(
        f"{len(articles)} items, {len(set(labels.values()))} labelled clusters, {len(groups)} found"
    )
    out.print(
        f"pairs: {result.true_pairs} right, {result.false_pairs} wrongly merged, "
        f"{result.missed_pairs} missed; precision {result.precision:.3f}, "
        f"recall {result.recall:.3f}"
    )
    for title, groups_shown in (("wrong merges", result.wrong_merges), ("splits", result.splits)):
        if groups_shown:
            out.print(f"\n{title} ({len(groups_shown)}):")
        for group in groups_shown[:show]:
            out.print(
                "  " + " | ".join(f"{labels[a.id]}/{a.id} {a.title[:50]}" for a in group),
                markup=False,
                soft_wrap=True,
            )
    if problems:
        sys.exit(1)
