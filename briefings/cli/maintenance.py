"""``briefings check`` (the configuration, gazetteer, templates and failing feeds) and
``briefings prune`` (forgetting what settings.retention no longer keeps).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from .. import config as configuration
from .. import pipeline
from ..errors import BriefingsError, shown_url
from .console import _count, err, errors_to_exit
from .group import _opened, _run


@click.command()
@click.pass_obj
def check(config_path: Path) -> None:
    """Validate the configuration, the gazetteer and the templates."""
    from .. import render

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
        f"{config_path}: OK: {_count(len(config.feeds), 'feed')}, "
        f"{_count(len(config.briefings), 'briefing')}, {_count(len(matcher.topics), 'topic')}"
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

    def when(moment: datetime) -> str:
        return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}"

    warnings = []
    for feed in config.feeds:
        if (trouble := errors.get(feed.url)) is None:
            continue
        since, last = when(trouble.since), when(trouble.checked_at)
        if since != last:
            failed = f"failing since {since}, last tried {last}"
        else:
            failed = f"its last fetch failed ({last})"
        warnings.append(f"feed {shown_url(feed.url)}: {failed}: {trouble.error}")
    return warnings


@click.command()
@click.option(
    "--vacuum", is_flag=True, help="Then give the room freed back to the disk (SQLite VACUUM)."
)
@click.pass_obj
def prune(config_path: Path, vacuum: bool) -> None:
    """Forget what is older than settings.retention.

    run, fetch and schedule do it once a day; this does it now, and with --vacuum
    shrinks the database file.
    """
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
