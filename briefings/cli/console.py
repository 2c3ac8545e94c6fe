"""What the commands print, and how they end: the rich consoles (made on first use), progress
bars on a terminal, a run's summary, and errors mapped to exit codes (2 for the
configuration, 1 otherwise).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn, cast

import click

from ..errors import BriefingsError, ConfigError, shown_url
from ..model import RunReport

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress


class _Console:
    """A rich ``Console`` made on first use: rich takes 40 ms to import, and a fetch run
    whose output is piped prints only a line or two, with ``click.echo``."""

    def __init__(self, **options: Any) -> None:
        self.options = options
        self.made: Console | None = None

    def console(self) -> Console:
        """The rich ``Console`` itself, made now if it is not yet: what rich's own classes
        need (its ``Live`` enters it as a context manager, which this stand-in is not)."""
        if self.made is None:
            from rich.console import Console

            self.made = Console(**self.options)
        return self.made

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console(), name)


err = cast("Console", _Console(stderr=True, highlight=False, soft_wrap=True))
out = cast("Console", _Console(highlight=False, soft_wrap=True))


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
    console = cast(_Console, err).console()
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with (
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bars,
        _log_above_the_bars(),
    ):
        yield RichProgress(bars)


@contextmanager
def _log_above_the_bars() -> Iterator[None]:
    """Send the log's lines to stderr as rich's bars have it (a proxy that prints each line
    above them) until the bars end: written to the terminal itself, a line went under the
    bars, which then erased it and left a stale copy of themselves above."""
    proxy = sys.stderr
    terminal = getattr(proxy, "rich_proxied_file", None)
    handlers = [
        handler
        for handler in logging.getLogger().handlers
        if isinstance(handler, logging.StreamHandler) and handler.stream is terminal
    ]
    for handler in handlers:
        handler.setStream(proxy)
    try:
        yield
    finally:
        for handler in handlers:
            handler.setStream(terminal)


def _count(number: int, noun: str, nouns: str = "") -> str:
    """``1 edition``, ``2 editions``; ``nouns`` when the plural is not ``noun`` + s."""
    return f"{number} {noun if number == 1 else nouns or noun + 's'}"


def _summary(report: RunReport, *, quiet: bool = False) -> None:
    if not quiet:
        parts = [
            _count(report.feeds, "feed") if report.feeds else "",
            _count(report.entries_new, "new entry", "new entries") if report.feeds else "",
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
        err.print(f"{_count(len(report.failures), 'problem')}:", style="yellow")
        for failure in report.failures:
            line = f"  {failure.stage} {shown_url(failure.url)}: {failure.message}"
            err.print(line, markup=False, soft_wrap=True)


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
