"""The ``briefings`` command: a thin click skin over :mod:`briefings.pipeline`.

Exit status: 0 when the work was done (even if some feeds failed, which are
listed one per line), 1 for a runtime error (store, template), 2 for an
invalid configuration.
"""

# ruff: noqa: E402
from __future__ import annotations

import gc

# The modules a command needs make a few hundred thousand objects, none of them garbage:
# collecting while they are imported only walks them again (a tenth of the imports' time).
# Collection resumes once they are in, with them frozen, so later collections skip them too.
gc.disable()

import atexit
import logging
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, cast
from zoneinfo import ZoneInfo

import click

from . import config as configuration
from . import pipeline
from . import subscribers as subscriber_records
from .errors import BriefingsError, ConfigError
from .model import RunReport
from .store import Store

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

gc.freeze()
gc.enable()

DEMO_MARKER = ".briefings-demo"

# At exit the interpreter's last collections walk every object left, and SQLAlchemy's and
# httpx's modules make hundreds of thousands: 0.07-0.1 s, a tenth of a poll of unchanged
# feeds. Frozen objects are skipped. Nothing then needs collecting: the store is closed and
# output flushed by then, and memory goes back to the system with the process.
atexit.register(gc.freeze)


class _Console:
    """A rich ``Console`` made on first use: rich takes 40 ms to import, and a fetch run
    whose output is piped prints only a line or two, with ``click.echo``."""

    def __init__(self, **options: Any) -> None:
        self.options = options
        self.made: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self.made is None:
            from rich.console import Console

            self.made = Console(**self.options)
        return getattr(self.made, name)


err = cast("Console", _Console(stderr=True, highlight=False))
out = cast("Console", _Console(highlight=False))


class RichProgress:
    """Progress bars on a terminal; nothing at all when output is piped."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def step(self, label: str, total: int) -> Callable[[], None]:
        task = self.progress.add_task(label, total=total)
        return lambda: self.progress.advance(task)


TERMINAL_ENVIRONMENT = ("FORCE_COLOR", "FORCE_TERMINAL", "TTY_COMPATIBLE", "JUPYTER_COLUMNS")
"""What can make rich treat a pipe as a terminal; without any of them, a pipe is not one."""


@contextmanager
def progress_bars() -> Iterator[RichProgress | None]:
    piped = not sys.stderr.isatty() and not any(v in os.environ for v in TERMINAL_ENVIRONMENT)
    if piped or not err.is_terminal:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bars:
        yield RichProgress(bars)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=configuration.DEFAULT_PATH,
    show_default=True,
    help="The configuration file.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log what each step does.")
@click.version_option(package_name="briefings")
@click.pass_context
def main(ctx: click.Context, config_path: Path, verbose: bool) -> None:
    """Themed regional news briefings from RSS and Atom feeds."""
    _logging(verbose=verbose)
    ctx.obj = config_path


def _logging(*, verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if verbose:
        logging.getLogger().setLevel(logging.INFO)
        logging.getLogger("briefings").setLevel(logging.NOTSET)
    else:
        logging.getLogger("briefings").setLevel(logging.ERROR)


def _config_after_name(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.obj = value


def _verbose_after_name(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        _logging(verbose=True)


def _global_options_after_names(group: click.Group) -> None:
    """Let every command also take ``--config`` and ``-v`` after its own name
    (``briefings check --config x.toml``); given there, they win over the group's."""
    for command in group.commands.values():
        if isinstance(command, click.Group):
            _global_options_after_names(command)
            continue
        command.params += [
            click.Option(
                ["--config", "config_path_after"],
                type=click.Path(path_type=Path),
                default=None,
                expose_value=False,
                callback=_config_after_name,
                help="The configuration file (as before the command's name).",
            ),
            click.Option(
                ["-v", "--verbose", "verbose_after"],
                is_flag=True,
                expose_value=False,
                callback=_verbose_after_name,
                help="Log what each step does.",
            ),
        ]


@main.command()
@click.pass_obj
def check(config_path: Path) -> None:
    """Validate the configuration, the gazetteer and the templates."""
    from . import render

    with errors_to_exit():
        config = configuration.load(config_path)
        matcher = pipeline.topic_matcher(config)
        env = render.environment(config.settings.templates)
        for name in render.TEMPLATE_FILES:
            render.load(env, name)
        pipeline.check_templates(config, now=datetime.now(UTC))
    warnings = [*config.warnings(), *pipeline.stray_templates(config), *_failing_feeds(config)]
    for warning in warnings:
        err.print(f"warning: {warning}", markup=False, soft_wrap=True, style="yellow")
    click.echo(
        f"{config_path}: OK: {len(config.feeds)} feeds, {len(config.briefings)} "
        f"briefings, {len(matcher.topics)} topics"
    )


def _failing_feeds(config: configuration.Config) -> list[str]:
    """The configured feeds whose last fetch failed, as the store has it: an operator
    without the desk learns of a feed that stopped working. ``check`` makes no store."""
    database = config.settings.database
    if database.startswith("sqlite:///") and not Path(database[len("sqlite:///") :]).is_file():
        return []
    try:
        with _opened(config) as store:
            errors = store.feed_errors(feed.url for feed in config.feeds)
    except BriefingsError as exc:
        return [f"the store could not be read for failed feeds: {exc}"]
    zone = ZoneInfo(config.settings.timezone)
    return [
        f"feed {feed.url}: its last fetch failed "
        f"({errors[feed.url][1].astimezone(zone):%Y-%m-%d %H:%M} {zone.key}): {errors[feed.url][0]}"
        for feed in config.feeds
        if feed.url in errors
    ]


@main.command()
@click.option("--feeds-only", is_flag=True, help="Fetch the feeds only, not the article pages.")
@click.pass_obj
def fetch(config_path: Path, feeds_only: bool) -> None:
    """Fetch every feed and the pages of teaser entries into the store, and place the new
    articles in their stories (not with --feeds-only: the next build does it then)."""
    with errors_to_exit():
        config = configuration.load(config_path)
        with pipeline.run_lock(config), progress_bars() as bars, _run(config, bars) as run:
            pipeline.fetch_feeds(run)
            if not feeds_only:
                pipeline.fetch_pages(run)
                pipeline.analyse(run)
    _summary(run.report)


@main.command()
@click.option(
    "--vacuum", is_flag=True, help="Then give the room freed back to the disk (SQLite VACUUM)."
)
@click.pass_obj
def prune(config_path: Path, vacuum: bool) -> None:
    """Forget what is older than settings.retention now (run, fetch and schedule do it once
    a day), and with --vacuum shrink the database file."""
    with errors_to_exit():
        config = configuration.load(config_path)
        before = pipeline.kept_since(config, datetime.now(UTC))
        if before is None and not vacuum:
            click.echo("settings.retention is 'forever': nothing is pruned")
            return
        with pipeline.run_lock(config), _run(config, None) as run:
            done = pipeline.prune(run, force=True) or {}
            size = _size(config)
            if vacuum:
                run.store.vacuum()
        if before is not None:
            counts = ", ".join(f"{n:,} {table}" for table, n in done.items() if n) or "nothing"
            click.echo(f"pruned what is older than {before:%Y-%m-%d %H:%M} UTC: {counts}")
        if vacuum and size is not None:
            click.echo(
                f"{config.settings.database.removeprefix('sqlite:///')}: "
                f"{_megabytes(size)} before, {_megabytes(_size(config) or 0)} after"
            )


def _size(config: configuration.Config) -> int | None:
    """The bytes of a SQLite store and its write-ahead log; None for a server database."""
    url = config.settings.database
    if not url.startswith("sqlite:///"):
        return None
    path = Path(url.removeprefix("sqlite:///"))
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB"


@main.command()
@click.argument("briefing_ids", nargs=-1)
@click.pass_obj
def build(config_path: Path, briefing_ids: tuple[str, ...]) -> None:
    """Build one edition of each briefing (or of those named) from the store."""
    _run_step(config_path, briefing_ids, pipeline.build)


@main.command()
@click.option(
    "--once",
    is_flag=True,
    required=True,
    help="Fetch, extract, classify, cluster and build every briefing once, now.",
)
@click.option("--send", "and_send", is_flag=True, help="Then send the editions it built.")
@click.argument("briefing_ids", nargs=-1)
@click.pass_obj
def run(config_path: Path, once: bool, and_send: bool, briefing_ids: tuple[str, ...]) -> None:
    """Run the whole pipeline once."""
    if and_send:
        with errors_to_exit():
            _can_send(configuration.load(config_path))  # before anything is fetched or built
    built = _run_step(config_path, briefing_ids, pipeline.run_once)
    if and_send and built:
        with errors_to_exit():
            config = configuration.load(config_path)
            ready = []
            for item in built:
                if config.briefing(item.edition.briefing).review:
                    click.echo(
                        f"{item.edition.briefing} {item.edition.edition}: a draft; it is sent "
                        "once approved (briefings approve, or the desk)"
                    )
                else:
                    ready.append(item.edition.briefing)
            if ready:
                _send(config, ready)


def _run_step(
    config_path: Path,
    briefing_ids: tuple[str, ...],
    step: Callable[[pipeline.Run, Sequence[str]], list[pipeline.Built]],
) -> list[pipeline.Built]:
    with errors_to_exit():
        config = configuration.load(config_path)
        _known_briefings(config, briefing_ids)
        with pipeline.run_lock(config), progress_bars() as bars, _run(config, bars) as current:
            built = step(current, briefing_ids)
    _summary(current.report)
    return built


@main.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("demo-out"),
    show_default=True,
    help="Folder for the demo's store and editions.",
)
@click.pass_obj
def demo(config_path: Path, out_dir: Path) -> None:
    """Serve the bundled sample corpus on 127.0.0.1 and build every briefing from it.

    The briefings come from the configuration file when it exists (./feeds.toml
    by default), otherwise from the built-in catalogue; the feeds are always the
    sample corpus's.
    """
    from . import corpus

    with errors_to_exit():
        base = configuration.load(config_path) if config_path.exists() else _bundled_catalogue()
        _reset_demo_folder(out_dir)
        with corpus.serve() as site:
            config = site.configure(
                base,
                out_dir.resolve() / "briefings.db",
                out_dir.resolve() / "editions",
                out_dir.resolve() / "private",
            )
            err.print(
                f"Serving {len(site.corpus.items)} sample items from "
                f"{len(config.feeds)} outlets at {site.base_url}"
            )
            with progress_bars() as bars, _run(config, bars) as current:
                built = pipeline.run_once(current)
    _summary(current.report, quiet=True)
    click.echo(
        f"{_count(len(built), 'edition')} built from {current.report.feeds} feeds, "
        f"{current.report.entries_new} entries, {current.report.stories} stories:"
    )
    for item in built:
        click.echo(f"  {item.path / 'index.html'}")
    click.echo(f"PRO renderings and whole editions (never serve these): {config.settings.private}")


@main.group()
def topics() -> None:
    """Inspect and test topic matching."""


@topics.command("list")
@click.pass_obj
def topics_list(config_path: Path) -> None:
    """The topics: id, kind, number of terms and context rules."""
    from rich.table import Table

    with errors_to_exit():
        matcher = pipeline.topic_matcher(_config_or_none(config_path))
    table = Table("id", "kind", "terms", "weak", "rules", "title", box=None)
    for topic in matcher.topics.values():
        table.add_row(
            topic.id,
            topic.kind,
            str(len(topic.terms)),
            str(len(topic.weak)),
            str(len(topic.context)),
            topic.title,
        )
    out.print(table)


@topics.command("explain")
@click.argument("url", required=False)
@click.option("--text", "text", help="Explain this text instead of a page.")
@click.option("--title", default="", help="With --text: the story's title.")
@click.pass_obj
def topics_explain(config_path: Path, url: str | None, text: str | None, title: str) -> None:
    """Why a page or text gets its topics: matches, scores and cancelled matches.

    URL is an http(s) address or a local HTML file.
    """
    from . import topics as topics_module

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

    from . import topics as topics_module

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


@main.group()
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
def stories_test(file: Path, show: int) -> None:
    """Pairwise precision and recall of clustering on labelled items (JSON Lines).

    Each line: {"id", "cluster", "feed", "published", "title", "summary", "body"};
    items with the same "cluster" tell the same story.
    """
    from . import dedupe

    lines = _read_text(file).splitlines()
    articles, labels, problems = dedupe.parse_labelled(lines, str(file))
    for problem in problems:
        err.print(f"error: {problem}", markup=False, style="red", soft_wrap=True)
    groups, _ = pipeline.cluster_articles(articles, pipeline.topic_matcher(None))
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


@main.group()
def subscribers() -> None:
    """Manage who receives which briefings."""


@subscribers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def subscribers_import(config_path: Path, file: Path) -> None:
    """Add or update subscribers from a CSV: email,name,tier,briefings,industries.

    Lists are separated by ';'. Bad rows are reported by line and the rest are
    imported; the exit status is then 1. Importing again changes nothing twice,
    and never resubscribes someone who unsubscribed.
    """
    with errors_to_exit():
        config = configuration.load(config_path)
        try:
            text = subscriber_records.decode_csv(file.read_bytes())
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError([f"{file}: cannot read: {exc}"]) from None
        parsed = subscriber_records.parse_csv(
            text,
            str(file),
            known_briefings={b.id: b.title for b in config.briefings},
            known_industries=_industries(config),
        )
        with _opened(config) as store:
            known = {s.email.lower(): s for s in store.list_subscribers()}
            added, updated = store.save_subscribers(
                parsed.subscribers, now=datetime.now(UTC), given=parsed.given
            )
    unchanged = len(parsed.subscribers) - added - updated
    click.echo(
        f"{added} added, {updated} updated, {unchanged} unchanged, "
        f"{_count(len(parsed.problems), 'row')} refused"
    )
    if parsed.ignored:
        err.print(
            f"note: {file}: columns ignored: {', '.join(parsed.ignored)}",
            markup=False,
            soft_wrap=True,
        )
    where = {key: f"{file}:{line}" for key, line in parsed.lines.items()}
    for note in subscriber_records.kept_out(parsed.subscribers, known, where):
        err.print(f"note: {note}", markup=False, soft_wrap=True)
    for problem in parsed.problems:
        err.print(f"error: {problem}", markup=False, style="red", soft_wrap=True)
    if parsed.problems:
        sys.exit(1)


@subscribers.command("add")
@click.argument("email")
@click.option("--name", default=None, help="The name; kept when updating without it.")
@click.option(
    "--tier",
    type=click.Choice(["free", "pro"]),
    default=None,
    help="free (the default) or pro.",
)
@click.option("--briefing", "briefing_ids", multiple=True, help="A briefing id; repeatable.")
@click.option(
    "--industry", "industries", multiple=True, help="A PRO industry, most wanted first; repeatable."
)
@click.pass_obj
def subscribers_add(
    config_path: Path,
    email: str,
    name: str | None,
    tier: str | None,
    briefing_ids: tuple[str, ...],
    industries: tuple[str, ...],
) -> None:
    """Add a subscriber, or update one with the same address: options left out keep
    what it has."""
    given = {
        field
        for field, value in (
            ("name", name),
            ("tier", tier),
            ("briefings", briefing_ids),
            ("industries", industries),
        )
        if value
    }
    with errors_to_exit():
        config = configuration.load(config_path)
        try:
            made = subscriber_records.subscriber(
                email=email,
                name=name or "",
                tier=tier or "free",
                briefings=briefing_ids,
                industries=industries,
                known_briefings={b.id: b.title for b in config.briefings},
                known_industries=_industries(config),
            )
        except ValueError as exc:
            raise ConfigError([f"subscriber {email!r}: {exc}"]) from None
        with _opened(config) as store:
            known = {s.email.lower(): s for s in store.list_subscribers()}
            added, updated = store.save_subscribers(
                [made], now=datetime.now(UTC), given={made.email.lower(): given}
            )
    click.echo(f"{'added' if added else 'updated' if updated else 'unchanged'} {made.email}")
    for note in subscriber_records.kept_out([made], known, {}):
        err.print(f"note: {note}", markup=False, soft_wrap=True)


@subscribers.command("remove")
@click.argument("email")
@click.pass_obj
def subscribers_remove(config_path: Path, email: str) -> None:
    """Forget a subscriber entirely (to stop mail but keep the record, they unsubscribe)."""
    with errors_to_exit():
        config = configuration.load(config_path)
        with _opened(config) as store:
            gone = store.remove_subscriber(email)
    if not gone:
        err.print(f"error: no subscriber {email!r}", markup=False, style="red", soft_wrap=True)
        sys.exit(1)
    click.echo(f"removed {email}")


@subscribers.command("list")
@click.option("--briefing", "briefing_id", help="Only the subscribers of this briefing.")
@click.option("--status", type=click.Choice(list(subscriber_records.STATUSES)))
@click.pass_obj
def subscribers_list(config_path: Path, briefing_id: str | None, status: str | None) -> None:
    """One line per subscriber: address, tier, status, briefings."""
    with errors_to_exit():
        config = configuration.load(config_path)
        with _opened(config) as store:
            found = store.list_subscribers(briefing=briefing_id, status=status)
    for item in found:
        click.echo(f"{item.email}\t{item.tier}\t{item.status}\t{';'.join(item.briefings)}")
    err.print(f"{len(found)} subscribers", style="dim")


@subscribers.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.pass_obj
def subscribers_export(config_path: Path, file: Path | None) -> None:
    """Every subscriber as CSV, to FILE or standard output; import reads it back."""
    with errors_to_exit():
        config = configuration.load(config_path)
        with _opened(config) as store:
            text = subscriber_records.to_csv(store.list_subscribers())
    if file is None:
        click.echo(text, nl=False)
        return
    try:
        file.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail([f"{file}: cannot write: {exc.strerror}"], 1)


@main.command()
@click.argument("briefing_id")
@click.option("--dry-run", is_flag=True, help="Prepare every message, send none.")
@click.option("--to", "to", help="Send one test message to this address; nothing is recorded.")
@click.option("--resend", is_flag=True, help="Send to everyone again, even those already sent.")
@click.pass_obj
def send(config_path: Path, briefing_id: str, dry_run: bool, to: str | None, resend: bool) -> None:
    """Send the latest edition of a briefing to its subscribers, each exactly once."""
    with errors_to_exit():
        config = configuration.load(config_path)
        _known_briefings(config, (briefing_id,))
        _send(config, [briefing_id], dry_run=dry_run, to=to, resend=resend)


def _send(
    config: configuration.Config,
    briefing_ids: Sequence[str],
    *,
    dry_run: bool = False,
    to: str | None = None,
    resend: bool = False,
    edition_name: str | None = None,
) -> None:
    from . import deliver

    secret = deliver.secret_from_environment()
    if to is not None:
        try:
            to = subscriber_records.normal_address(to)
        except ValueError as exc:
            raise ConfigError([f"--to: {exc}"]) from None
    with pipeline.run_lock(config):
        _send_locked(
            config,
            briefing_ids,
            secret=secret,
            dry_run=dry_run,
            to=to,
            resend=resend,
            edition_name=edition_name,
        )


def _can_send(config: configuration.Config) -> None:
    """Stop, before anything changes, a command that would send but cannot: no secret,
    or no base URL for the links of mail sent through SMTP."""
    from . import deliver

    deliver.secret_from_environment()
    if config.delivery.method == "smtp" and config.unlinked_mail():
        raise ConfigError([config.unlinked_mail()])


def _send_locked(
    config: configuration.Config,
    briefing_ids: Sequence[str],
    *,
    secret: bytes,
    dry_run: bool,
    to: str | None,
    resend: bool,
    edition_name: str | None,
) -> None:
    store = pipeline.open_store(config)
    problems = 0
    try:
        for briefing_id in briefing_ids:
            report = pipeline.send_edition(
                config,
                store,
                briefing_id,
                senders=lambda: pipeline.make_sender(config),
                connections=config.delivery.connections,
                secret=secret,
                now=datetime.now(UTC),
                to=to,
                dry_run=dry_run,
                resend=resend,
                edition_name=edition_name,
            )
            if report.skipped_reason:
                click.echo(f"{briefing_id}: not sent: {report.skipped_reason}")
                continue
            verb = "would send" if dry_run else "sent"
            count = report.prepared if dry_run else report.sent
            click.echo(
                f"{briefing_id} {report.edition}: {verb} {count}, already sent "
                f"{report.already}, failed {len(report.failed)}, in doubt "
                f"{len(report.in_doubt)}"
            )
            for email, error in report.failed:
                err.print(f"  failed {email}: {error}", markup=False, soft_wrap=True)
            for email in report.in_doubt:
                err.print(
                    f"  in doubt {email}: a stopped run was sending it; --resend sends it again",
                    markup=False,
                    soft_wrap=True,
                )
            problems += len(report.failed)
    finally:
        store.close()
    if problems:
        sys.exit(1)


@main.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; another than 127.0.0.1 opens it to the network.",
)
@click.option("--port", default=8080, show_default=True)
@click.pass_obj
def serve(config_path: Path, host: str, port: int) -> None:
    """Answer the emails' unsubscribe (RFC 8058 one-click too), preferences and PRO readers'
    view-in-browser links."""
    from . import deliver, unsubscribe

    with errors_to_exit():
        config = configuration.load(config_path)
        secret = deliver.secret_from_environment()
        store = pipeline.open_store(config)
        matcher = pipeline.topic_matcher(config)
    choices = unsubscribe.Choices(
        briefings=tuple((b.id, b.title, b.tier) for b in config.briefings),
        industries=tuple((t.id, t.title) for t in matcher.topics.values() if t.kind == "industry"),
    )
    try:
        httpd = unsubscribe.server(
            store,
            secret,
            choices=choices,
            private=config.settings.private,
            pages=lambda briefing, edition, reader: pipeline.pro_page(
                config, briefing, edition, reader.industries
            ),
            base_url=config.delivery.base_url,
            host=host,
            port=port,
        )
    except OSError as exc:
        store.close()
        _fail([f"cannot listen on {host}:{port}: {exc.strerror}"], 1)
    err.print(
        "Answering unsubscribe, preferences and PRO view links at "
        f"http://{host}:{httpd.server_address[1]}/"
    )
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
        store.close()


@main.command()
@click.option("--list", "listing", is_flag=True, help="Print each job and its next run, then exit.")
@click.option("--no-send", is_flag=True, help="Build editions but send nothing.")
@click.pass_obj
def schedule(config_path: Path, listing: bool, no_send: bool) -> None:
    """Run every briefing on its schedule until stopped (SIGTERM or Ctrl-C).

    Jobs live in the database: after a restart, an edition missed by at most
    settings.misfire_grace runs once; jobs of briefings no longer in the
    configuration are dropped.
    """
    import signal
    import threading

    from . import schedule as scheduling

    with errors_to_exit():
        config = configuration.load(config_path)
        if not no_send and not listing:
            _can_send(config)
        store = pipeline.open_store(config)
    service = scheduling.Scheduler(config, store, send=not no_send)
    try:
        if listing:
            upcoming = sorted(service.upcoming(scheduling.now()), key=lambda u: u.id)
            width = max(len(u.id) for u in upcoming)
            for job in upcoming:
                click.echo(f"{job.id:<{width}}  {job.describe()}")
            return
        stop = threading.Event()
        signals: list[int] = []

        def on_signal(number: int, _frame: Any) -> None:
            signals.append(number)
            if len(signals) > 1:
                err.print("stopping now; the job in hand is abandoned (the store stays consistent)")
                import os

                os._exit(1)
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        with errors_to_exit():
            changes = service.start()
        err.print(
            f"Scheduling {len(service.specs)} jobs"
            + (f" ({', '.join(changes)})" if changes else "")
            + "; SIGTERM or Ctrl-C stops"
        )
        while not stop.wait(1.0):
            pass
        err.print("stopping: waiting for the job in hand to finish (again to abandon it)")
        service.stop(wait=True)
    finally:
        service.stop(wait=False)
        store.close()


@main.command()
@click.argument("briefing_id")
@click.option("--edition", default=None, help="Edition id; the latest by default.")
@click.option("--no-send", is_flag=True, help="Approve only; briefings schedule sends it.")
@click.pass_obj
def approve(config_path: Path, briefing_id: str, edition: str | None, no_send: bool) -> None:
    """Approve a draft edition: it goes out now, or at the briefing's send_at if later."""
    from . import schedule as scheduling

    with errors_to_exit():
        config = configuration.load(config_path)
        _known_briefings(config, (briefing_id,))
        if not no_send:
            _can_send(config)  # before anything changes
        now = datetime.now(UTC)
        with _opened(config) as store:
            record = scheduling.approve(config, store, briefing_id, edition, now=now)
            if record.send_after is not None and record.send_after > now:
                zone = config.briefing(briefing_id).timezone
                local = record.send_after.astimezone(ZoneInfo(zone))
                click.echo(
                    f"{briefing_id} {record.edition}: approved; it goes out at "
                    f"{local:%Y-%m-%d %H:%M} {zone} (briefings schedule sends it)"
                )
                return
            if no_send:
                click.echo(f"{briefing_id} {record.edition}: approved")
                return
        from . import deliver

        secret = deliver.secret_from_environment()
        # claimed and sent under the run lock, as every sender does: an edition marked
        # sending while no sender holds the lock is one the scheduler finishes as stranded
        with pipeline.run_lock(config):
            with _opened(config) as store:
                claimed = store.move_edition(
                    briefing_id, record.edition, "sending", expected=("approved",), now=now
                )
            if not claimed:
                click.echo(f"{briefing_id} {record.edition}: approved; already being sent")
                return
            click.echo(f"{briefing_id} {record.edition}: approved; sending now")
            try:
                _send_locked(
                    config,
                    [briefing_id],
                    secret=secret,
                    dry_run=False,
                    to=None,
                    resend=False,
                    edition_name=record.edition,
                )
            finally:
                # sending moves it on to sent or failed; still sending means it never started
                with _opened(config) as store:
                    store.move_edition(
                        briefing_id,
                        record.edition,
                        "approved",
                        expected=("sending",),
                        send_after=record.send_after,
                        now=now,
                    )


@main.command()
@click.option(
    "--host",
    default=None,
    help="Address to listen on (default 127.0.0.1, and only this computer is answered); "
    "naming one, e.g. 0.0.0.0, opens the desk to other hosts.",
)
@click.option("--port", default=8000, show_default=True)
@click.pass_obj
def preview(config_path: Path, host: str | None, port: int) -> None:
    """The editors' desk: see every edition as web page, email and text, drop, pin and
    reorder stories, write the note, rebuild, send a test and approve."""
    from . import desk

    with errors_to_exit():
        configuration.load(config_path)
        store = pipeline.open_store(configuration.load(config_path))
    editors = desk.Desk(config_path=config_path, store=store, open_to_network=host is not None)
    try:
        httpd = desk.server(editors, host=host or "127.0.0.1", port=port)
    except OSError as exc:
        store.close()
        _fail([f"cannot listen on {host or '127.0.0.1'}:{port}: {exc.strerror}"], 1)
    shown = host if host and host not in ("0.0.0.0", "::") else "127.0.0.1"
    err.print(f"The desk is at http://{shown}:{editors.port}/?token={editors.token}")
    err.print("Keep the address to yourself: the token in it lets its holder approve editions.")
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
        store.close()


def _read_text(file: Path) -> str:
    """A UTF-8 file's text; an unreadable one ends the command with one line (status 1)."""
    try:
        return file.read_text(encoding="utf-8")
    except OSError as exc:
        _fail([f"{file}: cannot read: {exc.strerror}"], 1)
    except UnicodeDecodeError as exc:
        _fail([f"{file}: not UTF-8 text (byte {exc.start}: {exc.reason})"], 1)


def _industries(config: configuration.Config) -> dict[str, str]:
    matcher = pipeline.topic_matcher(config)
    return {t.id: t.title for t in matcher.topics.values() if t.kind == "industry"}


def _config_or_none(path: Path) -> configuration.Config | None:
    """The configuration when the file exists (for user topics), else None."""
    return configuration.load(path) if path.exists() else None


def _bundled_catalogue() -> configuration.Config:
    from importlib import resources

    text = resources.files("briefings.sample").joinpath("feeds.toml").read_text(encoding="utf-8")
    import tomllib

    return configuration.parse(tomllib.loads(text), Path("feeds.toml"))


def _reset_demo_folder(out_dir: Path) -> None:
    if out_dir.exists():
        if not (out_dir / DEMO_MARKER).exists() and any(out_dir.iterdir()):
            raise ConfigError([f"{out_dir}: exists and is not a demo folder; choose another --out"])
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    (out_dir / DEMO_MARKER).write_text("Made by `briefings demo`; safe to delete.\n")


@contextmanager
def _opened(config: configuration.Config) -> Iterator[Store]:
    store = pipeline.open_store(config)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def _run(config: configuration.Config, bars: RichProgress | None) -> Iterator[pipeline.Run]:
    with _opened(config) as store:
        yield pipeline.Run(config=config, store=store, progress=bars)


def _known_briefings(config: configuration.Config, wanted: Sequence[str]) -> None:
    known = {b.id for b in config.briefings}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise ConfigError(
            [
                f"{config.path.name}: briefings.{u}: no such briefing "
                f"(known: {', '.join(sorted(known))})"
                for u in unknown
            ]
        )


def _count(number: int, noun: str) -> str:
    """``1 edition``, ``2 editions``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _summary(report: RunReport, *, quiet: bool = False) -> None:
    if not quiet:
        parts = [
            f"{report.feeds} feeds" if report.feeds else "",
            f"{report.entries_new} new entries" if report.feeds else "",
            _count(len(report.editions), "edition") if report.editions or report.stories else "",
        ]
        line = ", ".join(p for p in parts if p)
        if line:
            click.echo(line)
        for path in report.editions:
            click.echo(f"  {path}")
    if report.without_news:
        click.echo(f"No new stories, so no edition: {', '.join(report.without_news)}")
    if report.failures:
        err.print(f"{len(report.failures)} problems:", style="yellow")
        for failure in report.failures:
            err.print(
                f"  {failure.stage} {failure.url}: {failure.message}", markup=False, soft_wrap=True
            )


@contextmanager
def errors_to_exit() -> Iterator[None]:
    try:
        yield
    except ConfigError as exc:
        _fail(exc.problems, 2)
    except BriefingsError as exc:
        _fail([str(exc)], 1)


def _fail(lines: Sequence[Any], status: int) -> NoReturn:
    for line in lines:
        err.print(f"error: {line}", markup=False, soft_wrap=True, style="red")
    sys.exit(status)


_global_options_after_names(main)

if __name__ == "__main__":
    main()
