"""The pipeline's commands: ``fetch``, ``build``, ``run`` and ``demo`` (the bundled sample
corpus served on 127.0.0.1).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import click

from .. import config as configuration
from .. import pipeline
from ..errors import ConfigError
from .console import _count, _summary, err, errors_to_exit, progress_bars
from .group import _config_or_none, _known_briefings, _run
from .sending import _can_send, _send

DEMO_MARKER = ".briefings-demo"


@click.command()
@click.option("--feeds-only", is_flag=True, help="Fetch the feeds only, not the article pages.")
@click.pass_obj
def fetch(config_path: Path, feeds_only: bool) -> None:
    """Fetch the feeds and article pages into the store.

    The pages of teaser entries are fetched too, and the new articles placed in their
    stories (not with --feeds-only: the next build does it then).
    """
    with errors_to_exit():
        config = configuration.load(config_path)
        with pipeline.run_lock(config), progress_bars() as bars, _run(config, bars) as run:
            pipeline.fetch_feeds(run)
            if not feeds_only:
                pipeline.fetch_pages(run)
                pipeline.analyse(run)
    _summary(run.report)


@click.command()
@click.argument("briefing_ids", nargs=-1)
@click.pass_obj
def build(config_path: Path, briefing_ids: tuple[str, ...]) -> None:
    """Build an edition of every briefing, or of those named.

    The stories come from the store, as fetch left it; nothing is fetched.
    """
    _run_step(config_path, briefing_ids, pipeline.build)


@click.command()
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


@click.command()
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
    """Build every briefing from the bundled sample corpus.

    The corpus is served on 127.0.0.1; nothing leaves the machine. The briefings come
    from the configuration file (./feeds.toml by default), or from the built-in
    catalogue when there is no ./feeds.toml; the feeds are always the sample corpus's.
    """
    from .. import corpus

    with errors_to_exit():
        base = _config_or_none(config_path) or _bundled_catalogue()
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
        f"{_count(len(built), 'edition')} built from {_count(current.report.feeds, 'feed')}, "
        f"{_count(current.report.entries_new, 'entry', 'entries')}, "
        f"{_count(current.report.stories, 'story', 'stories')}:"
    )
    for item in built:
        click.echo(f"  {item.path / 'index.html'}")
    click.echo(f"PRO renderings and whole editions (never serve these): {config.settings.private}")


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
