"""The ``briefings`` click group, its global options (``--config`` and ``-v``, also after a
command's name) and logging, and what commands share: the configuration, the store and a
run opened for them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from .. import config as configuration
from .. import pipeline
from ..errors import ConfigError
from ..store import Store
from .console import RichProgress, _fail

INTERRUPTED = 130
"""The exit status of a command stopped by Ctrl-C: 128 + SIGINT, as shells report it."""


class _Briefings(click.Group):
    """The group, ending a command stopped by Ctrl-C with one line and status 130 (click
    says "Aborted!" and exits 1, the status of a runtime error)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("\ninterrupted", err=True)  # the newline ends the terminal's ^C
            raise click.exceptions.Exit(INTERRUPTED) from None


@click.group(cls=_Briefings, context_settings={"help_option_names": ["-h", "--help"]})
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
    """The configuration (for user topics); None when it is the default ./feeds.toml and
    that does not exist. Any other path must exist: a mistyped --config is an error, not
    the built-in topics alone."""
    if path == configuration.DEFAULT_PATH and not path.exists():
        return None
    return configuration.load(path)


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
