"""``briefings subscribers``: import, add, remove, list and export who receives which
briefings.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import click

from .. import config as configuration
from .. import subscribers as subscriber_records
from ..errors import ConfigError
from .console import _count, _fail, err, errors_to_exit
from .group import _industries, _known_briefings, _opened


@click.group()
def subscribers() -> None:
    """Manage who receives which briefings."""


@subscribers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def subscribers_import(config_path: Path, file: Path) -> None:
    """Add or update subscribers from a CSV file.

    Its columns: email,name,tier,briefings,industries (and status,unsubscribed, as
    export writes them).
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
@click.option(
    "--briefing",
    "briefing_ids",
    multiple=True,
    help="A briefing (id or title) to add the subscriber to; repeatable.",
)
@click.option(
    "--industry",
    "industries",
    multiple=True,
    help="A PRO industry to add, most wanted first; repeatable.",
)
@click.option(
    "--replace",
    is_flag=True,
    help="The --briefing and --industry given replace the subscriber's, not add to them.",
)
@click.pass_obj
def subscribers_add(
    config_path: Path,
    email: str,
    name: str | None,
    tier: str | None,
    briefing_ids: tuple[str, ...],
    industries: tuple[str, ...],
    replace: bool,
) -> None:
    """Add a subscriber, or update one with the same address.

    EMAIL may be written as address books copy it, "Dana Levi <dana@example.org>";
    its name is taken when --name is not given.

    --briefing and --industry add to what a known subscriber has (or, with --replace,
    replace it); the options left out keep what it has.
    """
    if replace and not (briefing_ids or industries):
        raise click.UsageError("--replace needs --briefing or --industry")
    shown_name, email = subscriber_records.split_address(email)  # as address books copy it
    name = name or shown_name or None
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
            if not replace:
                made = subscriber_records.added_to(known.get(made.email.lower()), made)
            added, updated = store.save_subscribers(
                [made], now=datetime.now(UTC), given={made.email.lower(): given}
            )
    click.echo(f"{'added' if added else 'updated' if updated else 'unchanged'} {made.email}")
    for note in subscriber_records.kept_out([made], known, {}):
        err.print(f"note: {note}", markup=False, soft_wrap=True)


@subscribers.command("remove")
@click.argument("email")
@click.option(
    "--briefing",
    "briefing_ids",
    multiple=True,
    help="Take the subscriber off this briefing only (id or title); repeatable.",
)
@click.option(
    "--industry",
    "industries",
    multiple=True,
    help="Take this PRO industry off the subscriber (id or title); repeatable.",
)
@click.pass_obj
def subscribers_remove(
    config_path: Path, email: str, briefing_ids: tuple[str, ...], industries: tuple[str, ...]
) -> None:
    """Forget a subscriber, or take a briefing off them.

    With --briefing or --industry, only those are taken off the subscriber; without,
    the subscriber is forgotten entirely, leaving no record (to stop their mail but
    keep it, they unsubscribe instead). A briefing taken off is not one they
    unsubscribed from: an import or add may put it back.
    """
    _, email = subscriber_records.split_address(email)
    if briefing_ids or industries:
        _take_off(config_path, email, briefing_ids, industries)
        return
    with errors_to_exit():
        config = configuration.load(config_path)
        with _opened(config) as store:
            gone = store.remove_subscriber(email)
    if not gone:
        _no_subscriber(email)
    click.echo(f"removed {email}")


def _take_off(
    config_path: Path, email: str, briefing_ids: tuple[str, ...], industries: tuple[str, ...]
) -> None:
    with errors_to_exit():
        config = configuration.load(config_path)
        with _opened(config) as store:
            before = store.subscriber(email)
            if before is None:
                _no_subscriber(email)
            titles = {b.id: b.title for b in config.briefings}
            try:
                off = subscriber_records.resolve(
                    briefing_ids, {b: b for b in before.briefings} | titles, "briefing"
                )
                dropped = subscriber_records.resolve(
                    industries,
                    {i: i for i in before.industries} | _industries(config),
                    "industry",
                )
            except ValueError as exc:
                raise ConfigError([f"subscriber {email!r}: {exc}"]) from None
            after = subscriber_records.taken_off(before, briefings=off, industries=dropped)
            fields = {"briefings"} if off else set()
            fields |= {"industries"} if dropped else set()
            _, updated = store.save_subscribers(
                [after], now=datetime.now(UTC), given={after.email.lower(): fields}
            )
    click.echo(f"{'updated' if updated else 'unchanged'} {after.email}")
    if absent := [b for b in off if b not in before.briefings]:
        err.print(f"note: {after.email} does not receive {', '.join(absent)}", markup=False)
    if absent := [i for i in dropped if i not in before.industries]:
        err.print(f"note: {after.email} has no industry {', '.join(absent)}", markup=False)


def _no_subscriber(email: str) -> NoReturn:
    _fail([f"no subscriber {email!r}"], 1)


@subscribers.command("list")
@click.option("--briefing", "briefing_id", help="Only the subscribers of this briefing.")
@click.option(
    "--status",
    type=click.Choice(list(subscriber_records.STATUSES)),
    help="Only the subscribers with this status.",
)
@click.pass_obj
def subscribers_list(config_path: Path, briefing_id: str | None, status: str | None) -> None:
    """One line per subscriber: address, tier, status, briefings."""
    with errors_to_exit():
        config = configuration.load(config_path)
        with _opened(config) as store:
            found = store.list_subscribers(briefing=briefing_id, status=status)
            if briefing_id and not found and not store.list_subscribers(briefing=briefing_id):
                _known_briefings(config, [briefing_id])  # a typo, not a briefing nobody reads
    for item in found:
        click.echo(f"{item.email}\t{item.tier}\t{item.status}\t{';'.join(item.briefings)}")
    err.print(_count(len(found), "subscriber"), style="dim")


@subscribers.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.pass_obj
def subscribers_export(config_path: Path, file: Path | None) -> None:
    """Write every subscriber as CSV, to FILE or standard output.

    import reads it back, status and unsubscribed briefings included.
    """
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
