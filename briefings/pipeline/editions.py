"""An edition's files: rendering them, the public and private folders they are written to
whole or not at all, the archive, and reading an edition back."""

from __future__ import annotations

import contextlib
import errno
import json
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from ..config import Briefing, Config
from ..errors import BriefingsError, OutputError
from ..model import (
    Edition,
)
from .stages import (
    composing,
    log,
    render,
    topic_matcher,
)


def render_edition(
    config: Config,
    briefing: Briefing,
    edition: Edition,
    *,
    env: Any = None,
    titles: Mapping[str, str] | None = None,
    order: Sequence[str] = (),
    sent: bool = False,
) -> render.Rendered:
    """Every file of an edition, as the build writes it, the sender sends it and the desk
    shows it. ``order`` is a PRO reader's industries: an industry weekly shows the stories
    :func:`compose.for_reader` takes for that reader (or for everyone, without), while the
    whole ``edition.json`` keeps every story the edition holds, for the sender.

    ``sent`` renders for a mailbox: links start at ``[delivery] base_url`` (which is
    ``settings.base_url`` unless set), since a link relative to the edition's folder means
    nothing there. The files written beside each other keep ``settings.base_url``.
    """
    if titles is None:
        titles = {t.id: t.title for t in topic_matcher(config).topics.values()}
    base_url = config.delivery.base_url if sent else config.settings.base_url
    layout = render.Layout.of(
        briefing,
        topic_titles=titles,
        base_url=base_url,
        upgrade_url=config.settings.upgrade_url,
    )
    shown, order = composing.for_reader(edition, briefing, order)
    if order:
        topics = order + tuple(t for t in briefing.topics if t not in order)
        layout = replace(layout, topics=topics)
    rendered = render.render(
        shown,
        env=env if env is not None else render.environment(config.settings.templates),
        timezone=briefing.timezone,
        layout=layout,
    )
    if len(shown.stories) == len(edition.stories):  # all of it shown
        return rendered
    whole = {**rendered.private, "edition.json": render.edition_json(edition)}
    return replace(rendered, private=whole)


def check_templates(config: Config, *, now: datetime) -> None:
    """Render every template as a build would, with a made-up edition of each briefing
    (free and PRO, as written and as sent), its archive and the catalogue; the first
    failure is a :class:`render.RenderError` naming the file and line."""
    env = render.environment(config.settings.templates)
    titles = {t.id: t.title for t in topic_matcher(config).topics.values()}
    listings = {}
    for briefing in config.briefings:
        edition = render.specimen(briefing, now=now)
        for sent in (False, True):
            render_edition(config, briefing, edition, env=env, titles=titles, sent=sent)
        listed = render.Listed(
            edition=edition.edition,
            title=edition.title,
            generated_at=edition.generated_at,
            stories=len(edition.stories),
            headlines=tuple(story.title for story in edition.stories[:3]),
        )
        listings[briefing.id] = [listed]
        render.archive(
            briefing,
            [listed],
            env=env,
            base_url=config.settings.base_url,
            timezone=briefing.timezone,
        )
    render.catalogue(config.briefings, listings, env=env)


def stray_templates(config: Config) -> list[str]:
    """Files in ``settings.templates`` named like, but not as, a theme file (``web.htm``):
    the built-in file is used instead, one line each. Beside a file of the right name
    (``web.htm`` beside ``web.html``) it is not: theirs is used."""
    import difflib

    folder = config.settings.templates
    if folder is None:
        return []
    found = []
    for path in sorted(folder.iterdir()):
        if path.name in render.TEMPLATE_FILES or not path.is_file():
            continue
        close = difflib.get_close_matches(path.name, render.TEMPLATE_FILES, n=1, cutoff=0.75)
        if close and not (folder / close[0]).is_file():  # else theirs is used, not ours
            found.append(
                f"{path}: not a file of the theme (did you mean {close[0]!r}?); "
                f"the built-in {close[0]} is used"
            )
    return found


def write_archive(config: Config, env: Any) -> None:
    """Each briefing's index of editions and Atom feed, and the index of briefings, after
    moving what earlier versions left in the output folder out of it (:func:`secure_output`)."""
    output = config.settings.output
    if output.is_dir():
        sweep(output)
        secure_output(config, env)
    if config.settings.private.is_dir():  # what a crashed run left there too
        for folder in config.settings.private.iterdir():
            if folder.is_dir() and not folder.name.startswith("."):
                sweep(folder)
    listings = {b.id: render.edition_listing(output / b.id) for b in config.briefings}
    for briefing in config.briefings:
        folder = output / briefing.id
        if not listings[briefing.id]:
            continue
        pages = render.archive(
            briefing,
            listings[briefing.id],
            env=env,
            base_url=config.settings.base_url,
            timezone=briefing.timezone,
        )
        for name, text in pages.items():
            write_file(folder / name, text)
    write_file(
        output / "index.html",
        render.catalogue(config.briefings, listings, env=env),
    )


def secure_output(config: Config, env: Any = None) -> list[Path]:
    """Take every PRO file out of the output folder; return the edition folders changed.

    Versions before the private folder wrote each edition's PRO renderings (``*.pro.*``)
    and its whole ``edition.json`` beside the free files. Such an edition of a configured
    briefing is written again through :func:`publish`: its whole version goes to the
    private folder (kept when it is there already), and the output folder gets the free
    renderings, with today's teasers, and the public ``edition.json``. An edition of a
    briefing no longer configured moves to the private folder whole, since what is PRO
    in it cannot be told. Editions written since are left alone.
    """
    output = config.settings.output
    briefings = {b.id: b for b in config.briefings}
    changed: list[Path] = []
    titles: dict[str, str] = {}
    for briefing_folder in sorted(p for p in output.iterdir() if p.is_dir()):
        if briefing_folder.name.startswith("."):
            continue
        sweep(briefing_folder)
        for folder in sorted(p for p in briefing_folder.iterdir() if p.is_dir()):
            if folder.name.startswith(".") or not _holds_pro(folder):
                continue
            if not titles:
                titles = {t.id: t.title for t in topic_matcher(config).topics.values()}
            briefing = briefings.get(briefing_folder.name)
            _secure_edition(config, briefing, folder, env=env, titles=titles)
            changed.append(folder)
            log.warning("%s: PRO files moved out of the output folder", folder)
        emptied = (
            briefing_folder.name not in briefings
            and changed
            and changed[-1].parent == briefing_folder
        )
        if emptied and not any(briefing_folder.iterdir()):
            briefing_folder.rmdir()
    return changed


PRO_RENDERINGS = ("index.pro.html", "email.pro.html", "email.pro.txt")


def _holds_pro(folder: Path) -> bool:
    """Whether an edition folder in the output holds PRO files: renderings, or a whole
    ``edition.json``."""
    if any((folder / name).exists() for name in PRO_RENDERINGS):
        return True
    try:
        return render.is_whole(json.loads((folder / "edition.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, AttributeError):
        return False


def _secure_edition(
    config: Config,
    briefing: Briefing | None,
    folder: Path,
    *,
    env: Any,
    titles: Mapping[str, str],
) -> None:
    """Move one edition folder's PRO files from the output to the private folder."""
    _, private = edition_folders(config, folder.parent.name, folder.name)
    make_private_root(config)
    try:
        if briefing is None:  # not ours to render again: all of it goes
            if private.exists():
                shutil.rmtree(folder)
            else:
                private.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(folder, private)  # a rename on one file system
            return
    except OSError as exc:
        raise _output_error(folder, exc) from None
    edition = None
    for text in (_text(private / "edition.json"), _text(folder / "edition.json")):
        with contextlib.suppress(ValueError, KeyError, TypeError, AttributeError):
            if text is not None and render.is_whole(json.loads(text)):
                edition = render.edition_from_json(text)
                break
    if edition is not None:
        publish(config, edition, render_edition(config, briefing, edition, env=env, titles=titles))
        return
    kept = {name: _text(private / name) for name in render.PRIVATE_FILES}
    pro = {name: text for name in PRO_RENDERINGS if (text := _text(folder / name)) is not None}
    write_edition(
        private, {**{n: t for n, t in kept.items() if t is not None}, **pro}, public=False
    )
    for name in pro:
        (folder / name).unlink()


def _text(path: Path) -> str | None:
    """The text of ``path``; None when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def write_file(path: Path, text: str) -> None:
    """Write a whole file or nothing: a temporary file, then a rename."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise _output_error(path, exc) from None


def _output_error(path: Path, exc: OSError, key: str = "settings.output") -> OutputError:
    """One line naming the path, the trouble and what to do about it."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = f"free some space there, or set {key} to another disk"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        hint = f"make the folder writable, or set {key} to a writable folder"
    else:
        hint = f"check the folder named in {key}"
    return OutputError(f"{exc.filename or path}: cannot write: {exc.strerror or exc}; {hint}")


STAGING = ".staging-"
REPLACED = ".replaced-"
"""Prefixes of the hidden folders an edition passes through; a crash can leave them."""


def edition_folders(config: Config, briefing_id: str, edition_id: str) -> tuple[Path, Path]:
    """Where one edition's files go: (output folder, private folder)."""
    settings = config.settings
    return (
        settings.output / briefing_id / edition_id,
        settings.private / briefing_id / edition_id,
    )


def publish(
    config: Config, edition: Edition, rendered: render.Rendered, *, public: bool = True
) -> tuple[Path, Path]:
    """Write an edition's private files, then its public ones unless ``public`` is False (a
    draft); return both folders.

    The private folder comes first: an edition that readers can see always has its whole
    version beside it for sending. Only the free renderings and the public
    ``edition.json`` reach the output folder.
    """
    output, private = edition_folders(config, edition.briefing, edition.edition)
    make_private_root(config)
    private = write_edition(private, rendered.private, public=False)
    if not public:
        return output, private
    return write_edition(output, rendered.public), private


def publish_approved(config: Config, briefing_id: str, edition_id: str) -> Path:
    """Write an approved draft's files, read back from its whole edition, and the archive
    pages that list it; return its folder in the output folder.

    Its private files are written again too, before the public ones replace the folder: a
    draft an earlier version wrote has its whole edition in the output folder only."""
    briefing = config.briefing(briefing_id)
    edition = read_edition(config, briefing_id, edition_id)
    env = render.environment(config.settings.templates)
    path, _ = publish(config, edition, render_edition(config, briefing, edition, env=env))
    write_archive(config, env)
    return path


def make_private_root(config: Config) -> None:
    """Create ``settings.private`` readable by its owner only, if it is missing."""
    try:
        config.settings.private.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise _output_error(config.settings.private, exc, "settings.private") from None


def read_edition(
    config: Config, briefing_id: str, edition_id: str, *, recorded: str = ""
) -> Edition:
    """The whole edition, PRO stories in full, as its build wrote it: from the private
    folder, or else from ``recorded`` (the store's path) or the output folder when an
    earlier version wrote it there and no build has moved it yet. A public
    ``edition.json`` (PRO stories as teasers) is never taken for it."""
    public, private = edition_folders(config, briefing_id, edition_id)
    places = [private, *([Path(recorded)] if recorded else []), public]
    for folder in places:
        path = folder / "edition.json"
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise BriefingsError(f"{path}: cannot read the edition: {exc.strerror}") from None
        try:
            if render.is_whole(json.loads(text)):
                return render.edition_from_json(text)
        except (ValueError, KeyError, TypeError) as exc:
            raise BriefingsError(f"{path}: not an edition.json: {exc}") from None
    raise BriefingsError(
        f"{briefing_id} {edition_id}: the whole edition is not in {private}; "
        f"rebuild it (briefings build {briefing_id})"
    )


def pro_page(
    config: Config, briefing_id: str, edition_id: str, industries: Sequence[str]
) -> str | None:
    """The PRO web page of an edition as a PRO reader with these ``industries`` gets it:
    an industry weekly holding stories of their picks is rendered for them, as their email
    is (:func:`compose.for_reader`); any other page is the one its build wrote to the
    private folder. None when there is no such edition."""
    briefing = next((b for b in config.briefings if b.id == briefing_id), None)
    if briefing is not None and briefing.format == "industry" and industries:
        try:
            edition = read_edition(config, briefing_id, edition_id)
        except BriefingsError:
            return None
        if composing.for_reader(edition, briefing, industries)[1]:
            return render_edition(config, briefing, edition, order=industries).private[
                "index.pro.html"
            ]
    _, private = edition_folders(config, briefing_id, edition_id)
    try:
        return (private / "index.pro.html").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def write_edition(folder: Path, files: dict[str, str], *, public: bool = True) -> Path:
    """Write the edition folder whole or not at all: a temporary folder, then a rename.

    An existing edition of that id is renamed aside first and deleted after, so a crash
    at any moment leaves either edition whole (the old one perhaps hidden), never a mix.
    A ``public`` folder is made readable by all, for publishing; a private one stays
    its owner's.
    """
    staging: Path | None = None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        sweep(folder.parent)
        staging = Path(tempfile.mkdtemp(prefix=f"{STAGING}{folder.name}-", dir=folder.parent))
        if public:
            staging.chmod(0o755)  # mkdtemp makes it private; an edition is for publishing
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8")
        old = None
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f"{REPLACED}{folder.name}-", dir=folder.parent))
            folder.replace(old / folder.name)
        staging.rename(folder)
        staging = None
        if old is not None:
            shutil.rmtree(old)
    except OSError as exc:
        raise _output_error(
            folder, exc, "settings.output" if public else "settings.private"
        ) from None
    finally:
        if staging is not None:  # not renamed: failed, or interrupted (Ctrl-C)
            shutil.rmtree(staging, ignore_errors=True)
    return folder


def sweep(folder: Path) -> None:
    """Remove what a crashed run left in a briefing's folder: staging and replaced
    edition folders, and temporary files. Runs hold the store's lock, so none is live."""
    for path in folder.glob(".*"):
        if path.is_dir() and path.name.startswith(REPLACED):
            for kept in path.iterdir():  # the run stopped between the two renames
                if not (folder / kept.name).exists():
                    kept.rename(folder / kept.name)
        if path.is_dir() and path.name.startswith((STAGING, REPLACED)):
            shutil.rmtree(path, ignore_errors=True)
        elif path.is_file() and path.name.endswith(".tmp"):
            path.unlink(missing_ok=True)
